// Jest's order (failed last time first, then slowest first), except that the specs which take the machine to
// themselves (`@machine exclusive`, see machine-lock-environment.js) come before all others: each then waits
// only for the short exclusive spec before it, never for a long spec that the other worker happened to start.
'use strict';
const Sequencer = require('@jest/test-sequencer').default;
const { extract, parse } = require('jest-docblock');
const { readFileSync } = require('node:fs');

const exclusive = (test) => parse(extract(readFileSync(test.path, 'utf8'))).machine === 'exclusive';

class ExclusiveFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted.filter(exclusive), ...sorted.filter((test) => !exclusive(test))];
  }
}

module.exports = ExclusiveFirstSequencer;
