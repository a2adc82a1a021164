// Reads a utilization trace: one row per VM, `vm` then t0…tN in percent (the PlanetLab format).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface Trace {
  names: string[];
  /** utilization[vm][step], percent of the VM's CPU. */
  utilization: number[][];
  stepSeconds: number;
}

export const TRACE_STEP_SECONDS = 300;
export const DEFAULT_TRACE_FILE = 'planetlab-20110303.csv';

export function parseTrace(text: string, stepSeconds = TRACE_STEP_SECONDS): Trace {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = lines[0]?.split(',') ?? [];
  if (header[0] !== 'vm' || header.length < 2) throw new Error('a trace starts with a header "vm,t0,t1,…"');
  const names: string[] = [];
  const utilization: number[][] = [];
  for (const [i, line] of lines.slice(1).entries()) {
    const cells = line.split(',');
    if (cells.length !== header.length) throw new Error(`trace line ${i + 2} has ${cells.length} cells, the header ${header.length}`);
    const values = cells.slice(1).map(Number);
    if (values.some((v) => !Number.isFinite(v) || v < 0)) throw new Error(`trace line ${i + 2} has a value that is not a percentage`);
    names.push(cells[0]);
    utilization.push(values);
  }
  return { names, utilization, stepSeconds };
}

/** The committed traces folder, from src/ (ts-node, jest) or dist/src/ (npm start). */
export function tracesFolder(): string {
  for (const candidate of [resolve(__dirname, '..', '..', 'traces'), resolve(__dirname, '..', '..', '..', 'traces')]) {
    if (existsSync(join(candidate, DEFAULT_TRACE_FILE))) return candidate;
  }
  throw new Error(`traces/${DEFAULT_TRACE_FILE} not found next to the project`);
}

export function loadTrace(path = join(tracesFolder(), DEFAULT_TRACE_FILE)): Trace {
  return parseTrace(readFileSync(path, 'utf8'));
}

/** Utilization of a VM at a time (seconds from the trace's start), linear between samples, wrapping after a day. */
export function utilizationAt(trace: Trace, vm: number, seconds: number): number {
  const row = trace.utilization[vm];
  const position = (seconds / trace.stepSeconds) % row.length;
  const i = Math.floor(position);
  const next = row[(i + 1) % row.length];
  return row[i] + (next - row[i]) * (position - i);
}
