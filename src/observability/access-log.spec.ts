import express from 'express';
import { AddressInfo } from 'net';
import http from 'http';
import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import request from 'supertest';
import { accessLog } from './access-log';

describe('accessLog', () => {
  const root = PinoLogger.root;
  let lines: Record<string, unknown>[];
  let arrived: () => void = () => undefined;

  function app(level: string) {
    lines = [];
    (PinoLogger as { root: unknown }).root = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const server = express();
    server.use(accessLog());
    server.get('/ok', (_req, res) => res.json({ ok: true }));
    server.post('/ok', (_req, res) => res.status(201).json({ ok: true }));
    server.get('/broken', (_req, res) => res.status(500).json({}));
    // Never answers.
    server.get('/slow', () => arrived());
    return server;
  }

  afterAll(() => ((PinoLogger as { root: unknown }).root = root));

  it('logs refused and failed requests at warn and error, never their headers, and the rest only at debug', async () => {
    const server = app('info');
    await request(server).get('/ok').set('authorization', 'Bearer drs_secret').expect(200);
    await request(server).post('/ok').set('authorization', 'Bearer drs_secret').expect(201);
    await request(server).get('/missing?x=1').set('authorization', 'Bearer drs_secret').expect(404);
    await request(server).get('/broken').expect(500);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'request completed',
        request: expect.objectContaining({ method: 'GET', url: '/missing?x=1' }),
        statusCode: 404,
      }),
      expect.objectContaining({ level: 50, request: expect.objectContaining({ method: 'GET', url: '/broken' }), statusCode: 500 }),
    ]);
    expect(lines[0].request).toHaveProperty('remoteAddress');
    expect(JSON.stringify(lines)).not.toMatch(/drs_secret|authorization/i);

    const debugging = app('debug');
    await request(debugging).get('/ok').expect(200);
    await request(debugging).post('/ok').set('authorization', 'Bearer drs_secret').expect(201);
    expect(lines).toEqual([
      expect.objectContaining({ level: 20, request: expect.objectContaining({ method: 'GET', url: '/ok' }), statusCode: 200 }),
      expect.objectContaining({ level: 20, request: expect.objectContaining({ method: 'POST', url: '/ok' }), statusCode: 201 }),
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/drs_secret|authorization/i);
  });

  it('logs a request whose client went away before the answer at warn, as aborted', async () => {
    const listening = app('info').listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    try {
      const { port } = listening.address() as AddressInfo;
      const there = new Promise<void>((resolve) => (arrived = resolve));
      const client = http.get({ host: '127.0.0.1', port, path: '/slow?x=2' }).on('error', () => undefined);
      await there;
      client.destroy();
      for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(lines).toEqual([
        expect.objectContaining({
          level: 40,
          msg: 'request aborted',
          request: expect.objectContaining({ method: 'GET', url: '/slow?x=2' }),
        }),
      ]);
      expect(lines[0]).not.toHaveProperty('statusCode');
    } finally {
      await new Promise((resolve) => listening.close(resolve));
    }
  });
});
