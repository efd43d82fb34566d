'use strict';
// The ipnkit npm package, CommonJS entry: the JavaScript API over the Node addon.
const { createApi } = require('./api.cjs');

module.exports = createApi(require('./ipnkit.node'));
