#!/usr/bin/env node
// Runs before `npm test`: the dashboard's browser test drives Debian's Chromium (nothing is downloaded
// at test time). When it is missing and we are root with apt-get, install it; otherwise stop and say
// what to install, so that `npm ci && npm test` works on a fresh machine or fails in one clear line.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const APT_GET = '/usr/bin/apt-get';

function main() {
  if (existsSync(CHROMIUM)) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.env.CHROMIUM_PATH || !root || !existsSync(APT_GET)) {
    const how = existsSync(APT_GET) ? 'sudo apt-get install -y chromium' : "your system's Chromium package";
    process.stderr.write(
      `The dashboard's browser test needs Chromium at ${CHROMIUM}, which is missing.\n` +
        `Install it with \`${how}\` (or point CHROMIUM_PATH at a Chromium binary), then run the tests again.\n`,
    );
    process.exit(1);
  }
  process.stderr.write(`Chromium is missing at ${CHROMIUM}: installing Debian's chromium package (once, a minute or two)...\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync(APT_GET, ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync(APT_GET, ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`apt-get installed chromium but ${CHROMIUM} is still missing; set CHROMIUM_PATH to the browser binary.\n`);
    process.exit(1);
  }
}

main();
