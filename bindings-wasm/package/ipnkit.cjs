'use strict';
// The ipnkit-wasm npm package, Node entry (CommonJS): the JavaScript API over the wasm module.
const { createApi } = require('./api.cjs');
const { createNative } = require('./native.cjs');

module.exports = createApi(createNative(require('./node/ipnkit_wasm.js')));
