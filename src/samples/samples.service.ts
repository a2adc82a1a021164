import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { DomainError, ErrorCode, FieldProblem } from '../common/domain-error';
import { Database } from '../database/database.service';
import { MetricsRecorder } from '../observability/metrics-recorder';
import { SamplesSettings } from './samples.settings';
import { SampleInput, sampleBodyProblems, timestampMs } from './sample-input';
import { SubjectKind } from './sample.entity';
import { subjectsBy } from '../inventory/inventory.repository';
import { historyPoints, insertSamples, isMissingPartition } from './samples.repository';
import { SamplePartitions } from './sample-partitions.service';
import { DemandService } from './demand.service';

const MAX_HISTORY_POINTS = 10_000;

interface Subject {
  id: string;
  kind: SubjectKind;
  clusterId: string;
}

export type { HistoryPoint } from './samples.repository';

export interface HistoryQuery {
  from?: number;
  to?: number;
  stepSeconds?: number;
}

/** Bulk ingestion and history of utilization samples. */
@Injectable()
export class SamplesService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly settings: SamplesSettings,
    private readonly metrics: MetricsRecorder,
    private readonly partitions: SamplePartitions,
    private readonly demand: DemandService,
  ) {}

  /** Validates every sample, then writes all of them in one transaction, or none. */
  async ingest(body: unknown): Promise<{ accepted: number }> {
    const shape = sampleBodyProblems(body);
    if (shape.length > 0) throw new DomainError(ErrorCode.Invalid, `${shape.length} problem(s) in the samples`, shape);
    const samples = (body as { samples: SampleInput[] }).samples;

    const problems: FieldProblem[] = [];
    const times = this.checkTimes(samples, problems);
    const subjects = await this.resolveSubjects(samples, problems);
    if (problems.length > 0) {
      throw new DomainError(ErrorCode.Unprocessable, `${problems.length} sample(s) refused; nothing was written`, problems.slice(0, 100));
    }

    const rows = samples.map((s, i) => {
      const subject = subjects[i] as Subject;
      return [
        subject.clusterId,
        times[i],
        subject.id,
        subject.kind,
        s.cpuMhz,
        s.memoryActiveMib,
        s.memoryConsumedMib,
        s.memoryDirtyMibPerSecond ?? null,
        s.cpuReadyPercent ?? null,
      ];
    });
    const clusters = new Set(subjects.map((s) => (s as Subject).clusterId));
    // PostgreSQL: the days' partitions first, outside the insert's transaction (known days cost nothing).
    await this.partitions.ensure('samples', times);
    const insert = () => this.db.transaction((m) => insertSamples(m, rows), { affects: clusters });
    try {
      await insert();
    } catch (err) {
      // A day dropped since it was cached (by another process's retention): made again, then once more.
      if (!isMissingPartition(err)) throw err;
      this.partitions.forget('samples', times);
      await this.partitions.ensure('samples', times);
      await insert();
    }
    // A VM sample older than what the swing ledgers keep makes its cluster's ledger be read afresh.
    const oldest = new Map<string, number>();
    for (const [i, subject] of subjects.entries()) {
      const { clusterId, kind } = subject as Subject;
      if (kind === 'vm' && times[i] < (oldest.get(clusterId) ?? Infinity)) oldest.set(clusterId, times[i]);
    }
    for (const [clusterId, at] of oldest) this.demand.samplesWritten(clusterId, at);
    this.metrics.samplesIngested(samples.length);
    return { accepted: samples.length };
  }

  private checkTimes(samples: SampleInput[], problems: FieldProblem[]): number[] {
    const now = this.clock.now();
    const latest = now + this.settings.SAMPLE_MAX_CLOCK_SKEW_SECONDS * 1000;
    const earliest = now - this.settings.SAMPLE_ROLLUP_RETENTION_DAYS * 86_400_000;
    return samples.map((s, i) => {
      const ms = timestampMs(s.timestamp);
      const field = `samples.${i}.timestamp`;
      if (Number.isNaN(ms)) problems.push({ field, message: `${field} is not an ISO-8601 date-time` });
      else if (ms > latest)
        problems.push({
          field,
          message: `${field} is ${Math.round((ms - now) / 1000)} s in the future (allowed skew ${(latest - now) / 1000} s)`,
        });
      else if (ms < earliest) problems.push({ field, message: `${field} is older than the retention of the roll-ups` });
      return Math.round(ms);
    });
  }

  /** Finds each sample's VM or host: by id, or by cluster and name. */
  private async resolveSubjects(samples: SampleInput[], problems: FieldProblem[]): Promise<(Subject | undefined)[]> {
    const m = this.db.reader;
    const vmIds = new Set<string>();
    const hostIds = new Set<string>();
    const vmNames = new Map<string, Set<string>>();
    const hostNames = new Map<string, Set<string>>();
    const add = (map: Map<string, Set<string>>, clusterId: string, name: string) => {
      if (!map.has(clusterId)) map.set(clusterId, new Set());
      map.get(clusterId)!.add(name);
    };
    samples.forEach((s, i) => {
      const forms = [s.vmId, s.hostId, s.vmName, s.hostName].filter((v) => v !== undefined).length;
      const named = s.vmName !== undefined || s.hostName !== undefined;
      if (forms !== 1 || named !== (s.clusterId !== undefined)) {
        problems.push({
          field: `samples.${i}`,
          message: `samples.${i} must name one subject: vmId, hostId, or clusterId with vmName or hostName`,
        });
      } else if (s.vmId) vmIds.add(s.vmId);
      else if (s.hostId) hostIds.add(s.hostId);
      else if (s.vmName) add(vmNames, s.clusterId!, s.vmName);
      else add(hostNames, s.clusterId!, s.hostName!);
    });
    if (problems.length > 0) return [];

    const vmsById = await subjectsBy(m, 'vm', 'id', [...vmIds]);
    const hostsById = await subjectsBy(m, 'host', 'id', [...hostIds]);
    const byName = async (kind: 'vm' | 'host', names: Map<string, Set<string>>) => {
      const found = new Map<string, { id: string; clusterId: string }>();
      for (const [clusterId, set] of names) {
        for (const [name, row] of await subjectsBy(m, kind, 'name', [...set], clusterId)) found.set(`${clusterId}/${name}`, row);
      }
      return found;
    };
    const vmsByName = await byName('vm', vmNames);
    const hostsByName = await byName('host', hostNames);

    return samples.map((s, i) => {
      const [row, kind, label] = s.vmId
        ? [vmsById.get(s.vmId), 'vm' as const, `VM ${s.vmId}`]
        : s.hostId
          ? [hostsById.get(s.hostId), 'host' as const, `host ${s.hostId}`]
          : s.vmName
            ? [vmsByName.get(`${s.clusterId}/${s.vmName}`), 'vm' as const, `VM "${s.vmName}" in cluster ${s.clusterId}`]
            : [hostsByName.get(`${s.clusterId}/${s.hostName}`), 'host' as const, `host "${s.hostName}" in cluster ${s.clusterId}`];
      if (!row) {
        const field = `samples.${i}.${s.vmId ? 'vmId' : s.hostId ? 'hostId' : s.vmName ? 'vmName' : 'hostName'}`;
        problems.push({ field, message: `${field}: ${label} is unknown` });
        return undefined;
      }
      return { id: row.id, kind, clusterId: row.clusterId };
    });
  }

  /**
   * Samples of one VM or host between `from` and `to`: raw samples and 5-minute roll-ups together,
   * averaged into buckets of `stepSeconds` when a step is given.
   */
  async history(subject: { id: string; clusterId: string }, query: HistoryQuery) {
    const subjectId = subject.id;
    const to = query.to ?? this.clock.now();
    const from = query.from ?? to - 3_600_000;
    if (from > to) throw DomainError.unprocessable('from must not be after to', 'from');
    const stepMs = query.stepSeconds ? query.stepSeconds * 1000 : 0;
    const points = await historyPoints(this.db.reader, subject.clusterId, subjectId, from, to, stepMs, MAX_HISTORY_POINTS + 1);
    if (points.length > MAX_HISTORY_POINTS) {
      throw new DomainError(ErrorCode.Invalid, `More than ${MAX_HISTORY_POINTS} points in this range; pass a larger step`, [
        { field: 'step', message: `step is needed (or must be larger) for more than ${MAX_HISTORY_POINTS} points` },
      ]);
    }
    return { subjectId, from, to, stepSeconds: query.stepSeconds ?? null, points };
  }
}
