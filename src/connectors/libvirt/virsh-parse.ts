// Pure parsers of virsh output (LC_ALL=C). Shapes follow libvirt 9's virsh; real samples are in fixtures/.
import type { DiscoveredPower } from '../connector';

const KIB_PER_MIB = 1024;

/** "Key: value" lines (nodeinfo, dominfo, domjobinfo, nodememstats); keys and values trimmed, the first colon splits. */
export function parseKeyed(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    if (key !== '' && !fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  return fields;
}

function integer(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^-?\d+/.exec(value.trim());
  return match ? Number(match[0]) : undefined;
}

const SIZE_UNITS: Record<string, number> = { B: 1 / (1024 * 1024), KiB: 1 / 1024, MiB: 1, GiB: 1024, TiB: 1024 * 1024 };

/** "4.574 GiB", "0.000 B", "24683748 KiB" → MiB; undefined when it is not a size. */
export function parseSizeMib(value: string | undefined): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)$/.exec(value?.trim() ?? '');
  return match ? Number(match[1]) * SIZE_UNITS[match[2]] : undefined;
}

export interface NodeInfo {
  /** Logical CPUs: what guests' vCPUs are scheduled on. */
  cpus: number;
  cpuMhz: number;
  memoryMib: number;
}

export function parseNodeInfo(text: string): NodeInfo {
  const fields = parseKeyed(text);
  const cpus = integer(fields.get('CPU(s)'));
  const cpuMhz = integer(fields.get('CPU frequency'));
  const memoryMib = parseSizeMib(fields.get('Memory size'));
  if (!cpus || !cpuMhz || memoryMib === undefined) throw new Error(`unexpected nodeinfo output: ${text.slice(0, 200)}`);
  return { cpus, cpuMhz, memoryMib: Math.floor(memoryMib) };
}

export interface NodeMemStats {
  totalMib: number;
  freeMib: number;
  buffersMib: number;
  cachedMib: number;
}

export function parseNodeMemStats(text: string): NodeMemStats {
  const fields = parseKeyed(text);
  const mib = (key: string) => {
    const value = parseSizeMib(fields.get(key));
    if (value === undefined) throw new Error(`unexpected nodememstats output: no ${key}`);
    return value;
  };
  return { totalMib: mib('total'), freeMib: mib('free'), buffersMib: mib('buffers'), cachedMib: mib('cached') };
}

export interface ListedDomain {
  uuid: string;
  name: string;
}

/** `virsh list --all --uuid --name`: "<uuid> <name>" per line (the name may hold spaces). */
export function parseUuidNameList(text: string): ListedDomain[] {
  const domains: ListedDomain[] = [];
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) (.+)$/i.exec(line.trim());
    if (match) domains.push({ uuid: match[1].toLowerCase(), name: match[2] });
  }
  return domains;
}

export interface ListTableRow {
  /** null for a domain that is not running ("-"). */
  id: number | null;
  name: string;
  /** virsh's words: running, paused, shut off, idle, in shutdown, crashed, pmsuspended. */
  state: string;
}

const LIST_STATES = ['running', 'idle', 'paused', 'in shutdown', 'shut off', 'crashed', 'pmsuspended'];

/** `virsh list --all`'s table. Names are told from states by the known state words at the end of the line. */
export function parseListTable(text: string): ListTableRow[] {
  const rows: ListTableRow[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const head = /^(\d+|-)\s+(.+)$/.exec(line);
    if (!head) continue;
    const state = LIST_STATES.find((word) => head[2].endsWith(` ${word}`));
    if (!state) continue;
    rows.push({ id: head[1] === '-' ? null : Number(head[1]), name: head[2].slice(0, -state.length).trim(), state });
  }
  return rows;
}

export interface DomainState {
  /** virsh's words: running, paused, shut off… */
  state: string;
  /** With --reason: booted, migrating, user, destroyed… */
  reason: string | null;
}

/** `virsh domstate [--reason]`: "running", "paused (migrating)". */
export function parseDomState(text: string): DomainState {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  const match = /^(.+?)(?:\s+\((.+)\))?$/.exec(line);
  if (!match) throw new Error(`unexpected domstate output: ${text.slice(0, 200)}`);
  return { state: match[1], reason: match[2] ?? null };
}

export interface DomInfo {
  id: number | null;
  name: string;
  uuid: string;
  state: string;
  vcpus: number;
  maxMemoryMib: number;
  usedMemoryMib: number;
  persistent: boolean;
}

export function parseDomInfo(text: string): DomInfo {
  const fields = parseKeyed(text);
  const name = fields.get('Name');
  const uuid = fields.get('UUID');
  const state = fields.get('State');
  const vcpus = integer(fields.get('CPU(s)'));
  const maxMemoryMib = parseSizeMib(fields.get('Max memory'));
  const usedMemoryMib = parseSizeMib(fields.get('Used memory'));
  if (!name || !uuid || !state || !vcpus || maxMemoryMib === undefined || usedMemoryMib === undefined) {
    throw new Error(`unexpected dominfo output: ${text.slice(0, 200)}`);
  }
  const id = fields.get('Id');
  return {
    id: id === undefined || id === '-' ? null : Number(id),
    name,
    uuid: uuid.toLowerCase(),
    state,
    vcpus,
    maxMemoryMib,
    usedMemoryMib,
    persistent: fields.get('Persistent') === 'yes',
  };
}

