// PostgreSQL unreachable (a restart, a failover, the network): requests answer 503 with Retry-After,
// not 500, nothing is half-written, and the app recovers by itself once the server answers again. The
// app reaches the server through a TCP relay the spec cuts. It needs a server: it runs in the suite's
// PostgreSQL run (TEST_DATABASE_URL; CI's Node 24 run).
import { createServer, connect, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { createTestApp, makeTempDir, removeTempDir, TestApp } from './helpers/test-app';
import { ensureDatabase, onPostgres } from './helpers/test-database';

/** Relays connections to the server until cut; `restore` listens again on the same port. */
class Relay {
  private server: Server = createServer((client) => this.relay(client));
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: URL) {}

  private relay(client: Socket): void {
    const upstream = connect(Number(this.target.port || 5432), this.target.hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      this.sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', () => resolve()));
  }

  async start(): Promise<void> {
    await this.listen();
    this.port = (this.server.address() as { port: number }).port;
  }

  /** New connections are refused and open ones cut, as when the server goes down. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  restore(): Promise<void> {
    this.server = createServer((client) => this.relay(client));
    return this.listen();
  }
}

if (onPostgres) {
  describe('PostgreSQL unreachable', () => {
    const dir = makeTempDir();
    let relay: Relay;
    let t: TestApp;

    beforeAll(async () => {
      const databasePath = join(dir, 'drs.sqlite');
      const url = new URL(await ensureDatabase(databasePath));
      relay = new Relay(url);
      await relay.start();
      const relayed = new URL(url);
      relayed.hostname = '127.0.0.1';
      relayed.port = String(relay.port);
      t = await createTestApp({ databasePath, env: { DATABASE_URL: relayed.toString(), SCHEDULER_ENABLED: false } });
    });

    afterAll(async () => {
      await t?.close();
      await relay?.cut();
      removeTempDir(dir);
    });

    it('answers 503 with Retry-After meanwhile, writes nothing half, and serves again once it is back', async () => {
      const kept = (await t.http.post('/api/v1/clusters').send({ name: 'before the outage' }).expect(201)).body;

      await relay.cut();
      for (const res of [
        await t.http.get('/api/v1/clusters'),
        await t.http.get(`/api/v1/clusters/${kept.id}`),
        await t.http.post('/api/v1/clusters').send({ name: 'during the outage' }),
      ]) {
        expect(res.status).toBe(503);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(res.headers['retry-after']).toBe('2');
        expect(res.body.detail).toMatch(/unreachable/);
      }

      await relay.restore();
      const deadline = Date.now() + 15_000;
      let res = await t.http.get('/api/v1/clusters');
      while (res.status !== 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        res = await t.http.get('/api/v1/clusters');
      }
      expect(res.status).toBe(200);
      expect(res.body.items.map((c: { name: string }) => c.name)).toEqual(['before the outage']);
      await t.http.post('/api/v1/clusters').send({ name: 'after the outage' }).expect(201);
    });
  });
}
