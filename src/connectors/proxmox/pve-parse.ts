// What the Proxmox VE API answers, read into what the connector decides with: guest tags (ProxLB's among them),
// the datacenter's CRS options, UPIDs and the progress lines of a migration task's log. Pure.

/** A guest as /cluster/resources lists it (type qemu or lxc). */
export interface PveGuest {
  vmid: number;
  type: 'qemu' | 'lxc';
  name: string;
  node: string;
  status: string;
  template: boolean;
  lock: string | null;
  tags: string[];
  /** Fraction of one CPU × maxcpu, as PVE reports `cpu` (0..1 of the guest's vCPUs). */
  cpu: number;
  maxcpu: number;
  mem: number;
  maxmem: number;
  /** Host memory the guest uses (PVE 9: `memhost`), when reported. */
  memhost: number | null;
  hastate: string | null;
}

export interface PveNode {
  name: string;
  online: boolean;
}

const num = (value: unknown, fallback = 0) => (typeof value === 'number' && Number.isFinite(value) ? value : Number(value) || fallback);

/** PVE separates tags with `;` (also `,` or spaces in older configs). */
export function parseTags(value: unknown): string[] {
  return typeof value === 'string' ? value.split(/[;,\s]+/).filter((t) => t !== '') : [];
}

export function parseResources(entries: unknown): { nodes: PveNode[]; guests: PveGuest[] } {
  const nodes: PveNode[] = [];
  const guests: PveGuest[] = [];
  for (const raw of Array.isArray(entries) ? entries : []) {
    const e = raw as Record<string, unknown>;
    if (e.type === 'node' && typeof e.node === 'string') nodes.push({ name: e.node, online: e.status === 'online' });
    else if ((e.type === 'qemu' || e.type === 'lxc') && typeof e.node === 'string') {
      const vmid = num(e.vmid, NaN);
      if (!Number.isInteger(vmid)) continue;
      guests.push({
        vmid,
        type: e.type,
        name: typeof e.name === 'string' && e.name.trim() !== '' ? e.name.trim() : `${e.type === 'lxc' ? 'ct' : 'vm'}-${vmid}`,
        node: e.node,
        status: typeof e.status === 'string' ? e.status : 'unknown',
        template: e.template === 1 || e.template === true || e.template === '1',
        lock: typeof e.lock === 'string' && e.lock !== '' ? e.lock : null,
        tags: parseTags(e.tags),
        cpu: num(e.cpu),
        maxcpu: num(e.maxcpu, 1),
        mem: num(e.mem),
        maxmem: num(e.maxmem),
        memhost: e.memhost === undefined ? null : num(e.memhost),
        hastate: typeof e.hastate === 'string' ? e.hastate : null,
      });
    }
  }
  return { nodes, guests };
}

/**
 * Guest names as the inventory knows them: PVE's own name, except where two guests share one (PVE allows it, the
 * inventory matches by name), where each gets its VMID appended.
 */
export function inventoryNames(guests: readonly Pick<PveGuest, 'vmid' | 'name'>[]): Map<number, string> {
  const count = new Map<string, number>();
  for (const g of guests) count.set(g.name, (count.get(g.name) ?? 0) + 1);
  return new Map(guests.map((g) => [g.vmid, (count.get(g.name) ?? 0) > 1 ? `${g.name} (${g.vmid})` : g.name]));
}

/** ProxLB's tags on a guest (https://github.com/gyptazy/ProxLB): groups to keep together or apart, ignore, pins. */
export interface ProxlbTags {
  affinity: string[];
  antiAffinity: string[];
  /** The first plb_ignore_* tag, which ProxLB never moves a guest with. */
  ignore: string | null;
  pins: string[];
}

export function proxlbTags(tags: readonly string[]): ProxlbTags {
  const out: ProxlbTags = { affinity: [], antiAffinity: [], ignore: null, pins: [] };
  for (const tag of tags) {
    const lower = tag.toLowerCase();
    // Anti-affinity first: `plb_anti_affinity_x` would otherwise not match, but `plb_affinity_` must not eat it either.
    if (lower.startsWith('plb_anti_affinity_') && lower.length > 18) out.antiAffinity.push(tag.slice(18));
    else if (lower.startsWith('plb_affinity_') && lower.length > 13) out.affinity.push(tag.slice(13));
    else if (lower.startsWith('plb_ignore')) out.ignore ??= tag;
    else if (lower.startsWith('plb_pin_') && lower.length > 8) out.pins.push(tag.slice(8));
  }
  return out;
}

/**
 * The datacenter's `crs` option: PVE returns datacenter.cfg's property string parsed (an object), older versions
 * and hand-written configs give the string `ha=static,ha-rebalance-on-start=1`.
 */
export function parseCrs(value: unknown): Record<string, string> {
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
  if (typeof value !== 'string') return {};
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const [key, ...rest] = part.split('=');
    if (!key) continue;
    // A bare value is the default key's (`ha`), as PVE's property strings allow.
    if (rest.length === 0) out.ha = key.trim();
    else out[key.trim()] = rest.join('=').trim();
  }
  return out;
}

