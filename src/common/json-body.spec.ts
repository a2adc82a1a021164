import express from 'express';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { jsonBodyReader } from './json-body';

const LIMITS = { maxBytes: 1024 * 1024, maxDepth: 8, maxElements: 1000, maxValues: 5000 };

/** The reader in front of a route that echoes the body and counts how often it ran. */
function app() {
  const calls = { route: 0 };
  const server = express();
  server.use(jsonBodyReader(LIMITS));
  server.all('/{*path}', (req, res) => {
    calls.route++;
    res.json({ body: req.body ?? null });
  });
  return { http: request(server), calls };
}

const post = (http: ReturnType<typeof app>['http'], body: string | Buffer, headers: Record<string, string> = {}) => {
  let test = http.post('/x').set('Content-Type', 'application/json');
  for (const [k, v] of Object.entries(headers)) test = test.set(k, v);
  // superagent would send a Buffer as the JSON text of its bytes; these go as they are.
  return test.serialize((data: unknown) => data as string).send(body);
};

describe('jsonBodyReader', () => {
  it('parses JSON, plain or compressed with gzip, deflate or br', async () => {
    const { http } = app();
    const text = JSON.stringify({ name: 'é', list: [1, 2, 3] });
    expect((await post(http, text).expect(200)).body.body).toEqual({ name: 'é', list: [1, 2, 3] });
    for (const [encoding, data] of [
      ['gzip', gzipSync(text)],
      ['deflate', deflateSync(text)],
      ['br', brotliCompressSync(text)],
    ] as const) {
      expect((await post(http, data, { 'Content-Encoding': encoding }).expect(200)).body.body).toEqual({ name: 'é', list: [1, 2, 3] });
    }
  });

  it('reads an empty JSON body as {}, and leaves a request without body alone', async () => {
    const { http } = app();
    expect((await post(http, '').expect(200)).body.body).toEqual({});
    expect((await http.get('/x').expect(200)).body.body).toBeNull();
  });

  it('refuses other media types, charsets and encodings with 415, before the route', async () => {
    const { http, calls } = app();
    await http.post('/x').set('Content-Type', 'text/plain').send('{"a":1}').expect(415);
    await post(http, '{"a":1}', { 'Content-Type': 'application/json; charset=latin1' }).expect(415);
    const res = await post(http, gzipSync('{"a":1}'), { 'Content-Encoding': 'zstd-or-so' }).expect(415);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.detail).toMatch(/Content-Encoding zstd-or-so/);
    expect(calls.route).toBe(0);
  });

  it('refuses what is not JSON, or JSON that is not an object or array, with 400', async () => {
    const { http, calls } = app();
    for (const body of ['{"a":', '42', '"text"', 'null', "{'a':1}"]) {
      const res = await post(http, body).expect(400);
      expect(res.body).toMatchObject({ status: 400, detail: expect.stringMatching(/not valid JSON/) });
    }
    await post(http, gzipSync('{"a":1}').subarray(0, 10), { 'Content-Encoding': 'gzip' }).expect(400);
    expect(calls.route).toBe(0);
  });

  it('answers 413 at the decompressed limit, for a body small on the wire', async () => {
    const { http, calls } = app();
    // 64 MiB of spaces inflate from about 64 KB; the limit is 1 MiB.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(100 * 1024);
    const res = await post(http, bomb, { 'Content-Encoding': 'gzip' }).expect(413);
    expect(res.body).toMatchObject({ status: 413, detail: expect.stringMatching(/larger than the service accepts/) });
    await post(http, `"${'x'.repeat(LIMITS.maxBytes)}"`).expect(413);
    expect(calls.route).toBe(0);
  });

  it('refuses a shape past the caps with 400 naming the field, before the route', async () => {
    const { http, calls } = app();
    const wide = await post(http, gzipSync(`{"samples":[${Array(200_000).fill('{}').join(',')}]}`), { 'Content-Encoding': 'gzip' }).expect(
      400,
    );
    expect(wide.body.errors).toEqual([expect.objectContaining({ field: 'samples', rule: 'maxElements' })]);
    const deep = await post(http, `{"a":${'['.repeat(20)}${']'.repeat(20)}}`).expect(400);
    expect(deep.body.errors[0]).toMatchObject({ field: expect.stringMatching(/^a\.0/), rule: 'maxDepth' });
    const proto = await post(http, '{"ok":1,"__proto__":{"admin":true}}').expect(400);
    expect(proto.body.errors[0]).toMatchObject({ field: '__proto__', message: '__proto__ is not an accepted field' });
    expect(calls.route).toBe(0);
  });
});
