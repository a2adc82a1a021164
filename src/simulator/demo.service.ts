import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../common/clock';
import { Database } from '../database/database.service';
import { EventsService } from '../events/events.service';
import { ClustersService } from '../inventory/clusters.service';
import { InventorySyncService } from '../inventory/inventory-sync.service';
import { SamplesService } from '../samples/samples.service';
import { PoliciesService } from '../policies/policies.service';
import { SimulatorSettings } from './simulator.settings';
import { DemoInventory, demoInventory, demoSample, DemoVm } from './demo-workload';
import { loadTrace, Trace } from './trace';
import { countClusters, findClusterByName, vmNamesOfCluster } from '../inventory/inventory.repository';

export const DEMO_CLUSTER = 'demo';
const SAMPLER_JOB = 'demo-sampler';
const DAY_SECONDS = 86_400;

/**
 * On an empty database, seeds a demo cluster whose VMs follow rows of the real PlanetLab trace,
 * then posts their samples through the ordinary ingestion path on a fast clock (a trace day in
 * DEMO_DAY_SECONDS), so that passes and migrations have real work. Off with DEMO_ENABLED=false.
 */
@Injectable()
export class DemoService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Demo');
  private trace: Trace | undefined;
  private inventory: DemoInventory | undefined;
  private startedAt = 0;
  private sampling = false;

  constructor(
    private readonly settings: SimulatorSettings,
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly registry: SchedulerRegistry,
    private readonly clusters: ClustersService,
    private readonly inventorySync: InventorySyncService,
    private readonly policies: PoliciesService,
    private readonly samples: SamplesService,
    private readonly events: EventsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.settings.DEMO_ENABLED) return;
    this.trace = loadTrace();
    this.inventory = demoInventory(this.trace, this.settings.DEMO_HOSTS, this.settings.DEMO_VMS);
    if ((await countClusters(this.db.reader)) === 0) await this.seed();
    const cluster = await findClusterByName(this.db.reader, DEMO_CLUSTER);
    // A database with clusters of its own but no demo: the demo stays out of the way.
    if (!cluster) return;
    this.startedAt = this.clock.now();
    await this.postSamples(cluster.id);
    this.registry.addInterval(
      SAMPLER_JOB,
      setInterval(() => void this.postSamples(cluster.id), this.settings.DEMO_SAMPLE_INTERVAL_MS),
    );
    this.logger.log(
      { clusterId: cluster.id },
      `Demo cluster "${DEMO_CLUSTER}" running: one trace day every ${this.settings.DEMO_DAY_SECONDS} s (DEMO_ENABLED=false turns it off)`,
    );
  }

  onApplicationShutdown(): void {
    if (this.registry.doesExist('interval', SAMPLER_JOB)) this.registry.deleteInterval(SAMPLER_JOB);
  }

  private async seed(): Promise<void> {
    const inventory = this.inventory!;
    const cluster = await this.clusters.create(
      {
        name: DEMO_CLUSTER,
        description: 'Demo: VMs follow real PlanetLab CPU traces (3 March 2011); they start piled on half of the hosts.',
      },
      null,
    );
    await this.inventorySync.sync(
      cluster.id,
      {
        hosts: inventory.hosts,
        vms: inventory.vms.map(({ name, hostName, vcpus, memoryMib }) => ({ name, hostName, vcpus, memoryMib })),
      },
      null,
    );
    // A fast demo: passes every 20 s over 30 s of demand (about an hour and a half and 35 minutes of trace).
    await this.policies.put(
      cluster.id,
      {
        automationLevel: 'fully-automated',
        passIntervalSeconds: 20,
        demandWindowSeconds: 30,
        cooldownSeconds: 120,
      },
      null,
    );
    await this.events.record({
      clusterId: cluster.id,
      subjectType: 'cluster',
      subjectId: cluster.id,
      type: 'demo.seeded',
      message: `Demo cluster seeded: ${inventory.hosts.length} hosts, ${inventory.vms.length} VMs on the first ${Math.ceil(inventory.hosts.length / 2)} hosts`,
    });
  }

  /** One round of samples for the demo VMs that still exist, stamped now, at the trace's simulated time. */
  private async postSamples(clusterId: string): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const now = this.clock.now();
      const traceSeconds = ((now - this.startedAt) / 1000) * (DAY_SECONDS / this.settings.DEMO_DAY_SECONDS);
      const existing = new Set(await vmNamesOfCluster(this.db.reader, clusterId));
      const vms: DemoVm[] = this.inventory!.vms.filter((vm) => existing.has(vm.name));
      if (vms.length === 0) return;
      await this.samples.ingest({
        samples: vms.map((vm) => ({ clusterId, vmName: vm.name, timestamp: now, ...demoSample(this.trace!, vm, traceSeconds) })),
      });
    } catch (err) {
      this.logger.warn({ err }, 'demo samples not accepted');
    } finally {
      this.sampling = false;
    }
  }
}
