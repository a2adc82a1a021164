// The end of a jest run: the machine lock's directory removed (machine-lock-environment.js), and on PostgreSQL the
// databases the specs left dropped (drop-test-databases.js).
const { rmSync } = require('node:fs');
const { machineLockDir } = require('./machine-lock-environment');
const dropTestDatabases = require('./drop-test-databases').teardown;

module.exports = async function globalTeardown(...args) {
  rmSync(machineLockDir(process.pid), { recursive: true, force: true });
  await dropTestDatabases(...args);
};
