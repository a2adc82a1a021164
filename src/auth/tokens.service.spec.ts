import { createSecretKey, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../common/clock';
import { DomainError, ErrorCode } from '../common/domain-error';
import type { ServerSettings } from '../common/server.settings';
import type { Database } from '../database/database.service';
import type { EventsService } from '../events/events.service';
import { ServiceKey } from '../secrets/service-key';
import { ApiTokenEntity } from './api-token.entity';
import * as tokens from './tokens';
import { TokensService } from './tokens.service';

/** One api_tokens table in memory, behind the few calls the service makes on the database. */
function fakeDatabase(rows: ApiTokenEntity[]) {
  const matches = (row: ApiTokenEntity, where: Partial<ApiTokenEntity>) =>
    Object.entries(where).every(([k, v]) => row[k as keyof ApiTokenEntity] === v);
  const manager = {
    findOne: async (_: unknown, { where }: { where: Partial<ApiTokenEntity> }) => {
      const row = rows.find((r) => matches(r, where));
      return row ? { ...row } : null;
    },
    update: async (_: unknown, where: Partial<ApiTokenEntity>, values: Partial<ApiTokenEntity>) => {
      const hit = rows.filter((r) => matches(r, where));
      for (const row of hit) Object.assign(row, values);
      return { affected: hit.length };
    },
  };
  return { reader: manager, transaction: (work: (m: unknown) => Promise<unknown>) => work(manager) } as unknown as Database;
}

function service(rows: ApiTokenEntity[], serviceKey = new ServiceKey(randomBytes(32), 'test')) {
  return new TokensService(fakeDatabase(rows), {} as Clock, {} as ServerSettings, {} as EventsService, serviceKey);
}

async function legacyRow(name = 'old ci'): Promise<{ row: ApiTokenEntity; token: string }> {
  const token = tokens.issueToken(createSecretKey(randomBytes(32))).token;
  const { keyId, secret } = tokens.parseToken(token)!;
  const { salt, hash } = await tokens.legacyScryptHash(secret);
  const row: ApiTokenEntity = {
    id: `id-${keyId}`,
    keyId,
    name,
    role: 'operator',
    hashScheme: 'scrypt',
    salt,
    hash,
    createdAt: 1,
    revokedAt: null,
  };
  return { row, token };
}

const wrong = (token: string) => token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));

describe('checking tokens', () => {
  afterEach(() => jest.restoreAllMocks());

  it('verifies an HMAC row with the service key, and names the token in the principal', async () => {
    const serviceKey = new ServiceKey(randomBytes(32), 'test');
    const issued = tokens.issueToken(tokens.tokenHmacKey(serviceKey));
    const row: ApiTokenEntity = {
      id: 'id-1',
      keyId: issued.keyId,
      name: 'ci',
      role: 'viewer',
      hashScheme: 'hmac-sha256',
      salt: '',
      hash: issued.hash,
      createdAt: 1,
      revokedAt: null,
    };
    const scrypt = jest.spyOn(tokens, 'scryptMatches');
    expect(await service([row], serviceKey).authenticate(issued.token)).toEqual({ tokenId: 'id-1', name: 'ci', role: 'viewer' });
    expect(await service([row], serviceKey).authenticate(wrong(issued.token))).toBeUndefined();
    // the same row under another service key: refused
    expect(await service([row]).authenticate(issued.token)).toBeUndefined();
    expect(scrypt).not.toHaveBeenCalled();
  });

  it('verifies a legacy scrypt row once, then stores it as HMAC, which keeps working without scrypt', async () => {
    const { row, token } = await legacyRow();
    const rows = [row];
    const scryptHash = row.hash;
    const serviceKey = new ServiceKey(randomBytes(32), 'test');
    const scrypt = jest.spyOn(tokens, 'scryptMatches');

    expect(await service(rows, serviceKey).authenticate(wrong(token))).toBeUndefined();
    expect(rows[0].hashScheme).toBe('scrypt');

    expect(await service(rows, serviceKey).authenticate(token)).toEqual({ tokenId: row.id, name: 'old ci', role: 'operator' });
    expect(rows[0]).toMatchObject({ hashScheme: 'hmac-sha256', salt: '' });
    expect(rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].hash).not.toBe(scryptHash);
    expect(scrypt).toHaveBeenCalledTimes(2);

    // a fresh service (no cached verdict) checks the upgraded row with HMAC only
    expect(await service(rows, serviceKey).authenticate(token)).toEqual({ tokenId: row.id, name: 'old ci', role: 'operator' });
    expect(await service(rows, serviceKey).authenticate(wrong(token))).toBeUndefined();
    expect(scrypt).toHaveBeenCalledTimes(2);
  });

  it('runs legacy scrypt checks one at a time, and turns guesses away with a 503 beyond the queue', async () => {
    const { row, token } = await legacyRow();
    const real = tokens.scryptMatches;
    let running = 0;
    let most = 0;
    jest.spyOn(tokens, 'scryptMatches').mockImplementation(async (...args) => {
      most = Math.max(most, ++running);
      try {
        await delay(5);
        return await real(...args);
      } finally {
        running--;
      }
    });
    const tokensService = service([row]);
    // 40 different wrong secrets for the known key id, at once
    const guesses = Array.from(
      { length: 40 },
      (_, i) => `${token.slice(0, -2)}${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`,
    );
    const outcomes = await Promise.allSettled(guesses.filter((g) => g !== token).map((g) => tokensService.authenticate(g)));
    expect(most).toBe(1);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    const checked = outcomes.filter((o) => o.status === 'fulfilled');
    expect(checked.length).toBeGreaterThan(0);
    for (const o of checked) expect((o as PromiseFulfilledResult<unknown>).value).toBeUndefined();
    expect(refused.length).toBeGreaterThan(0);
    for (const o of refused) expect(o.reason).toEqual(expect.objectContaining({ code: ErrorCode.Unavailable }));
    expect(refused[0].reason).toBeInstanceOf(DomainError);
    // once the queue has drained, the real token gets through (and is upgraded)
    expect(await tokensService.authenticate(token)).toMatchObject({ tokenId: row.id });
  }, 30_000);
});
