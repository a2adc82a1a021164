// The scale-out benchmark's clients: clusters and their inventories, a sample of every VM every minute, and reads.
import { call } from '../lib/boot';
import type { Replica } from './replicas';

export const HOSTS = 10;
export const VMS = 100;
const HOST_CORES = 32;
const MHZ_PER_CORE = 2600;

export interface Cluster {
  id: string;
  index: number;
}

async function must(baseUrl: string, method: string, path: string, body: unknown, status: number) {
  for (let attempt = 0; ; attempt++) {
    const res = await call(baseUrl, method, path, body);
    if (res.status === status) return res.body;
    // 503: a serialization conflict retried past its budget or the database busy; the service says to retry.
    if (res.status !== 503 || attempt >= 5) {
      throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 400)}`);
    }
    await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
  }
}

const vmName = (i: number) => `vm-${String(i).padStart(3, '0')}`;
const vcpus = (i: number) => 1 + (i % 8);
const memoryMib = (i: number) => 1024 * (4 + (i % 13));

/** Half the VMs on three hosts, the other half on the seven others: the first passes have moves to make. */
function inventory() {
  const hosts = Array.from({ length: HOSTS }, (_, h) => ({
    name: `host-${String(h).padStart(2, '0')}`,
    cpuCores: HOST_CORES,
    cpuMhz: HOST_CORES * MHZ_PER_CORE,
    memoryMib: 512 * 1024,
    migrationGbps: 25,
  }));
  const vms = Array.from({ length: VMS }, (_, i) => ({
    name: vmName(i),
    hostName: hosts[i < VMS / 2 ? i % 3 : 3 + (i % (HOSTS - 3))].name,
    vcpus: vcpus(i),
    memoryMib: memoryMib(i),
  }));
  return { hosts, vms };
}

/**
 * Creates the clusters (POST /clusters, PUT …/inventory, PUT …/policy), `concurrency` at a time, each through the
 * replicas in turn.
 */
export async function createClusters(
  replicas: Replica[],
  count: number,
  policy: Record<string, unknown>,
  concurrency: number,
): Promise<Cluster[]> {
  const clusters: Cluster[] = new Array(count);
  const body = inventory();
  let next = 0;
  const worker = async () => {
    for (let n = next++; n < count; n = next++) {
      const via = replicas[n % replicas.length].baseUrl;
      const cluster = await must(via, 'POST', '/api/v1/clusters', { name: `bench-${String(n).padStart(4, '0')}` }, 201);
      await must(via, 'PUT', `/api/v1/clusters/${cluster.id}/inventory`, body, 200);
      await must(via, 'PUT', `/api/v1/clusters/${cluster.id}/policy`, policy, 200);
      clusters[n] = { id: cluster.id, index: n };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return clusters;
}

/** A VM's CPU demand in minute `minute`: a quarter of the VMs run hot, a different quarter every 5 minutes. */
function cpuMhz(cluster: number, vm: number, minute: number): number {
  const phase = Math.floor(minute / 5);
  const hot = ((vm * 7 + cluster * 13 + phase * 29) >>> 0) % 4 === 0;
  return Math.round(vcpus(vm) * MHZ_PER_CORE * (hot ? 0.85 : 0.15) * (0.95 + ((vm + minute) % 10) / 100));
}

export interface Round {
  /** When it was due and when it started and ended (epoch ms, this machine's clock). */
  due: number;
  started: number;
  ended: number;
  samples: number;
  failedBatches: number;
}

/**
 * One sample of every VM every minute, stamped with the round's start, in batches of `clustersPerBatch` clusters'
 * VMs, posted to the replicas in turn (one batch in flight per replica). A round that starts late (the previous
 * one had not ended) is measured as ingest lag.
 */
export function startSampler(replicas: () => Replica[], clusters: Cluster[], clustersPerBatch: number, periodMs = 60_000) {
  const rounds: Round[] = [];
  const first = Date.now();
  let stopped = false;
  let statuses = new Map<number, number>();
  const runRound = async (k: number, due: number) => {
    const started = Date.now();
    const minute = Math.floor((started - first) / 60_000);
    const batches: string[] = [];
    for (let c = 0; c < clusters.length; c += clustersPerBatch) {
      const samples = [];
      for (const cluster of clusters.slice(c, c + clustersPerBatch)) {
        for (let vm = 0; vm < VMS; vm++) {
          const mem = memoryMib(vm);
          samples.push({
            clusterId: cluster.id,
            vmName: vmName(vm),
            timestamp: started,
            cpuMhz: cpuMhz(cluster.index, vm, minute),
            memoryActiveMib: Math.round(mem * 0.3),
            memoryConsumedMib: Math.round(mem * 0.8),
          });
        }
      }
      batches.push(JSON.stringify({ samples }));
    }
    let failedBatches = 0;
    let next = 0;
    const targets = replicas();
    await Promise.all(
      targets.map(async (_, t) => {
        for (let b = next++; b < batches.length; b = next++) {
          const target = targets[(b + t) % targets.length];
          try {
            const res = await fetch(`${target.baseUrl}/api/v1/samples`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: batches[b],
            });
            await res.arrayBuffer();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status !== 201) failedBatches++;
          } catch {
            statuses.set(0, (statuses.get(0) ?? 0) + 1);
            failedBatches++;
          }
        }
      }),
    );
    rounds.push({ due, started, ended: Date.now(), samples: clusters.length * VMS, failedBatches });
    void k;
  };
  const done = (async () => {
    for (let k = 0; !stopped; k++) {
      const due = first + k * periodMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (stopped) break;
      await runRound(k, due);
    }
  })();
  return {
    rounds,
    statuses: () => statuses,
    resetStatuses: () => (statuses = new Map()),
    /** Stops after the round in progress. */
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

export interface ReadResult {
  seconds: number;
  latencies: number[];
  statuses: Map<number, number>;
}

/**
 * Closed-loop reads for `seconds`: `inFlight` workers, each alternating GET /clusters/{id}/balance and
 * GET /vms?clusterId=… (limit 100: the cluster's VMs), over the given replicas in turn.
 */
export async function readLoad(targets: Replica[], clusters: Cluster[], seconds: number, inFlight: number): Promise<ReadResult> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  const end = started + seconds * 1000;
  let n = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const k = n++;
      const cluster = clusters[(k * 7919) % clusters.length];
      const path = k % 2 === 0 ? `/api/v1/clusters/${cluster.id}/balance` : `/api/v1/vms?clusterId=${cluster.id}&limit=100`;
      const t0 = performance.now();
      let status = 0;
      try {
        const res = await fetch(targets[k % targets.length].baseUrl + path);
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0;
      }
      latencies.push(performance.now() - t0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { seconds: (performance.now() - started) / 1000, latencies, statuses };
}
