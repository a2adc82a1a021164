import { Injectable, Logger } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { Clock } from '../common/clock';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Page } from '../common/pagination';
import { ServerSettings } from '../common/server.settings';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { EventsService } from '../events/events.service';
import { ServiceKey } from '../secrets/service-key';
import { ApiTokenEntity, Role } from './api-token.entity';
import { countActiveTokens, createToken, CreatedToken, revokeToken, TokenView, toTokenView, upgradeToHmac } from './token-store';
import { digest, hmacMatches, isLoopback, parseToken, scryptMatches, tokenHmacKey } from './tokens';

/** Whom a request's token stands for. Authentication puts it on the request as `request.principal`. */
export interface Principal {
  tokenId: string;
  /** The token's name, as events record it. */
  name: string;
  role: Role;
}

/**
 * Verdicts are kept in memory for a few seconds, keyed by a SHA-256 digest of the token (the token
 * itself is never kept), which spares the database read. Revoking through the API takes effect at
 * once; revoking with the CLI, within VERDICT_TTL_MS.
 */
const VERDICT_TTL_MS = 10_000;
const COUNT_TTL_MS = 2_000;
const MAX_VERDICTS = 10_000;
/**
 * Legacy (scrypt) checks waiting their turn. Each costs tens of ms of a thread-pool thread that
 * sqlite3 needs too, so they run one at a time, and guesses against a legacy key id beyond this many
 * get a 503 instead of a place in the queue.
 */
const MAX_LEGACY_WAITING = 32;

@Injectable()
export class TokensService {
  private readonly logger = new Logger('Tokens');
  private readonly verdicts = new Map<string, { principal: Principal | undefined; until: number }>();
  /** Checks in progress, by digest: the same token sent many times at once is checked once. */
  private readonly checking = new Map<string, Promise<Principal | undefined>>();
  private active: { count: number; until: number } | undefined;
  private readonly hmacKey: KeyObject;
  private legacyTail: Promise<unknown> = Promise.resolve();
  private legacyWaiting = 0;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly server: ServerSettings,
    private readonly events: EventsService,
    serviceKey: ServiceKey,
  ) {
    this.hmacKey = tokenHmacKey(serviceKey);
  }

  /** Tokens are required when any exists, and always when the service listens beyond loopback. */
  async required(): Promise<boolean> {
    if (!isLoopback(this.server.HOST)) return true;
    return (await this.activeCount()) > 0;
  }

  async activeCount(): Promise<number> {
    const now = Date.now();
    if (!this.active || this.active.until <= now) {
      this.active = { count: await countActiveTokens(this.db.reader), until: now + COUNT_TTL_MS };
    }
    return this.active.count;
  }

  /** The principal a bearer token stands for, or undefined for an unknown, malformed or revoked token. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const key = digest(token);
    const cached = this.verdicts.get(key);
    if (cached && cached.until > Date.now()) return cached.principal;
    const inProgress = this.checking.get(key);
    if (inProgress) return inProgress;
    const check = this.verify(token)
      .then((principal) => {
        if (this.verdicts.size >= MAX_VERDICTS) this.verdicts.clear();
        this.verdicts.set(key, { principal, until: Date.now() + VERDICT_TTL_MS });
        return principal;
      })
      .finally(() => this.checking.delete(key));
    this.checking.set(key, check);
    return check;
  }

  private async verify(token: string): Promise<Principal | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const row = await this.db.reader.findOne(ApiTokenEntity, { where: { keyId: parsed.keyId } });
    if (!row || row.revokedAt !== null) return undefined;
    const principal: Principal = { tokenId: row.id, name: row.name, role: row.role };
    if (row.hashScheme === 'hmac-sha256') return hmacMatches(parsed.secret, row.hash, this.hmacKey) ? principal : undefined;
    if (!(await this.legacyCheck(parsed.secret, row))) return undefined;
    try {
      await this.db.transaction((m) => upgradeToHmac(m, row, parsed.secret, this.hmacKey), { affects: [] });
    } catch (err) {
      // The token is valid all the same; the upgrade is tried again on its next check.
      this.logger.warn({ tokenId: row.id, err: (err as Error).message }, 'could not store a legacy token hash as HMAC');
    }
    return principal;
  }

  private legacyCheck(secret: string, row: ApiTokenEntity): Promise<boolean> {
    if (this.legacyWaiting >= MAX_LEGACY_WAITING) {
      return Promise.reject(
        new DomainError(ErrorCode.Unavailable, 'Too many checks of tokens made before this version are waiting: try again shortly'),
      );
    }
    this.legacyWaiting++;
    const run = this.legacyTail.then(() => scryptMatches(secret, row.salt, row.hash)).finally(() => this.legacyWaiting--);
    this.legacyTail = run.catch(() => undefined);
    return run;
  }

  async create(role: Role, name: string, actor: Actor): Promise<CreatedToken> {
    const created = await this.db.transaction(async (m) => {
      const token = await createToken(m, role, name, this.clock.now(), this.hmacKey);
      await this.events.recordIn(m, {
        subjectType: 'token',
        subjectId: token.id,
        type: 'token.created',
        message: `API token "${name}" created with role ${role}`,
        actor,
      });
      return token;
    });
    this.forget();
    return created;
  }

  async list(limit = 50, offset = 0): Promise<Page<TokenView>> {
    const [rows, total] = await this.db.reader.findAndCount(ApiTokenEntity, {
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items: rows.map(toTokenView), total, limit, offset };
  }

  async revoke(id: string, actor: Actor): Promise<TokenView> {
    const row = await this.db.transaction(async (m) => {
      const result = await revokeToken(m, id, this.clock.now());
      if (!result) throw DomainError.notFound('Token', id);
      const { row, revoked } = result;
      if (revoked)
        await this.events.recordIn(m, {
          subjectType: 'token',
          subjectId: id,
          type: 'token.revoked',
          message: `API token "${row.name}" (${row.role}) revoked`,
          actor,
        });
      return row;
    });
    this.forget();
    return toTokenView(row);
  }

  private forget(): void {
    this.verdicts.clear();
    this.active = undefined;
  }
}
