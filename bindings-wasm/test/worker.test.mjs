// The worker example (examples/worker.mjs), end to end in workerd (Cloudflare's runtime, from
// npm) on loopback: `ipnkit sandbox` delivers every vector with every fault on; the worker keeps
// each body in its Durable Object's SQLite storage before the 200, posts back with fetch,
// decides and deduplicates. Every delivery must end settled exactly as ipnkit's rules say
// (replayed in the order the worker settled them), verified, and acted on once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import {
  IPNKIT_BIN, RECEIVER, checkOutcome, deliverEveryVector, freePort, sandboxReport, stop, until,
} from '../../bindings-node/test/sandbox.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const WASM_DIR = resolve(here, '..');
const PACKAGE = resolve(process.env.IPNKIT_WASM_PACKAGE ?? join(WASM_DIR, 'package'));
const WORKERD = join(WASM_DIR, 'node_modules', '.bin', 'workerd');
const ipnkit = await import(pathToFileURL(join(PACKAGE, 'ipnkit.mjs')).href);

const work = mkdtempSync(join(tmpdir(), 'ipnkit-workerd-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The worker's modules under the names it imports, and a workerd configuration serving it
 * (`more`: further text bindings, name => value). */
function layout(port, sandboxPort, more = {}) {
  const files = {
    'worker.mjs': join(WASM_DIR, 'examples', 'worker.mjs'),
    'ipnkit-wasm/web.mjs': join(PACKAGE, 'web.mjs'),
    'ipnkit-wasm/api.mjs': join(PACKAGE, 'api.mjs'),
    'ipnkit-wasm/native.mjs': join(PACKAGE, 'native.mjs'),
    'ipnkit-wasm/schema.mjs': join(PACKAGE, 'schema.mjs'),
    'ipnkit-wasm/web/ipnkit_wasm.js': join(PACKAGE, 'web', 'ipnkit_wasm.js'),
    'ipnkit-wasm/ipnkit.wasm': join(PACKAGE, 'web', 'ipnkit_wasm_bg.wasm'),
  };
  for (const [name, source] of Object.entries(files)) {
    mkdirSync(dirname(join(work, name)), { recursive: true });
    copyFileSync(source, join(work, name));
  }
  rmSync(join(work, 'store'), { recursive: true, force: true });
  mkdirSync(join(work, 'store'));
  // Module names are what the worker imports: `ipnkit-wasm/web`, `ipnkit-wasm/ipnkit.wasm`.
  writeFileSync(join(work, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .listener),
    (name = "store", disk = (path = ${JSON.stringify(join(work, 'store'))}, writable = true)),
    (name = "internet", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const listener :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "ipnkit-wasm/web", esModule = embed "ipnkit-wasm/web.mjs"),
    (name = "ipnkit-wasm/api.mjs", esModule = embed "ipnkit-wasm/api.mjs"),
    (name = "ipnkit-wasm/native.mjs", esModule = embed "ipnkit-wasm/native.mjs"),
    (name = "ipnkit-wasm/schema.mjs", esModule = embed "ipnkit-wasm/schema.mjs"),
    (name = "ipnkit-wasm/web/ipnkit_wasm.js", esModule = embed "ipnkit-wasm/web/ipnkit_wasm.js"),
    (name = "ipnkit-wasm/ipnkit.wasm", wasm = embed "ipnkit-wasm/ipnkit.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  durableObjectNamespaces = [ (className = "Inbox", uniqueKey = "ipnkit-inbox", enableSql = true) ],
  durableObjectStorage = (localDisk = "store"),
  globalOutbound = "internet",
  bindings = [
    (name = "INBOX", durableObjectNamespace = "Inbox"),
    (name = "PAYPAL_ENV", text = "sandbox"),
    (name = "RECEIVER_EMAIL", text = ${JSON.stringify(RECEIVER)}),
    (name = "VERIFY_URL", text = "http://127.0.0.1:${sandboxPort}"),
    (name = "POSTBACK_TIMEOUT_MS", text = "3000"),
    (name = "TEST_REPORT", text = "on"),${Object.entries(more).map(([name, value]) => `
    (name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)}),`).join('')}
  ],
);
`);
}

test('the worker in workerd against ipnkit sandbox with every fault on: every delivery settled as the rules say, each acted on once', async () => {
  for (const [path, what] of [
    [IPNKIT_BIN, 'the ipnkit binary (cargo build -p ipnkit-cli, or set IPNKIT_BIN)'],
    [WORKERD, 'workerd (scripts/setup installs the wasm package tools)'],
    [join(PACKAGE, 'web.mjs'), 'the wasm package (scripts/build wasm)'],
  ]) {
    assert.ok(existsSync(path), `missing ${what}: ${path}`);
  }
  const [port, sandboxPort] = [await freePort(), await freePort()];
  layout(port, sandboxPort);
  const workerd = spawn(WORKERD, ['serve', 'config.capnp'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let problems = '';
  workerd.stdout.on('data', (chunk) => (problems += chunk));
  workerd.stderr.on('data', (chunk) => (problems += chunk));
  let sandbox;
  try {
    const base = `http://127.0.0.1:${port}`;
    await until(30_000, 'workerd to answer', async () => (await fetch(`${base}/report`)).ok || undefined, () => problems);
    sandbox = await deliverEveryVector(sandboxPort, `${base}/ipn`);
    let waiting = [];
    const store = await until(60_000, 'every message to settle', async () => {
      const report = await (await fetch(`${base}/report`)).json();
      waiting = report.messages.filter((m) => m.state === 'received').map((m) => m.id);
      return waiting.length === 0 ? report : undefined;
    }, () => `unsettled: ${JSON.stringify(waiting)}\n${problems}`);
    const settled = store.messages
      .map((m) => ({ ...m, body: Buffer.from(m.body), key: m.delivery_key }))
      .sort((a, b) => a.settled - b.settled);
    const events = store.events.map((e) => e.delivery_key);
    checkOutcome(ipnkit, { report: await sandboxReport(sandboxPort), settled, events, problems });
  } finally {
    await stop(workerd);
    if (sandbox) await stop(sandbox);
  }
});

test('the worker takes webhooks in workerd: signed by ipnkit sandbox, its certificate fetched once, each event acted on once, a forged one refused', async () => {
  const [port, sandboxPort] = [await freePort(), await freePort()];
  const sandbox = spawn(IPNKIT_BIN, ['sandbox', '--listen', `127.0.0.1:${sandboxPort}`, '--serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let workerd;
  let problems = '';
  try {
    const stand = `http://127.0.0.1:${sandboxPort}`;
    const ca = await until(30_000, 'ipnkit sandbox to answer', async () => {
      const r = await fetch(`${stand}/sandbox/webhook-ca.pem`);
      return r.ok ? r.text() : undefined;
    });
    layout(port, sandboxPort, { WEBHOOK_ID: 'WH-WORKER', WEBHOOK_CA: ca, WEBHOOK_CERT_BASE: stand });
    workerd = spawn(WORKERD, ['serve', 'config.capnp'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    workerd.stdout.on('data', (chunk) => (problems += chunk));
    workerd.stderr.on('data', (chunk) => (problems += chunk));
    const base = `http://127.0.0.1:${port}`;
    await until(30_000, 'workerd to answer', async () => (await fetch(`${base}/report`)).ok || undefined, () => problems);
    const sign = async (body) => {
      const r = await fetch(`${stand}/sandbox/sign-webhook?webhook_id=WH-WORKER`, { method: 'POST', body });
      assert.equal(r.status, 200);
      return (await r.json()).headers;
    };
    const capture = (id) => JSON.stringify({
      id: `WH-${id}`, event_type: 'PAYMENT.CAPTURE.COMPLETED', create_time: '2026-12-07T10:00:00Z',
      resource: { id: 'CAPTURE-1', status: 'COMPLETED', amount: { currency_code: 'USD', value: '10.00' } },
    });
    const deliver = async (body, headers) => {
      const r = await fetch(`${base}/webhook`, { method: 'POST', body, headers: { ...headers, 'content-type': 'application/json' } });
      return r.status;
    };
    const first = capture('A');
    const firstHeaders = await sign(first);
    assert.equal(await deliver(first, firstHeaders), 200);
    assert.equal(await deliver(first, firstHeaders), 200); // PayPal's redelivery
    // Another event about the same capture state (the IPN twin would carry the same key).
    const twin = capture('B');
    assert.equal(await deliver(twin, await sign(twin)), 200);
    // Re-formatted after signing: not PayPal's bytes.
    assert.equal(await deliver(JSON.stringify(JSON.parse(first), null, 2), firstHeaders), 200);
    // Without PayPal's headers: refused before it is stored.
    assert.equal(await deliver(first, {}), 400);
    let seen = [];
    const store = await until(30_000, 'the four webhooks to settle', async () => {
      const report = await (await fetch(`${base}/report`)).json();
      seen = report.webhooks;
      return seen.length === 4 && seen.every((w) => w.state !== 'received') ? report : undefined;
    }, () => `${JSON.stringify(seen)}\n${problems}`);
    const states = store.webhooks.map((w) => [w.state, w.detail]);
    assert.deepEqual(states.slice(1, 3).sort(), [['duplicate', null], ['duplicate', null]]);
    assert.deepEqual(states[0], ['accepted', null]);
    assert.deepEqual(states[3], ['refused', 'signature_mismatch']);
    assert.equal(store.webhooks[0].delivery_key, 'txn:CAPTURE-1:Completed');
    assert.deepEqual(store.events.map((e) => [e.delivery_key, e.event]), [['txn:CAPTURE-1:Completed', 'payment_completed']]);
    assert.equal(store.certificates, 1, 'the certificate is fetched once and kept');
  } finally {
    if (workerd) await stop(workerd);
    await stop(sandbox);
  }
});
