// Several replicas on one PostgreSQL database: each keeps figures computed from the database (balance
// reports) under a change stamp that its own writes move (Database.changeStamp). Writes made by the
// other replicas move it too through this feed: every write transaction that may change a cluster's
// balancing inputs sends a NOTIFY at its commit, and each replica LISTENs on a connection of its own.
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Client, Notification } from 'pg';
import { EntityManager } from 'typeorm';

export const CHANGES_CHANNEL = 'drs_changes';
/** How long the feed waits before connecting again after its connection dropped (PostgreSQL restarted, say). */
const RECONNECT_MS = 1000;

/** What a notification carries: who wrote, and the clusters whose inputs changed (null: any cluster's). */
interface Change {
  from: string;
  clusters: string[] | null;
}

export class ChangeFeed {
  private readonly logger = new Logger('Database');
  /** This process: its own notifications are ignored (its writes moved its stamps already). */
  private readonly self = randomUUID();
  private client: Client | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly changed: (clusters: string[] | null) => void,
  ) {}

  /** Inside a write transaction: the other replicas hear of it once it commits (and never if it rolls back). */
  async announce(m: EntityManager, clusters: string[] | null): Promise<void> {
    const change: Change = { from: this.self, clusters };
    await m.query(`SELECT pg_notify($1, $2)`, [CHANGES_CHANNEL, JSON.stringify(change)]);
  }

  start(): void {
    if (this.closed || this.client) return;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Client: PgClient } = require('pg') as typeof import('pg');
    const client = new PgClient({ connectionString: this.url, application_name: 'drs-scheduler changes' });
    this.client = client;
    const retry = (err?: unknown) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.removeAllListeners();
      client.end().catch(() => undefined);
      if (this.closed) return;
      if (err) this.logger.warn({ error: (err as Error).message }, 'change feed lost its connection; connecting again');
      // Whatever was written meanwhile went unheard: every figure kept is dropped.
      this.changed(null);
      this.timer = setTimeout(() => this.start(), RECONNECT_MS);
      this.timer.unref();
    };
    client.on('error', retry);
    client.on('end', () => retry(new Error('connection ended')));
    client.on('notification', (n: Notification) => this.hear(n));
    client
      .connect()
      .then(() => client.query(`LISTEN ${CHANGES_CHANNEL}`))
      .then(() => this.changed(null))
      .catch(retry);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }

  private hear(n: Notification): void {
    try {
      const change = JSON.parse(n.payload ?? '') as Change;
      if (change.from === this.self) return;
      this.changed(Array.isArray(change.clusters) ? change.clusters : null);
    } catch {
      this.changed(null);
    }
  }
}
