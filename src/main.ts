import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { AppConfig } from './config/app-config';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(), { bufferLogs: true, bodyParser: false });
  configureApp(app);
  const config = app.get(AppConfig);
  await app.listen(config.get('PORT'), config.get('HOST'));
  app.get(Logger).log(
    { url: `http://${config.get('HOST')}:${config.get('PORT')}`, database: config.get('DATABASE_PATH') },
    `Listening on http://${config.get('HOST')}:${config.get('PORT')} (API docs at /docs)`,
  );
}

void bootstrap();
