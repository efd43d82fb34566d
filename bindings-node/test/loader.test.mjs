// Which build a package runs, and what its loader says when it cannot run the one asked for.
// (The release dry-run installs the packed packages and checks the fallback to ipnkit-wasm and the
// musl addon; here, the loader's answers that need no install.)
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { PACKAGE_DIR, ipnkit, required } from './support.mjs';

const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'));
const WASM = pkg.name === 'ipnkit-wasm';

/** `require(dir)` in a new node with IPNKIT_BUILD set (or removed): its status and output. */
function load(dir, build, code = 'console.log(require(process.argv[1]).build)') {
  const env = { ...process.env };
  if (build === undefined) delete env.IPNKIT_BUILD;
  else env.IPNKIT_BUILD = build;
  const run = spawnSync(process.execPath, ['-e', code, `${dir}/`], { env, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr };
}

test('the package says which build it runs, the same through import and require', () => {
  assert.equal(ipnkit.build, WASM ? 'wasm' : 'native');
  assert.equal(required.build, ipnkit.build);
  assert.equal(ipnkit.default.build, ipnkit.build);
});

// ipnkit has a loader, which these tests are about; ipnkit-wasm has none: it is the WebAssembly
// build, whatever IPNKIT_BUILD says. Each package runs the tests that are about it.
const loaderTest = WASM ? () => {} : test;
const wasmTest = WASM ? test : () => {};

wasmTest('IPNKIT_BUILD chooses in ipnkit only: ipnkit-wasm is the WebAssembly build whatever it says', () => {
  assert.deepEqual(load(PACKAGE_DIR, 'native'), { status: 0, stdout: 'wasm', stderr: '' });
  assert.deepEqual(load(PACKAGE_DIR, 'Native'), { status: 0, stdout: 'wasm', stderr: '' });
});

loaderTest('IPNKIT_BUILD takes native, wasm or nothing, and names itself otherwise', () => {
  assert.deepEqual(load(PACKAGE_DIR, 'native'), { status: 0, stdout: 'native', stderr: '' });
  assert.deepEqual(load(PACKAGE_DIR, undefined), { status: 0, stdout: 'native', stderr: '' });
  const wrong = load(PACKAGE_DIR, 'Native');
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /IPNKIT_BUILD must be "native" or "wasm" \(or unset\), not "Native"/);
});

loaderTest('without an addon: IPNKIT_BUILD=native is an error naming what was tried; the fallback needs ipnkit-wasm', () => {
  // The package's own files only, as npm unpacks it, with no platform package beside it.
  const dir = mkdtempSync(join(tmpdir(), 'ipnkit-loader-'));
  try {
    for (const file of pkg.files) copyFileSync(join(PACKAGE_DIR, file), join(dir, file));
    copyFileSync(join(PACKAGE_DIR, 'package.json'), join(dir, 'package.json'));
    const native = load(dir, 'native');
    assert.equal(native.status, 1);
    const platform = `${process.platform}-${process.arch}`;
    assert.match(native.stderr, new RegExp(`no native ipnkit addon loaded for ${platform} \\(`));
    assert.match(native.stderr, new RegExp(`ipnkit-${platform}-gnu: not installed`));
    assert.match(native.stderr, /IPNKIT_BUILD=native asks for one/);
    assert.doesNotMatch(native.stderr, /\.node: /, 'a local build that is not there is not named');
    // Unset: the WebAssembly build would be next; it is a dependency, missing here, and said so.
    const fallback = load(dir, undefined);
    assert.equal(fallback.status, 1);
    assert.match(fallback.stderr, /ipnkit-wasm, a dependency of ipnkit, is missing \(reinstall ipnkit\)/);
    const forced = load(dir, 'wasm');
    assert.equal(forced.status, 1);
    assert.match(forced.stderr, /IPNKIT_BUILD=wasm asks for the WebAssembly build, and the WebAssembly build is not installed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

loaderTest('an addon that does not load is named with its error, not as absent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipnkit-loader-'));
  try {
    for (const file of pkg.files) copyFileSync(join(PACKAGE_DIR, file), join(dir, file));
    copyFileSync(join(PACKAGE_DIR, 'package.json'), join(dir, 'package.json'));
    const name = `${process.platform}-${process.arch}-gnu`;
    // Not a shared object: what a truncated download or another platform's file looks like.
    execFileSync('sh', ['-c', `printf 'not an ELF file' > "${dir}/ipnkit.${name}.node"`]);
    const native = load(dir, 'native');
    assert.equal(native.status, 1);
    assert.match(native.stderr, new RegExp(`\\./ipnkit\\.${name}\\.node: (?!not built)\\S`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
