// Jest's node environment, plus a lock on the machine shared by the workers of one jest run.
// A spec whose assertions are about speed (an answer within 1 s while a flood is planned, a p99) carries the
// docblock pragma `@machine exclusive` at its very top: it waits until the other worker's spec has ended, and
// the other worker starts no spec until it is done. Every other spec shares the machine. With two workers on two
// cores, the evacuation of test/planner-queue.e2e-spec.ts answered in 1.5 s instead of under 1 s while the other
// worker ran; alone it has the cores a CI run of one worker gave it. exclusive-first-sequencer.js runs these
// specs first, so that they wait for no long spec. The lock is only ever waited for with nothing held: no deadlock.
'use strict';
const { TestEnvironment } = require('jest-environment-node');
const { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const POLL_MS = 100;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A process that exists (a lock of a worker that died is no lock). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** The lock's directory for the jest run whose main process has this id; its global teardown removes it. */
function machineLockDir(run) {
  return join(tmpdir(), `drs-jest-machine-${run}`);
}

class MachineLockEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.exclusive = context.docblockPragmas.machine === 'exclusive';
    // One directory per jest run: its workers are children of the jest process (in band, jest runs the specs itself).
    const run = process.env.JEST_WORKER_ID !== undefined && process.send !== undefined ? process.ppid : process.pid;
    this.dir = machineLockDir(run);
    this.sharedFile = join(this.dir, `shared-${process.pid}`);
    this.exclusiveDir = join(this.dir, 'exclusive');
    this.held = false;
  }

  async setup() {
    mkdirSync(this.dir, { recursive: true });
    if (this.exclusive) await this.takeMachine();
    else await this.shareMachine();
    this.held = true;
    await super.setup();
  }

  async teardown() {
    await super.teardown();
    if (!this.held) return;
    rmSync(this.exclusive ? this.exclusiveDir : this.sharedFile, { recursive: true, force: true });
    this.held = false;
  }

  /** Whether another process holds the machine alone (or is waiting to: it has claimed it first). */
  exclusiveByOther() {
    let owner;
    try {
      owner = Number(readFileSync(join(this.exclusiveDir, 'owner'), 'utf8'));
    } catch (err) {
      // No claim; or one made an instant ago whose owner is not written yet: that one counts.
      if (err.code !== 'ENOENT') throw err;
      try {
        readdirSync(this.exclusiveDir);
        return true;
      } catch {
        return false;
      }
    }
    if (owner === process.pid) return false;
    if (owner && !alive(owner)) {
      rmSync(this.exclusiveDir, { recursive: true, force: true });
      return false;
    }
    return true;
  }

  /** Announces this spec, then backs off for as long as an exclusive spec has claimed the machine. */
  async shareMachine() {
    for (;;) {
      writeFileSync(this.sharedFile, '');
      if (!this.exclusiveByOther()) return;
      rmSync(this.sharedFile, { force: true });
      await sleep(POLL_MS);
    }
  }

  /** Claims the machine (one exclusive spec at a time), then waits for the specs that share it to end. */
  async takeMachine() {
    for (;;) {
      try {
        mkdirSync(this.exclusiveDir);
        writeFileSync(join(this.exclusiveDir, 'owner'), String(process.pid));
        break;
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
        this.exclusiveByOther();
        await sleep(POLL_MS);
      }
    }
    const sharing = () =>
      readdirSync(this.dir)
        .filter((name) => name.startsWith('shared-'))
        .map((name) => Number(name.slice('shared-'.length)))
        .filter((pid) => pid !== process.pid && alive(pid));
    while (sharing().length > 0) await sleep(POLL_MS);
  }
}

module.exports = MachineLockEnvironment;
module.exports.machineLockDir = machineLockDir;
