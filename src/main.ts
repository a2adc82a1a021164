import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { listenDecision } from './auth/listen-policy';
import { TokensService } from './auth/tokens.service';
import { AppConfig } from './config/app-config';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(), { bufferLogs: true, bodyParser: false });
  configureApp(app);
  const config = app.get(AppConfig);
  const logger = app.get(Logger);
  const host = config.get('HOST');
  const access = listenDecision(host, await app.get(TokensService).activeCount());
  if (!access.allowed) {
    logger.error(access.message);
    await app.close();
    process.exitCode = 1;
    return;
  }
  await app.listen(config.get('PORT'), host);
  logger.log(access.message);
  logger.log(
    { url: `http://${host}:${config.get('PORT')}`, database: config.get('DATABASE_PATH') },
    `Listening on http://${host}:${config.get('PORT')} (API docs at /docs)`,
  );
}

void bootstrap();
