'use strict';
// The ipnkit npm package, CommonJS entry: the JavaScript API over this platform's native addon
// (the optional dependency `ipnkit-<platform>` npm installed, or a local build beside this file),
// or over the WebAssembly build (`ipnkit-wasm`, the same API) when no native addon loads.
//
// IPNKIT_BUILD chooses:
//   unset    the native addon when one loads, else the WebAssembly build, with a warning
//            (code IPNKIT_WASM_FALLBACK) naming what was tried and why it failed;
//   native   the native addon, or an error naming what was tried and why it failed;
//   wasm     the WebAssembly build, without trying the native addon.
const { createApi } = require('./api.cjs');

/**
 * This platform's names, as napi-rs names builds: `linux-x64-gnu`, `linux-x64-musl`,
 * `darwin-arm64`, `win32-x64-msvc`… On Linux both C libraries are named, this process's first.
 */
function platformNames() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    return glibc() ? [`linux-${arch}-gnu`, `linux-${arch}-musl`] : [`linux-${arch}-musl`, `linux-${arch}-gnu`];
  }
  if (platform === 'win32') return [`win32-${arch}-msvc`];
  return [`${platform}-${arch}`];
}

/** Whether this Node runs on glibc: its diagnostic report names glibc's version, musl's none. */
function glibc() {
  const { report } = process;
  const excludeNetwork = report.excludeNetwork;
  report.excludeNetwork = true; // no DNS lookups for a report read once
  try {
    return typeof report.getReport().header.glibcVersionRuntime === 'string';
  } finally {
    report.excludeNetwork = excludeNetwork;
  }
}

/**
 * The native addon, or the reasons none loaded: each platform package tried, and each local
 * build found, with its error (a local build that is not there is no news to a user of npm).
 */
function loadNative() {
  const tried = [];
  for (const name of platformNames()) {
    // A local build (scripts/build node) first, then the platform package npm installed.
    for (const id of [`./ipnkit.${name}.node`, `ipnkit-${name}`]) {
      try {
        return { addon: require(id), tried };
      } catch (e) {
        const absent = e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`'${id}'`);
        if (absent && id.startsWith('./')) continue;
        tried.push(`${id}: ${absent ? 'not installed' : String((e && e.message) || e).split('\n')[0]}`);
      }
    }
  }
  return { addon: null, tried };
}

/** The WebAssembly build: ipnkit's dependency `ipnkit-wasm`, installed with it. */
function loadWasm(why) {
  try {
    return require('ipnkit-wasm');
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes("'ipnkit-wasm'")) {
      throw new Error(`ipnkit: ${why}, and the WebAssembly build is not installed: ipnkit-wasm, a dependency of ipnkit, is missing (reinstall ipnkit)`);
    }
    throw e;
  }
}

function load() {
  const build = process.env.IPNKIT_BUILD ?? '';
  if (build === 'wasm') return loadWasm('IPNKIT_BUILD=wasm asks for the WebAssembly build');
  if (build !== '' && build !== 'native') {
    throw new Error(`ipnkit: IPNKIT_BUILD must be "native" or "wasm" (or unset), not ${JSON.stringify(build)}`);
  }
  const { addon, tried } = loadNative();
  if (addon !== null) return createApi(addon, 'native');
  const why = `no native ipnkit addon loaded for ${process.platform}-${process.arch} (${tried.join('; ')})`;
  if (build === 'native') {
    throw new Error(`ipnkit: ${why}; IPNKIT_BUILD=native asks for one`);
  }
  const api = loadWasm(why);
  process.emitWarning(`${why}: using the WebAssembly build (ipnkit-wasm). Set IPNKIT_BUILD=wasm to choose it without this warning, or IPNKIT_BUILD=native to make this an error.`, {
    code: 'IPNKIT_WASM_FALLBACK',
  });
  return api;
}

module.exports = load();
