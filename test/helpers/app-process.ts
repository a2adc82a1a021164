// The real app in a process of its own, for tests that kill it (SIGKILL) and start it again.
// Usage: node -r ts-node/register/transpile-only test/helpers/app-process.ts '<JSON env overrides>'
// Prints "listening <port>" on stdout once it serves. bench/lib/app-process.ts builds on startApp.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AddressInfo } from 'node:net';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';

/** The app as main.ts serves it, with the overrides (JSON in argv[2]), on an ephemeral loopback port; prints "listening <port>". */
export async function startApp(): Promise<NestExpressApplication> {
  const overrides = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ LOG_LEVEL: 'silent', ...overrides }), {
    bodyParser: false,
    logger: false,
  });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  process.stdout.write(`listening ${port}\n`);
  return app;
}

export function exitOnFailure(err: unknown): never {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
}

if (require.main === module) startApp().catch(exitOnFailure);