const truthy = (value: string | undefined) => value !== undefined && /^(1|true|yes|on)$/i.test(value);

/** Whether PVE's CRS keeps rebalancing the HA-managed guests by itself (PVE 9.2's `ha-auto-rebalance`). */
export function haAutoRebalance(crs: Record<string, string>): boolean {
  return truthy(crs['ha-auto-rebalance']);
}

export interface Upid {
  node: string;
  type: string;
  id: string;
  user: string;
}

/** `UPID:node:pid:pstart:starttime:type:id:user:`, or null. */
export function parseUpid(upid: string): Upid | null {
  const m = /^UPID:([^:]+):[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8}:([^:]+):([^:]*):([^:]+):$/.exec(upid);
  return m ? { node: m[1], type: m[2], id: m[3], user: m[4] } : null;
}

const UNITS: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, pib: 1024 ** 5 };

/** "1.5 GiB", "512 B" or a plain byte count, in bytes; NaN when not a size. */
export function parseSize(text: string): number {
  const m = /^\s*([\d.]+)\s*([KMGTP]i?B|B)?\s*$/i.exec(text);
  if (!m) return NaN;
  const unit = (m[2] ?? 'B').toLowerCase().replace(/^([kmgtp])b$/, '$1ib');
  return Number(m[1]) * (UNITS[unit] ?? NaN);
}

export interface TaskProgress {
  /** Memory (VM state) copied and its total, in bytes. */
  memory?: { done: number; total: number };
  /** Local disks mirrored, by drive (the latest line of each). */
  disks?: Record<string, { done: number; total: number }>;
  completed?: boolean;
  /** `average migration speed: … - downtime 41 ms`, once the switch-over is done. */
  downtimeMs?: number;
}

/**
 * The progress a migration task's log lines tell, newest last:
 * - PVE 7+: `migration active, transferred 1.1 GiB of 4.0 GiB VM-state, 112.3 MiB/s`
 * - older: `migration status: active (transferred 123456, remaining 789), total 999)` (bytes)
 * - disks: `drive-scsi0: transferred 1.0 GiB of 32.0 GiB (3.12%) in 5s` (PVE 8+: `mirror-scsi0: …`)
 * - `migration status: completed` / `migration completed, transferred 4.0 GiB VM-state`
 */
export function migrationProgress(lines: readonly string[], previous: TaskProgress = {}): TaskProgress {
  const progress: TaskProgress = { ...previous };
  for (const line of lines) {
    let m = /migration active, transferred (.+?) of (.+?) VM-state/.exec(line);
    if (m) {
      const done = parseSize(m[1]);
      const total = parseSize(m[2]);
      if (total > 0 && done >= 0) progress.memory = { done, total };
      continue;
    }
    m = /migration status: active \(transferred (\d+), remaining (\d+)\)?(?:, total (\d+))?/.exec(line);
    if (m) {
      const done = Number(m[1]);
      const total = m[3] !== undefined ? Number(m[3]) : done + Number(m[2]);
      if (total > 0) progress.memory = { done, total };
      continue;
    }
    m = /(?:drive|mirror)-([\w-]+): transferred (.+?) of (.+?) \(/.exec(line);
    if (m) {
      const done = parseSize(m[2]);
      const total = parseSize(m[3]);
      if (total > 0 && done >= 0) progress.disks = { ...progress.disks, [m[1]]: { done, total } };
      continue;
    }
    m = /average migration speed: .* - downtime (\d+) ms/.exec(line);
    if (m) progress.downtimeMs = Number(m[1]);
    if (/migration status: completed|migration completed, transferred/.test(line)) progress.completed = true;
  }
  return progress;
}

/** 0–99 while the task runs: disks (when mirrored) take the first half, memory the rest. */
export function progressPercent(progress: TaskProgress): number {
  if (progress.completed) return 99;
  const memory = progress.memory ? Math.min(1, progress.memory.done / progress.memory.total) : 0;
  const drives = Object.values(progress.disks ?? {});
  if (drives.length === 0) return Math.min(99, Math.floor(memory * 100));
  const total = drives.reduce((sum, d) => sum + d.total, 0);
  const disk = Math.min(1, drives.reduce((sum, d) => sum + d.done, 0) / total);
  return Math.min(99, Math.floor(disk * 50 + memory * 50));
}

/** The lines of a task log that say what went wrong (`… ERROR: …`, `TASK ERROR: …`), newest last. */
export function errorLines(lines: readonly string[]): string[] {
  return lines.filter((l) => /\bERROR:|^TASK ERROR/.test(l)).map((l) => l.replace(/^.*?ERROR:\s*/, ''));
}

/** "Permission check failed (/vms/100, VM.Migrate)" → "VM.Migrate on /vms/100". */
export function missingPrivilege(message: string): string | null {
  const m = /Permission check failed \(([^,)]+),\s*([^)]+)\)/.exec(message);
  return m ? `${m[2].trim()} on ${m[1].trim()}` : null;
}
