module.exports = require('./drop-test-databases').setup;