/** The domain states of libvirt's virDomainState, as `domstats` reports them in state.state. */
const POWER_BY_STATE: Record<number, DiscoveredPower> = {
  0: 'stopped', // no state
  1: 'running',
  2: 'running', // blocked on a resource: still a running guest
  3: 'paused',
  4: 'running', // being shut down
  5: 'stopped', // shut off
  6: 'stopped', // crashed
  7: 'paused', // suspended by guest power management
};

export interface DomainStats {
  name: string;
  /** Every "key=value" line as it was. */
  raw: Map<string, string>;
  /** virDomainState (1 running, 3 paused, 5 shut off…). */
  state: number | undefined;
  /** virDomain*Reason of that state (for paused, 2 = migration). */
  reason: number | undefined;
  power: DiscoveredPower;
  /** Total CPU time of the guest, nanoseconds. */
  cpuTimeNs: number | undefined;
  vcpus: number | undefined;
  /** Memory the guest has now (balloon), and its maximum; KiB in libvirt, MiB here. */
  balloonCurrentMib: number | undefined;
  balloonMaximumMib: number | undefined;
  /** Resident set of the QEMU process (includes QEMU's own overhead). */
  rssMib: number | undefined;
  /** The guest's own figures, present only when its balloon driver reports statistics. */
  unusedMib: number | undefined;
  availableMib: number | undefined;
  usableMib: number | undefined;
  /** A finished domdirtyrate-calc measurement (calc_status 2), MiB/s. */
  dirtyRateMibPerSecond: number | undefined;
}

/** `virsh domstats --raw`: "Domain: 'name'" then indented "key=value" lines, one block per domain. */
export function parseDomStats(text: string): DomainStats[] {
  const blocks: { name: string; raw: Map<string, string> }[] = [];
  for (const line of text.split('\n')) {
    const domain = /^Domain: '(.*)'\s*$/.exec(line);
    if (domain) {
      blocks.push({ name: domain[1], raw: new Map() });
      continue;
    }
    const field = /^\s+([^=\s]+)=(.*)$/.exec(line);
    if (field && blocks.length > 0) blocks[blocks.length - 1].raw.set(field[1], field[2].trim());
  }
  return blocks.map(({ name, raw }) => {
    const num = (key: string) => {
      const value = raw.get(key);
      if (value === undefined || !/^-?\d+(\.\d+)?$/.test(value)) return undefined;
      return Number(value);
    };
    const kib = (key: string) => {
      const value = num(key);
      return value === undefined ? undefined : value / KIB_PER_MIB;
    };
    const state = num('state.state');
    return {
      name,
      raw,
      state,
      reason: num('state.reason'),
      power: (state !== undefined && POWER_BY_STATE[state]) || 'stopped',
      cpuTimeNs: num('cpu.time'),
      vcpus: num('vcpu.current') ?? num('vcpu.maximum'),
      balloonCurrentMib: kib('balloon.current'),
      balloonMaximumMib: kib('balloon.maximum'),
      rssMib: kib('balloon.rss'),
      unusedMib: kib('balloon.unused'),
      availableMib: kib('balloon.available'),
      usableMib: kib('balloon.usable'),
      dirtyRateMibPerSecond: num('dirtyrate.calc_status') === 2 ? num('dirtyrate.megabytes_per_second') : undefined,
    };
  });
}

export interface DomJobInfo {
  /** None, Unbounded (running), Completed, Failed, Cancelled… */
  type: string;
  operation: string | undefined;
  elapsedMs: number | undefined;
  processedMib: number | undefined;
  remainingMib: number | undefined;
  totalMib: number | undefined;
  bandwidthMibPerSecond: number | undefined;
  dirtyRateMibPerSecond: number | undefined;
  /** libvirt counts from 1 (the first full pass over memory). */
  iteration: number | undefined;
  expectedDowntimeMs: number | undefined;
  totalDowntimeMs: number | undefined;
}

/** `virsh domjobinfo [--completed]`. */
export function parseDomJobInfo(text: string): DomJobInfo {
  const fields = parseKeyed(text);
  const type = fields.get('Job type');
  if (type === undefined) throw new Error(`unexpected domjobinfo output: ${text.slice(0, 200)}`);
  const pagesPerSecond = integer(fields.get('Dirty rate'));
  const pageBytes = integer(fields.get('Page size'));
  return {
    type,
    operation: fields.get('Operation'),
    elapsedMs: integer(fields.get('Time elapsed')),
    processedMib: parseSizeMib(fields.get('Data processed')),
    remainingMib: parseSizeMib(fields.get('Data remaining')),
    totalMib: parseSizeMib(fields.get('Data total')),
    bandwidthMibPerSecond: parseSizeMib(fields.get('Memory bandwidth')?.replace(/\/s$/, '')),
    dirtyRateMibPerSecond:
      pagesPerSecond !== undefined && pageBytes !== undefined ? (pagesPerSecond * pageBytes) / (1024 * 1024) : undefined,
    iteration: integer(fields.get('Iteration')),
    expectedDowntimeMs: integer(fields.get('Expected downtime')),
    totalDowntimeMs: integer(fields.get('Total downtime')),
  };
}

/** `virsh domuuid`. */
export function parseUuid(text: string): string {
  const uuid = text.trim();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid))
    throw new Error(`unexpected domuuid output: ${uuid.slice(0, 100)}`);
  return uuid.toLowerCase();
}
