'use strict';
// The ipnkit-wasm npm package, Node entry (CommonJS): the JavaScript API over the wasm module.
const { createApi } = require('./api.cjs');
const { createNative } = require('./native.cjs');

// The module's code units are little-endian bytes: Buffer's UTF-16LE decoding reads them as
// they are, and is several times faster in Node than a TextDecoder.
const decodeUnits = (units) => Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString('utf16le');

module.exports = createApi(createNative(require('./node/ipnkit_wasm.js'), require('./schema.cjs'), decodeUnits), 'wasm');
