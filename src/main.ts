import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { listenDecision } from './auth/listen-policy';
import { TokensService } from './auth/tokens.service';
import { ServerSettings } from './common/server.settings';
import { maskDatabaseUrl } from './database/database-url';
import { DatabaseSettings } from './database/database.settings';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(), { bufferLogs: true, bodyParser: false });
  configureApp(app);
  const server = app.get(ServerSettings);
  const logger = app.get(Logger);
  const host = server.HOST;
  const access = listenDecision(host, await app.get(TokensService).activeCount());
  if (!access.allowed) {
    logger.error(access.message);
    await app.close();
    process.exitCode = 1;
    return;
  }
  await app.listen(server.PORT, host);
  logger.log(access.message);
  const database = app.get(DatabaseSettings);
  logger.log(
    {
      url: `http://${host}:${server.PORT}`,
      database: database.DATABASE_URL ? maskDatabaseUrl(database.DATABASE_URL) : database.DATABASE_PATH,
    },
    `Listening on http://${host}:${server.PORT} (API docs at /docs)`,
  );
}

void bootstrap();
