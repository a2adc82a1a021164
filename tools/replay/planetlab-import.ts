// npm run trace:import -- <day folder> <out.csv>
// Turns a PlanetLab day as CloudSim ships it (Cloudslab/cloudsim,
// modules/cloudsim-examples/src/main/resources/workload/planetlab/<day>: a folder with one file per VM,
// one CPU utilization in percent per line, a line every 5 minutes) into the CSV the replay and the
// demo read (src/simulator/trace.ts): a header `vm,t0,…`, then one row per VM, the file's name first
// with each space made an underscore (some PlanetLab names hold one). Rows follow the files' names in
// code-point order. traces/planetlab-20110303.csv is this tool's output for its day, byte for byte.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrace } from '../../src/simulator/trace';

export interface VmFile {
  name: string;
  text: string;
}

/** The CSV of these VM files; throws naming the file (and line) that does not fit the format. */
export function planetlabCsv(files: readonly VmFile[]): string {
  if (files.length === 0) throw new Error('no VM files: a PlanetLab day folder holds one file per VM');
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const fileOf = new Map<string, string>();
  const rows = sorted.map((file) => {
    if (/[,\r\n"]/.test(file.name)) throw new Error(`${file.name}: a VM file's name cannot hold a comma, a quote or a line break`);
    const name = file.name.replace(/ /g, '_');
    const other = fileOf.get(name);
    if (other !== undefined) throw new Error(`"${other}" and "${file.name}" would both be VM ${name} (spaces become underscores)`);
    fileOf.set(name, file.name);
    const lines = file.text.split(/\r?\n/);
    while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
    if (lines.length === 0) throw new Error(`${file.name}: no samples`);
    lines.forEach((line, i) => {
      const value = line.trim();
      if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`${file.name} line ${i + 1}: "${line}" is not a utilization in percent`);
    });
    return { file: file.name, name, values: lines.map((l) => l.trim()) };
  });
  const samples = rows[0].values.length;
  const uneven = rows.find((r) => r.values.length !== samples);
  if (uneven) throw new Error(`${uneven.file}: ${uneven.values.length} samples, where ${rows[0].file} has ${samples}`);
  const header = ['vm', ...Array.from({ length: samples }, (_, t) => `t${t}`)].join(',');
  const csv = [header, ...rows.map((r) => [r.name, ...r.values].join(','))].join('\n') + '\n';
  parseTrace(csv); // what the replay will read back
  return csv;
}

export function main(argv: string[]): string {
  const [folder, out, ...rest] = argv;
  if (!folder || !out || rest.length > 0) throw new Error('give the day folder and the CSV to write');
  const names = readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
  const csv = planetlabCsv(names.map((name) => ({ name, text: readFileSync(join(folder, name), 'utf8') })));
  writeFileSync(out, csv);
  const samples = csv.slice(0, csv.indexOf('\n')).split(',').length - 1;
  return `wrote ${names.length} VMs of ${samples} samples each to ${out}`;
}

if (require.main === module) {
  try {
    console.log(main(process.argv.slice(2)));
  } catch (err) {
    console.error(`trace:import: ${(err as Error).message}`);
    console.error('Usage: npm run trace:import -- <PlanetLab day folder> <out.csv>');
    process.exit(2);
  }
}
