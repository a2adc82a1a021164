// The load benchmark's inventory: clusters of generated hosts and VMs, with samples from the PlanetLab trace.
import { Trace, utilizationAt } from '../../src/simulator/trace';
import { generateInventory } from '../../test/helpers/inventory-generator';
import { CLUSTERS, DEMAND_WINDOW_S, HOSTS, SAMPLE_INTERVAL_S, VMS } from './options';
import { must } from './server';
import { vmSample } from '../lib/vm-sample';

export interface SeededCluster {
  id: string;
  vms: { id: string; vcpus: number; memoryMib: number; trace: number }[];
}

/** One round of samples for every VM of a cluster at `timestamp`, CPU demand from the PlanetLab trace. */
export function sampleRound(trace: Trace, cluster: SeededCluster, timestamp: number, traceSeconds: number) {
  return cluster.vms.map((vm) => vmSample(vm, utilizationAt(trace, vm.trace, traceSeconds) / 100, timestamp));
}

export async function seed(baseUrl: string, trace: Trace, traceStart: number): Promise<SeededCluster[]> {
  const clusters: SeededCluster[] = [];
  const started = performance.now();
  for (let c = 0; c < CLUSTERS; c++) {
    const cluster = await must(baseUrl, 'POST', '/api/v1/clusters', { name: `load-${String(c).padStart(2, '0')}` }, 201);
    const inventory = generateInventory(HOSTS, VMS, `c${c}-`);
    await must(baseUrl, 'PUT', `/api/v1/clusters/${cluster.id}/inventory`, inventory, 200);
    // Passes every 20–39 s, staggered so that they do not all fall on the same tick; a quarter of the
    // clusters fully automated, so that migrations run (and VMs change hosts) under the load.
    await must(
      baseUrl,
      'PUT',
      `/api/v1/clusters/${cluster.id}/policy`,
      {
        passIntervalSeconds: 20 + (c % 20),
        automationLevel: c % 4 === 0 ? 'fully-automated' : 'partially-automated',
        cooldownSeconds: 600,
      },
      200,
    );
    const spec = new Map(inventory.vms.map((v) => [v.name, v]));
    const vms: SeededCluster['vms'] = [];
    for (let offset = 0; offset < VMS; offset += 1000) {
      const page = await must(baseUrl, 'GET', `/api/v1/vms?clusterId=${cluster.id}&limit=1000&offset=${offset}`, undefined, 200);
      for (const vm of page.items as { id: string; name: string }[]) {
        const s = spec.get(vm.name)!;
        vms.push({ id: vm.id, vcpus: s.vcpus, memoryMib: s.memoryMib, trace: (c * VMS + vms.length) % trace.names.length });
      }
    }
    clusters.push({ id: cluster.id, vms });
  }
  const inventorySeconds = (performance.now() - started) / 1000;
  // A full demand window of history: every VM, every 20 s, for the last 5 minutes.
  const now = Date.now();
  let samples = 0;
  const sampleStarted = performance.now();
  for (const cluster of clusters) {
    let batch: unknown[] = [];
    for (let t = DEMAND_WINDOW_S - SAMPLE_INTERVAL_S; t >= 0; t -= SAMPLE_INTERVAL_S) {
      batch.push(...sampleRound(trace, cluster, now - t * 1000, traceStart - t));
      if (batch.length >= 5000) {
        await must(baseUrl, 'POST', '/api/v1/samples', { samples: batch }, 201);
        samples += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) {
      await must(baseUrl, 'POST', '/api/v1/samples', { samples: batch }, 201);
      samples += batch.length;
    }
  }
  console.log(
    `Seeded ${CLUSTERS} clusters × ${HOSTS} hosts × ${VMS.toLocaleString('en-US')} VMs in ${inventorySeconds.toFixed(1)} s; ` +
      `${samples.toLocaleString('en-US')} samples (5 min of history) in ${((performance.now() - sampleStarted) / 1000).toFixed(1)} s`,
  );
  return clusters;
}
