// Runs every benchmark in turn, each in its own process so that one's heap does not skew another's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// Not bench/libvirt.ts: it needs root, starts libvirt hosts and guests on this machine and takes minutes (npm run bench:libvirt).
const BENCHES = ['inventory-sync', 'ingest', 'planner', 'migrations', 'load'];

let failed = false;
for (const name of BENCHES) {
  const file = join(__dirname, `${name}.ts`);
  if (!existsSync(file)) continue;
  console.log(`\n=== bench/${name} ===`);
  const run = spawnSync(process.execPath, ['--expose-gc', '-r', 'ts-node/register/transpile-only', file], { stdio: 'inherit' });
  if (run.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
