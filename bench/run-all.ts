// Runs every benchmark in turn, each in its own process so that one's heap does not skew another's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// Not bench/libvirt.ts: it needs root, starts libvirt hosts and guests on this machine and takes minutes (npm run bench:libvirt).
// Not bench/vsphere.ts either: it builds and starts vcsim, which needs Go and govmomi's sources from Debian's packages
// (installed by test/fixtures/vcsim/vcsim.sh as root); `npm run bench` stays runnable on any machine with Node (npm run bench:vsphere).
// Not bench/scale-out.ts: it needs a PostgreSQL server and runs three replicas for about a quarter of an hour (npm run bench:scale-out).
const BENCHES = ['inventory-sync', 'ingest', 'demand', 'planner', 'migrations', 'load', 'proxmox'];

let failed = false;
for (const name of BENCHES) {
  const file = join(__dirname, `${name}.ts`);
  if (!existsSync(file)) continue;
  console.log(`\n=== bench/${name} ===`);
  const run = spawnSync(process.execPath, ['--expose-gc', '-r', 'ts-node/register/transpile-only', file], { stdio: 'inherit' });
  if (run.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
