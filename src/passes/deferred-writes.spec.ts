import type { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '../common/domain-error';
import type { Database } from '../database/database.service';
import { DeferredWrites } from './deferred-writes';

/** A database that refuses every transaction while `down` (as SQLite does when locked), and records what is written. */
function database() {
  const state = { down: false, written: [] as string[] };
  const db = {
    transaction: async (write: (m: EntityManager) => Promise<unknown>) => {
      if (state.down) throw Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' });
      return write({} as EntityManager);
    },
  } as unknown as Database;
  return { db, state };
}

function logger() {
  const lines: { level: string; message: string }[] = [];
  const log = (level: string) => (_context: unknown, message: string) => lines.push({ level, message });
  return { logger: { warn: log('warn'), error: log('error') } as unknown as Logger, lines };
}

describe('DeferredWrites', () => {
  it('keeps pass records while the database refuses them and writes them in order once it takes them', async () => {
    const { db, state } = database();
    const writes = new DeferredWrites(db, logger().logger);
    state.down = true;
    writes.push('c1', async () => state.written.push('first'));
    writes.push('c1', async () => state.written.push('second'));
    await writes.flush();
    expect(state.written).toEqual([]);
    state.down = false;
    await writes.flush();
    expect(state.written).toEqual(['first', 'second']);
    await writes.flush();
    expect(state.written).toEqual(['first', 'second']);
  });

  it('drops a record refused because another replica owns the cluster now, with a warning, and writes the next ones', async () => {
    const { db, state } = database();
    const { logger: log, lines } = logger();
    const writes = new DeferredWrites(db, log);
    writes.push('lost', async () => {
      throw new DomainError(ErrorCode.Unavailable, 'This replica (r2) no longer owns cluster lost: the pass was not recorded');
    });
    writes.push('kept', async () => state.written.push('kept'));
    await writes.flush();
    expect(state.written).toEqual(['kept']);
    expect(lines).toEqual([{ level: 'warn', message: expect.stringContaining('no longer owns cluster lost') }]);
    await writes.flush();
    expect(state.written).toEqual(['kept']);
  });
});
