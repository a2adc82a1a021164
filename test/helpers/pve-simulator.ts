// The Proxmox VE API simulator (test/fixtures/pve-simulator) in a process of its own, for specs: start it on a
// scenario, talk to its HTTPS endpoints (self-signed certificate) and its control listener, stop it on teardown.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario } from '../fixtures/pve-simulator/scenario';

const ROOT = join(__dirname, '..', '..');
const ENTRY = join(ROOT, 'test', 'fixtures', 'pve-simulator', 'main.ts');
const REGISTER = join(__dirname, 'ts-cached-register.js');

export interface PveSimulator {
  proc: ChildProcess;
  /** Node name → `https://127.0.0.1:<port>`: every node answers the API. */
  endpoints: Record<string, string>;
  urls: string[];
  /** SHA-256 fingerprint of the certificate, `AB:CD:…` as PVE shows it. */
  fingerprint: string;
  /** The self-signed certificate, usable as the CA file. */
  certFile: string;
  ca: Buffer;
  controlUrl: string;
  stateDir: string;
  /** One control call (`/_sim/...`), JSON in and out. */
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** The truth: nodes, guests, tasks, HA queue. */
  state(): Promise<SimulatorState>;
  stop(): Promise<void>;
}

export interface SimulatorState {
  nowMs: number;
  nodes: Array<{ name: string; online: boolean; maintenance: boolean; listening: boolean; url: string; cpu: number; memUsed: number }>;
  guests: Array<{
    vmid: number;
    node: string;
    status: string;
    lock: string | null;
    ha: { node: string; state: string } | null;
    cpu: number;
    mem: number;
  }>;
  tasks: Array<{ upid: string; node: string; type: string; id: string; user: string; status: string; exitstatus: string | null }>;
  haQueue: unknown[];
}

export interface PveResponse {
  status: number;
  statusText: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer, read as supertest reads one
  body: any;
  raw: string;
}

/** Starts the simulator on `scenario`; resolves once every listener serves. */
export async function startPveSimulator(
  scenario: Scenario,
  options: { timeoutMs?: number; stateDir?: string } = {},
): Promise<PveSimulator> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'pve-sim-'));
  const scenarioFile = join(stateDir, 'scenario.json');
  writeFileSync(scenarioFile, JSON.stringify(scenario));
  const proc = spawn(process.execPath, ['-r', REGISTER, ENTRY, '--scenario', scenarioFile, '--state-dir', stateDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    const info = await new Promise<{ endpoints: Record<string, string>; control: string; certFile: string; fingerprint: string }>(
      (resolve, reject) => {
        let stdout = '';
        const timer = setTimeout(() => reject(new Error(`the PVE simulator did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
        proc.stdout.on('data', (chunk) => {
          stdout += chunk;
          const line = /^PVE-SIMULATOR (.*)$/m.exec(stdout);
          if (line) {
            clearTimeout(timer);
            resolve(JSON.parse(line[1]));
          }
        });
        proc.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`the PVE simulator exited (${code ?? signal}) before serving: ${stderr}`));
        });
      },
    );
    const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(info.control + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };
    return {
      proc,
      endpoints: info.endpoints,
      urls: Object.values(info.endpoints),
      fingerprint: info.fingerprint,
      certFile: info.certFile,
      ca: readFileSync(info.certFile),
      controlUrl: info.control,
      stateDir,
      control,
      state: () => control<SimulatorState>('GET', '/_sim/state'),
      stop: async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = once(proc, 'exit');
          proc.kill('SIGKILL');
          await exited;
        }
        if (!options.stateDir) rmSync(stateDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
}

/**
 * One API call as a PVE client makes it: `PVEAPIToken` header, form-encoded body for POST, the certificate checked
 * against `ca`. `params` go in the query string for GET and DELETE.
 */
export function pveRequest(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; params?: Record<string, string | number>; ca: Buffer; timeoutMs?: number },
): Promise<PveResponse> {
  const form = new URLSearchParams(Object.entries(options.params ?? {}).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const withBody = method === 'POST' || method === 'PUT';
  const url = new URL(`/api2/json${path}${!withBody && form ? `?${form}` : ''}`, baseUrl);
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `PVEAPIToken=${options.token}`;
  if (withBody) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers['Content-Length'] = String(Buffer.byteLength(form));
  }
  return new Promise((resolve, reject) => {
    // A connection per call (agent: false): a stopped listener then refuses it, instead of a pooled socket hanging up.
    const req = httpsRequest(url, { method, headers, ca: options.ca, agent: false, timeout: options.timeoutMs ?? 10_000 }, (res) => {
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (raw += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: raw ? JSON.parse(raw) : undefined, raw }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (withBody) req.write(form);
    req.end();
  });
}
