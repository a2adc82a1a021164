// A TCP relay in front of PostgreSQL: the app connects through it, and the test cuts it (new connections
// refused, open ones dropped, as when the server goes down or restarts) and restores it.
import { connect, createServer, Server, Socket } from 'node:net';

/** Relays connections to the server until cut; `restore` listens again on the same port. */
export class Relay {
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
