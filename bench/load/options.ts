// The load benchmark's command-line options (see bench/load.ts), checked, and the layout and targets derived from them.
import { parseArgs } from 'node:util';

export const { values: argv } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    clusters: { type: 'string', default: '20' },
    connections: { type: 'string', default: '3' },
    'samples-rate': { type: 'string', default: '1' },
    'plan-rate': { type: 'string', default: '1' },
    'baseline-duration': { type: 'string' },
    only: { type: 'string' },
    runs: { type: 'string', default: '1' },
  },
});

export const DURATION = Number(argv.duration);
export const CLUSTERS = Number(argv.clusters);
export const READ_CONNECTIONS = Number(argv.connections);
export const SAMPLES_RATE = Number(argv['samples-rate']);
export const PLAN_RATE = Number(argv['plan-rate']);
export const RUNS = Number(argv.runs);
export const BASELINE_DURATION = Number(argv['baseline-duration'] ?? Math.min(10, Math.max(5, Math.round(DURATION / 6))));
export const TOTAL_HOSTS = 1_000;
export const TOTAL_VMS = 20_000;
export const HOSTS = Math.round(TOTAL_HOSTS / CLUSTERS);
export const VMS = Math.round(TOTAL_VMS / CLUSTERS);
/** vCenter's real-time statistics interval: each VM reports every 20 s. */
export const SAMPLE_INTERVAL_S = 20;
export const DEMAND_WINDOW_S = 300;
export const TARGET_READS_PER_SECOND = 2_000;
export const TARGET_P99_MS = 50;

for (const [name, value] of Object.entries({ RUNS, DURATION, CLUSTERS, READ_CONNECTIONS, SAMPLES_RATE, PLAN_RATE, BASELINE_DURATION })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bad option ${name}=${value}`);
}
