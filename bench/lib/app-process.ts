// The real app in a process of its own, so that a load generator does not share its event loop.
// Usage: node -r ts-node/register/transpile-only bench/lib/app-process.ts '<JSON env overrides>'
// Prints "listening <port>" on stdout once it serves; closes the app and exits on the IPC message
// "shutdown" or when the parent goes away. The messages { profile: 'start' } and
// { profile: 'stop', file } record a V8 CPU profile of a stretch of the run into `file`; "usage" is
// answered with the process's CPU time so far.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { exitOnFailure, startApp } from '../../test/helpers/app-process';

async function main(): Promise<void> {
  const app = await startApp();
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await app.close().catch(() => undefined);
    process.exit(0);
  };
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  let session: Session | undefined;
  const post = (method: string, params?: object) =>
    new Promise<{ profile?: unknown }>((resolve, reject) =>
      session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result ?? {}))),
    );
  process.on('message', (message: unknown) => {
    if (message === 'shutdown') void shutdown();
    if (message === 'usage') {
      // CPU time so far, and the event loop's delays since the last ask (ms).
      const loop = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
      loopDelay.reset();
      process.send?.({ usage: process.cpuUsage(), at: performance.now(), loop });
    }
    const m = message as { profile?: 'start' | 'stop'; file?: string };
    if (m?.profile === 'start') {
      session = new Session();
      session.connect();
      void post('Profiler.enable').then(() => post('Profiler.start'));
    } else if (m?.profile === 'stop' && session) {
      void post('Profiler.stop').then(({ profile }) => {
        writeFileSync(m.file!, JSON.stringify(profile));
        session!.disconnect();
        process.send?.({ profiled: m.file });
      });
    }
  });
  process.on('disconnect', () => void shutdown());
}

main().catch(exitOnFailure);
