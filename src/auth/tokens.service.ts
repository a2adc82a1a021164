import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { DomainError } from '../common/domain-error';
import { Page } from '../common/pagination';
import { AppConfig } from '../config/app-config';
import { Database } from '../database/database.service';
import { EventsService } from '../events/events.service';
import { ApiTokenEntity, Role } from './api-token.entity';
import { countActiveTokens, createToken, CreatedToken, revokeToken, TokenView, toTokenView } from './token-store';
import { digest, isLoopback, parseToken, secretMatches } from './tokens';

export interface Principal {
  tokenId: string;
  role: Role;
}

/**
 * Verifying a token costs an scrypt hash (tens of ms), so verdicts are kept in memory for a few
 * seconds, keyed by a SHA-256 digest of the token (the token itself is never kept). Revoking through
 * the API takes effect at once; revoking with the CLI, within VERDICT_TTL_MS.
 */
const VERDICT_TTL_MS = 10_000;
const COUNT_TTL_MS = 2_000;
const MAX_VERDICTS = 10_000;

@Injectable()
export class TokensService {
  private readonly verdicts = new Map<string, { principal: Principal | undefined; until: number }>();
  private active: { count: number; until: number } | undefined;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly events: EventsService,
  ) {}

  /** Tokens are required when any exists, and always when the service listens beyond loopback. */
  async required(): Promise<boolean> {
    if (!isLoopback(this.config.get('HOST'))) return true;
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
    const now = Date.now();
    const cached = this.verdicts.get(key);
    if (cached && cached.until > now) return cached.principal;
    const principal = await this.verify(token);
    if (this.verdicts.size >= MAX_VERDICTS) this.verdicts.clear();
    this.verdicts.set(key, { principal, until: now + VERDICT_TTL_MS });
    return principal;
  }

  private async verify(token: string): Promise<Principal | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const row = await this.db.reader.findOne(ApiTokenEntity, { where: { keyId: parsed.keyId } });
    if (!row || row.revokedAt !== null) return undefined;
    return (await secretMatches(parsed.secret, row.salt, row.hash)) ? { tokenId: row.id, role: row.role } : undefined;
  }

  async create(role: Role, name: string): Promise<CreatedToken> {
    const created = await this.db.transaction(async (m) => {
      const token = await createToken(m, role, name, this.clock.now());
      await this.events.recordIn(m, { subjectType: 'token', subjectId: token.id, type: 'token.created', message: `API token "${name}" created with role ${role}` });
      return token;
    });
    this.forget();
    return created;
  }

  async list(limit = 50, offset = 0): Promise<Page<TokenView>> {
    const [rows, total] = await this.db.reader.findAndCount(ApiTokenEntity, { order: { createdAt: 'DESC', id: 'ASC' }, take: limit, skip: offset });
    return { items: rows.map(toTokenView), total, limit, offset };
  }

  async revoke(id: string): Promise<TokenView> {
    const row = await this.db.transaction(async (m) => {
      const result = await revokeToken(m, id, this.clock.now());
      if (!result) throw DomainError.notFound('Token', id);
      const { row, revoked } = result;
      if (revoked) await this.events.recordIn(m, { subjectType: 'token', subjectId: id, type: 'token.revoked', message: `API token "${row.name}" (${row.role}) revoked` });
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
