// Planner benchmark: speed against a naive reference, quality against the MILP optimum, and moves
// against a simple greedy baseline. Prints tables and one PASS/FAIL line per target.
// Run: npm run bench:planner   (never part of npm test)
// The sections live in bench/planner/: speed.ts, quality.ts, baseline.ts and skewed-passes.ts.
import { baseline } from './planner/baseline';
import { quality } from './planner/quality';
import { skewedPasses } from './planner/skewed-passes';
import { speed } from './planner/speed';

const verdicts: string[] = [];

async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'speed') speed(verdicts);
  // `quality <seed>` runs section 2 on the 20 clusters from that seed on.
  const seedArg = process.argv[3];
  if (seedArg !== undefined && !/^\d+$/.test(seedArg)) throw new Error(`quality <seed>: a whole number, not '${seedArg}'`);
  if (!only || only === 'quality') await quality(verdicts, seedArg === undefined ? undefined : Number(seedArg));
  if (!only || only === 'baseline') await baseline(verdicts);
  if (!only || only === 'skewed') skewedPasses(verdicts);
  console.log('\n## Summary\n');
  for (const v of verdicts) console.log(v);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
