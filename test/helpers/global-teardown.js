module.exports = require('./drop-test-databases').teardown;
