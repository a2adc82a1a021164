import { Injectable } from '@nestjs/common';
import { withOverrides } from './balancing-policy';
import { assertVersion } from '../common/database-helpers';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { EventsService } from '../events/events.service';
import { requireClusterFound } from '../inventory/inventory.repository';
import { PoliciesSettings } from './policies.settings';
import { ClusterPolicyEntity } from './cluster-policy.entity';
import { ClusterPolicy, DEFAULT_CLUSTER_POLICY } from './policy';
import { ClusterPolicyDto, ClusterPolicyView, PutClusterPolicyDto } from './policy.dto';

/** The defaults with the stored settings over them, then the request's what-if overrides. */
export function resolvePolicy(
  stored: Record<string, unknown> = {},
  overrides: ClusterPolicyDto = {},
  defaults: ClusterPolicy = DEFAULT_CLUSTER_POLICY,
): ClusterPolicy {
  return withOverrides(withOverrides({ ...defaults }, stored as Partial<ClusterPolicy>), overrides as Partial<ClusterPolicy>);
}

function definedFields(dto: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(dto).filter(([key, value]) => value !== undefined && key !== 'version'));
}

@Injectable()
export class PoliciesService {
  /** The migration engine's configured caps are the default concurrency of every cluster. */
  private readonly defaults: ClusterPolicy;

  constructor(
    private readonly db: Database,
    private readonly events: EventsService,
    migrationSettings: PoliciesSettings,
  ) {
    this.defaults = {
      ...DEFAULT_CLUSTER_POLICY,
      maxConcurrentPerHost: migrationSettings.MIGRATION_MAX_PER_HOST,
      maxConcurrentPerCluster: migrationSettings.MIGRATION_MAX_PER_CLUSTER,
    };
  }

  async get(clusterId: string): Promise<ClusterPolicyView> {
    await requireClusterFound(this.db.reader, clusterId);
    const row = await this.db.reader.findOne(ClusterPolicyEntity, { where: { clusterId } });
    return {
      clusterId,
      policy: resolvePolicy(row?.settings, {}, this.defaults),
      overrides: row?.settings ?? {},
      version: row?.version ?? 0,
    };
  }

  /** The policy in force, with what-if overrides on top (validated like a stored policy). */
  async resolve(clusterId: string, overrides?: ClusterPolicyDto): Promise<ClusterPolicy> {
    const row = await this.db.reader.findOne(ClusterPolicyEntity, { where: { clusterId } });
    return resolvePolicy(row?.settings, overrides, this.defaults);
  }

  /** Replaces the policy: fields left out go back to their defaults. */
  /** `actor`: who asked through the API; null for the service's own settings (the demo, a replay). */
  put(clusterId: string, dto: PutClusterPolicyDto, actor: Actor | null): Promise<ClusterPolicyView> {
    const settings = definedFields(dto);
    resolvePolicy(settings, {}, this.defaults);
    return this.db.transaction(async (m) => {
      await requireClusterFound(m, clusterId);
      const row = await m.findOne(ClusterPolicyEntity, { where: { clusterId } });
      assertVersion({ version: row?.version ?? 0 }, dto.version, 'Policy');
      const saved = await m.save(row ? Object.assign(row, { settings }) : m.create(ClusterPolicyEntity, { clusterId, settings }));
      const fields = Object.keys(settings);
      await this.events.recordIn(m, {
        clusterId,
        subjectType: 'policy',
        subjectId: clusterId,
        type: 'policy.changed',
        message: fields.length
          ? `Policy set: ${fields.map((f) => `${f}=${JSON.stringify(settings[f])}`).join(', ')}; defaults for the rest`
          : 'Policy reset to the defaults',
        data: { settings, previous: row?.settings ?? {} },
        actor,
      });
      return { clusterId, policy: resolvePolicy(settings, {}, this.defaults), overrides: settings, version: saved.version };
    });
  }
}
