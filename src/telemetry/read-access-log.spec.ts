import express from 'express';
import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import request from 'supertest';
import { readAccessLog } from './read-access-log';

describe('readAccessLog', () => {
  const root = PinoLogger.root;
  let lines: Record<string, unknown>[];

  function app(level: string) {
    lines = [];
    (PinoLogger as { root: unknown }).root = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const server = express();
    server.use(readAccessLog());
    server.get('/ok', (_req, res) => res.json({ ok: true }));
    server.post('/ok', (_req, res) => res.json({ ok: true }));
    server.get('/broken', (_req, res) => res.status(500).json({}));
    return server;
  }

  afterAll(() => ((PinoLogger as { root: unknown }).root = root));

  it('logs refused and failed reads at warn and error, without their headers, and successful ones only at debug', async () => {
    const server = app('info');
    await request(server).get('/ok').set('authorization', 'Bearer drs_secret').expect(200);
    await request(server).get('/missing?x=1').set('authorization', 'Bearer drs_secret').expect(404);
    await request(server).get('/broken').expect(500);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, msg: 'request completed', req: { method: 'GET', url: '/missing?x=1' }, statusCode: 404 }),
      expect.objectContaining({ level: 50, req: { method: 'GET', url: '/broken' }, statusCode: 500 }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('drs_secret');

    const debugging = app('debug');
    await request(debugging).get('/ok').expect(200);
    expect(lines).toEqual([expect.objectContaining({ level: 20, req: { method: 'GET', url: '/ok' }, statusCode: 200 })]);
  });

  it('leaves other methods to pino-http', async () => {
    const server = app('debug');
    await request(server).post('/ok').expect(200);
    expect(lines).toEqual([]);
  });
});
