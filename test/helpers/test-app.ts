import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { Clock } from '../../src/common/clock';
import { databaseEnv, dropDatabasesUnder, onPostgres } from './test-database';

export interface TestApp {
  app: INestApplication;
  http: TestAgent;
  databasePath: string;
  close(): Promise<void>;
}

/** A fresh temporary directory for a SQLite file; removed by `removeTempDir`. */
export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'drs-e2e-'));
}

/**
 * Removes the directory; on PostgreSQL, also drops the databases of the files it held (test-database.ts),
 * in the background: any the run ends before are dropped by its global teardown.
 */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  if (onPostgres) dropDatabasesUnder(dir).catch(() => undefined);
}

/**
 * The real app, configured exactly as main.ts does, on the given (or a new temporary) SQLite file; on
 * PostgreSQL when the specs run there (TEST_DATABASE_URL), on the database standing for that file.
 */
export async function createTestApp(
  options: { databasePath?: string; env?: Record<string, unknown>; clock?: Clock } = {},
): Promise<TestApp> {
  const ownDir = options.databasePath === undefined ? makeTempDir() : undefined;
  const databasePath = options.databasePath ?? join(ownDir!, 'drs.sqlite');
  let app: NestExpressApplication;
  try {
    let builder = Test.createTestingModule({
      imports: [
        AppModule.forRoot({
          DATABASE_PATH: databasePath,
          ...(await databaseEnv(databasePath)),
          LOG_LEVEL: 'silent',
          DEMO_ENABLED: false,
          RATE_LIMIT_MAX: 0,
          ...options.env,
        }),
      ],
    });
    if (options.clock) builder = builder.overrideProvider(Clock).useValue(options.clock);
    const moduleRef = await builder.compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
    configureApp(app);
    await app.init();
  } catch (error) {
    // An app that does not start (a boot check refusing its settings) leaves no folder behind either.
    if (ownDir) removeTempDir(ownDir);
    throw error;
  }
  return {
    app,
    http: request(app.getHttpServer()),
    databasePath,
    close: async () => {
      await app.close();
      // A database of its own no spec can name again: removed now, PostgreSQL's dropped with it.
      if (ownDir) {
        rmSync(ownDir, { recursive: true, force: true });
        if (onPostgres) await dropDatabasesUnder(ownDir);
      }
    },
  };
}

/** A clock that stands still until a test moves it. */
export class FakeClock extends Clock {
  constructor(public current = Date.UTC(2026, 10, 25, 12, 0, 0)) {
    super();
  }

  override now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
