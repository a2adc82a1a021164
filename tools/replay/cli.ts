// npm run replay -- --trace <csv> --hosts <n> [--vms <n>] [--steps <n>] [--threshold <L>] [--json <file>]
// Replays a trace day through the real services for our balancer, no balancing and the simple greedy
// baseline, and prints the report as a table, then as JSON. With --placement-seeds, once per seed,
// then the figures added up over the runs.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_TRACE_FILE, loadTrace, tracesFolder } from '../../src/simulator/trace';
import { formatReportTable, formatTotalsTable, ReplayReport, STRATEGIES, Strategy, totalsOverRuns } from './replay-report';
import { runReplay } from './replay-runner';

const USAGE = `Usage: npm run replay -- [options]
  --trace <csv>        PlanetLab-format trace (default: traces/${DEFAULT_TRACE_FILE})
  --hosts <n>          hosts in the cluster (default 40)
  --vms <n>            VMs, one per trace row, spread over the file (default: every row)
  --steps <n>          5-minute steps to replay from the start of the day (default: the whole trace)
  --threshold <L>      migration threshold 1..5: the report's target and ours (default 3)
  --placement-seed <n> deal the VMs to the hosts in a shuffled order (same count per host; default: round-robin)
  --placement-seeds <list>
                       comma-separated seeds: one replay per seed, then the figures added up over them
  --policy <json>      changes to the policy ours runs with, e.g. '{"demandWindowSeconds":1800}'
  --strategies <list>  comma-separated subset of ${STRATEGIES.join(',')} (default: all)
  --series             add each strategy's per-step imbalance, busiest host, CPU demand unmet and migrations to the JSON
  --json <file>        also write the JSON report to this file
  --help`;

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return Number(value);
}

function nonNegativeInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

function seedList(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const seeds = value.split(',').map((s) => nonNegativeInt('placement-seeds', s.trim())!);
  if (new Set(seeds).size !== seeds.length) throw new Error(`--placement-seeds must not repeat a seed, got "${value}"`);
  return seeds;
}

function parsePolicy(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`--policy must be a JSON object, got "${text}"`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`--policy must be a JSON object, got "${text}"`);
  return value as Record<string, unknown>;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      trace: { type: 'string' },
      hosts: { type: 'string' },
      vms: { type: 'string' },
      steps: { type: 'string' },
      threshold: { type: 'string' },
      'placement-seed': { type: 'string' },
      'placement-seeds': { type: 'string' },
      strategies: { type: 'string' },
      policy: { type: 'string' },
      json: { type: 'string' },
      series: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const tracePath = values.trace ? resolve(values.trace) : resolve(tracesFolder(), DEFAULT_TRACE_FILE);
  const strategies = values.strategies?.split(',').map((s) => s.trim()) as Strategy[] | undefined;
  const unknown = strategies?.filter((s) => !(STRATEGIES as readonly string[]).includes(s)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown strategies: ${unknown.join(', ')} (known: ${STRATEGIES.join(', ')})`);
  const seeds = seedList(values['placement-seeds']);
  if (seeds && values['placement-seed'] !== undefined) throw new Error('give --placement-seed or --placement-seeds, not both');
  // Options read once, whatever the number of runs.
  const options = {
    hosts: positiveInt('hosts', values.hosts) ?? 40,
    vms: positiveInt('vms', values.vms),
    steps: positiveInt('steps', values.steps),
    threshold: positiveInt('threshold', values.threshold) ?? 3,
    strategies,
    series: values.series ?? false,
    policy: values.policy ? parsePolicy(values.policy) : undefined,
    log: (line: string) => process.stderr.write(`${line}\n`),
    trace: loadTrace(tracePath),
    traceName: basename(tracePath),
  };
  const replay = (placementSeed: number | undefined) => runReplay({ ...options, placementSeed });
  let json: string;
  if (seeds) {
    const runs: ReplayReport[] = [];
    for (const seed of seeds) {
      const report = await replay(seed);
      runs.push(report);
      console.log(formatReportTable(report));
      console.log('');
    }
    const totals = totalsOverRuns(runs);
    console.log(formatTotalsTable(totals, seeds));
    json = JSON.stringify({ runs, totals }, null, 2);
  } else {
    const report = await replay(nonNegativeInt('placement-seed', values['placement-seed']));
    console.log(formatReportTable(report));
    json = JSON.stringify(report, null, 2);
  }
  console.log('');
  console.log(json);
  if (values.json) writeFileSync(values.json, `${json}\n`);
  return 0;
}

if (require.main === module) {
  process.env.TZ ??= 'UTC';
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`replay: ${err.message}`);
      console.error(USAGE);
      process.exit(2);
    },
  );
}
