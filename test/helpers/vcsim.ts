// Starts and stops the vCenter simulator of test/fixtures/vcsim (vcsim.sh) from a jest spec. `install` runs first:
// on a fresh CI machine (root, Debian) it adds Go and govmomi's sources; the binary is cached per main.go and Go version.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const VCSIM_SCRIPT = join(__dirname, '..', 'fixtures', 'vcsim', 'vcsim.sh');

export interface VcsimVm {
  name: string;
  ref: string;
}
export interface VcsimHost {
  name: string;
  ref: string;
  vms: VcsimVm[];
}
export interface VcsimCluster {
  name: string;
  ref: string;
  /** The cluster's root resource pool. */
  pool: string;
  drsEnabled: boolean;
  hosts: VcsimHost[];
}

/** The JSON line vcsim prints once it serves. */
export interface VcsimInfo {
  url: string;
  controlUrl: string;
  /** GET: where each VM runs and how many times it was relocated, from the simulator's own objects. */
  placementUrl: string;
  username: string;
  password: string;
  tls: boolean;
  certificateFile: string | null;
  sha256: string | null;
  sha1: string | null;
  pid: number;
  relocateDelayMs: number;
  clusters: VcsimCluster[];
}

export interface VcsimRulesFile {
  [cluster: string]: {
    vmGroups?: { name: string; vms: string[] }[];
    hostGroups?: { name: string; hosts: string[] }[];
    rules?: {
      name: string;
      kind: 'affinity' | 'anti-affinity' | 'vm-host';
      enabled?: boolean;
      mandatory?: boolean;
      vms?: string[];
      vmGroup?: string;
      affineHostGroup?: string;
      antiAffineHostGroup?: string;
    }[];
  };
}

export interface VcsimOptions {
  clusters?: number;
  /** per cluster */
  hosts?: number;
  /** per host */
  vms?: number;
  /** per cluster, spread evenly over its hosts (instead of vms) */
  clusterVms?: number;
  tls?: boolean;
  username?: string;
  password?: string;
  drsEnabled?: string[];
  rules?: VcsimRulesFile;
  /** How long a RelocateVM_Task stays running (changeable later with setRelocateDelay). */
  relocateDelayMs?: number;
  load?: number;
  poweredOff?: string[];
  /** old name → new name */
  renames?: Record<string, string>;
  listen?: string;
}

export interface VcsimPlacement {
  vm: string;
  host: string;
  cluster: string;
  relocations: number;
}

export interface Vcsim extends VcsimInfo {
  stateDir: string;
  /** Changes how long the next RelocateVM_Tasks stay running. */
  setRelocateDelay(ms: number): Promise<void>;
  /** Where each VM runs (and in which cluster), and how many times it was relocated: the simulator's truth. */
  placement(): Promise<VcsimPlacement[]>;
  /** Stops the simulator and removes its state dir. */
  kill(): Promise<void>;
}

let installed: Promise<unknown> | undefined;

export async function startVcsim(options: VcsimOptions = {}): Promise<Vcsim> {
  installed ??= run('bash', [VCSIM_SCRIPT, 'install'], { maxBuffer: 1 << 22 });
  await installed;
  const args: string[] = [
    `-clusters=${options.clusters ?? 2}`,
    `-hosts=${options.hosts ?? 3}`,
    `-vms=${options.vms ?? 2}`,
    `-load=${options.load ?? 1}`,
    `-relocate-delay=${options.relocateDelayMs ?? 0}ms`,
    `-listen=${options.listen ?? '127.0.0.1:0'}`,
  ];
  if (options.clusterVms !== undefined) args.push(`-cluster-vms=${options.clusterVms}`);
  if (options.tls) args.push('-tls');
  if (options.username !== undefined) args.push(`-username=${options.username}`);
  if (options.password !== undefined) args.push(`-password=${options.password}`);
  for (const name of options.drsEnabled ?? []) args.push(`-drs-enabled=${name}`);
  for (const name of options.poweredOff ?? []) args.push(`-powered-off=${name}`);
  for (const [from, to] of Object.entries(options.renames ?? {})) args.push(`-rename=${from}=${to}`);
  if (options.rules) args.push(`-rules=${JSON.stringify(options.rules)}`);

  const stateDir = mkdtempSync(join(tmpdir(), 'drs-vcsim-'));
  const { stdout } = await run('bash', [VCSIM_SCRIPT, 'start', stateDir, ...args], { maxBuffer: 1 << 24 });
  const info = JSON.parse(stdout.trim().split('\n')[0]) as VcsimInfo;
  return {
    ...info,
    stateDir,
    setRelocateDelay: (ms: number) => putConfig(info, { relocateDelayMs: ms }),
    placement: () => getJson<VcsimPlacement[]>(info, info.placementUrl),
    async kill() {
      await run('bash', [VCSIM_SCRIPT, 'stop', stateDir]).catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** PUT on the simulator's control endpoint (over HTTPS with its own certificate when it serves TLS). */
function putConfig(info: VcsimInfo, config: { relocateDelayMs: number }): Promise<void> {
  const transport = info.controlUrl.startsWith('https:') ? https : http;
  const ca = info.certificateFile ? readFileSync(info.certificateFile) : undefined;
  return new Promise<void>((resolve, reject) => {
    const request = transport.request(info.controlUrl, { method: 'PUT', ca }, (response) => {
      response.resume();
      response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`vcsim config: HTTP ${response.statusCode}`))));
    });
    request.on('error', reject);
    request.end(JSON.stringify(config));
  });
}

/** GET on one of the simulator's own endpoints (over HTTPS with its own certificate when it serves TLS). */
function getJson<T>(info: VcsimInfo, url: string): Promise<T> {
  const transport = url.startsWith('https:') ? https : http;
  const ca = info.certificateFile ? readFileSync(info.certificateFile) : undefined;
  return new Promise<T>((resolve, reject) => {
    const request = transport.get(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) reject(new Error(`vcsim ${url}: HTTP ${response.statusCode}`));
        else resolve(JSON.parse(body) as T);
      });
    });
    request.on('error', reject);
  });
}
