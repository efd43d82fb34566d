// The workers-and-browsers entry (web.mjs): instantiated synchronously from a compiled
// WebAssembly.Module, as a worker does, it gives the same API; before that, every function
// says how to initialise it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PACKAGE = resolve(process.env.IPNKIT_WASM_PACKAGE ?? join(here, '..', 'package'));
const VECTORS = join(here, '..', '..', 'tests', 'vectors');
const web = await import(pathToFileURL(join(PACKAGE, 'web.mjs')).href);
const node = await import(pathToFileURL(join(PACKAGE, 'ipnkit.mjs')).href);

test('before initSync, a call says how to initialise', () => {
  assert.throws(() => web.parse(new Uint8Array([0x61])), /initSync\(\{ module \}\)/);
});

test('initSync({ module }) from a compiled module gives the same API as the Node entry', () => {
  const module = new WebAssembly.Module(readFileSync(join(PACKAGE, 'web', 'ipnkit_wasm_bg.wasm')));
  const api = web.initSync({ module });
  assert.equal(web.initSync({ module }), api, 'a second call returns the same API');
  assert.deepEqual(Object.keys(api).sort(), Object.keys(node.default).sort());
  for (const name of ['web_accept--windows1252', 'cart--shift_jis', 'adaptive_pay--utf8_two_receivers']) {
    const body = readFileSync(join(VECTORS, `${name}.body`));
    const m = web.parse(body);
    assert.ok(m instanceof web.Message);
    assert.equal(JSON.stringify(m), JSON.stringify(node.parse(body)), name);
  }
  assert.throws(() => web.parse(new TextEncoder().encode('a=1&a=2')), (e) => e instanceof web.DuplicateKeyError);
});
