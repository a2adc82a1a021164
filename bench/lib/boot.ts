// Boots the real app (as main.ts does) on a temporary SQLite file and an ephemeral loopback port.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';

export interface BenchApp {
  app: NestExpressApplication;
  baseUrl: string;
  databasePath: string;
  close(): Promise<void>;
}

export async function bootApp(env: Record<string, unknown> = {}): Promise<BenchApp> {
  const dir = mkdtempSync(join(tmpdir(), 'drs-bench-'));
  const databasePath = join(dir, 'bench.sqlite');
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({ DATABASE_PATH: databasePath, LOG_LEVEL: 'silent', PORT: 0, DEMO_ENABLED: false, ...env }),
    { bodyParser: false, logger: false },
  );
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    databasePath,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer, read as supertest reads one (see eslint.config.mjs)
export async function call(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
