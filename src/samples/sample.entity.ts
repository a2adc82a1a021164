import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type SubjectKind = 'vm' | 'host';

/**
 * Raw utilization samples. Keyed by (cluster, time, subject): samples arrive in time order, so
 * inserts append at the end of the cluster's range instead of touching a page per subject (4× the
 * insert rate of a (subject, time) key), the demand window of a cluster is one range scan, and a
 * resent sample replaces itself. Epoch-millisecond integers for time.
 */
@Entity({ name: 'samples', withoutRowid: true })
export class SampleEntity {
  @PrimaryColumn('varchar')
  clusterId: string;

  @PrimaryColumn('integer')
  timestamp: number;

  @PrimaryColumn('varchar')
  subjectId: string;

  @Column('varchar', { length: 4 })
  subjectKind: SubjectKind;

  @Column('real')
  cpuMhz: number;

  @Column('real')
  memoryActiveMib: number;

  @Column('real')
  memoryConsumedMib: number;

  @Column('real', { nullable: true })
  memoryDirtyMibPerSecond: number | null;

  /** Share of the time the VM's vCPUs were ready to run but waited for a physical CPU, 0–100 (vSphere's cpu.ready). */
  @Column('real', { nullable: true })
  cpuReadyPercent: number | null;
}

/** 5-minute averages of raw samples older than the raw retention; `sampleCount` weighs merges. */
@Entity({ name: 'sample_rollups', withoutRowid: true })
@Index('IDX_sample_rollups_time', ['timestamp'])
export class SampleRollupEntity {
  @PrimaryColumn('varchar')
  subjectId: string;

  /** Start of the 5-minute bucket. */
  @PrimaryColumn('integer')
  timestamp: number;

  @Column('varchar', { length: 4 })
  subjectKind: SubjectKind;

  @Column('varchar')
  clusterId: string;

  @Column('real')
  cpuMhz: number;

  @Column('real')
  memoryActiveMib: number;

  @Column('real')
  memoryConsumedMib: number;

  @Column('real', { nullable: true })
  memoryDirtyMibPerSecond: number | null;

  @Column('real', { nullable: true })
  cpuReadyPercent: number | null;

  @Column('integer')
  sampleCount: number;
}
