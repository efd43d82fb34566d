// The example listeners (examples/), end to end: each runs as its own process on loopback,
// with `ipnkit` resolved to the package under test, while `ipnkit sandbox` delivers every
// vector with every fault on (slow, 503, HTML and dropped postbacks; duplicate and reordered
// deliveries). The store must end with every delivery settled exactly as ipnkit's rules say,
// replayed in the order the listener settled them, and the listener must have acted once per
// accepted delivery. The examples also type-check with tsc --strict.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { FileStore } from '../examples/store.mjs';
import { PACKAGE_DIR, ROOT, VECTORS, filesIn, ipnkit, read } from './support.mjs';

const NODE_DIR = join(ROOT, 'bindings-node');
const IPNKIT_BIN = process.env.IPNKIT_BIN ?? join(ROOT, 'target', 'debug', 'ipnkit');
const RECEIVER = 'shop@example.net';

/** A project directory where the examples find `ipnkit` (the package under test) and Express. */
let project = '';

before(() => {
  for (const [path, what] of [
    [IPNKIT_BIN, 'the ipnkit binary (cargo build -p ipnkit-cli, or set IPNKIT_BIN)'],
    [join(NODE_DIR, 'node_modules', 'express'), 'express (scripts/setup installs the Node tools)'],
    [join(NODE_DIR, 'node_modules', '.bin', 'tsc'), 'typescript (scripts/setup installs the Node tools)'],
  ]) {
    if (!existsSync(path)) throw new Error(`missing ${what}: ${path}`);
  }
  project = mkdtempSync(join(tmpdir(), 'ipnkit-examples-'));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(PACKAGE_DIR, join(project, 'node_modules', 'ipnkit'));
  symlinkSync(join(NODE_DIR, 'node_modules', 'express'), join(project, 'node_modules', 'express'));
  symlinkSync(join(NODE_DIR, 'node_modules', '@types'), join(project, 'node_modules', '@types'));
  cpSync(join(NODE_DIR, 'examples'), join(project, 'examples'), { recursive: true });
});

after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

test('the examples type-check with tsc --strict', () => {
  const examples = readdirSync(join(project, 'examples')).filter((n) => n.endsWith('.mjs'));
  const run = spawnSync(
    join(NODE_DIR, 'node_modules', '.bin', 'tsc'),
    ['--strict', '--checkJs', '--allowJs', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--types', 'node', ...examples.map((n) => join('examples', n))],
    { cwd: project, encoding: 'utf8' },
  );
  assert.equal(run.status, 0, `tsc:\n${run.stdout}${run.stderr}`);
});

/** Resolves with the first match of `pattern` in what `stream` prints, within `ms`. */
function waitFor(stream, pattern, ms, what) {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; got:\n${text}`)), ms);
    stream.on('data', (chunk) => {
      text += chunk;
      const match = pattern.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops `child` and resolves with its exit. */
function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

/** A port free on loopback now (the sandbox's verification endpoint binds it next). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs one example listener against the sandbox until every delivery is settled; returns the
 * listener's settled records (in the order it settled them) and the events it printed.
 */
async function runAgainstSandbox(example) {
  const dir = join(project, `store-${example}`);
  const sandboxPort = await freePort();
  const listener = spawn(
    process.execPath,
    [join(project, 'examples', example), '--listen', '127.0.0.1:0', '--dir', dir, '--env', 'sandbox',
      '--receiver-email', RECEIVER, '--verify-url', `http://127.0.0.1:${sandboxPort}`, '--postback-timeout', '5'],
    { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let printed = '';
  listener.stdout.on('data', (chunk) => (printed += chunk));
  let problems = '';
  listener.stderr.on('data', (chunk) => (problems += chunk));
  let sandbox;
  try {
    const [, url] = await waitFor(listener.stderr, /\{"listening":"([^"]+)"\}/, 20_000, 'listening line');
    sandbox = spawn(IPNKIT_BIN, ['sandbox', '--listen', `127.0.0.1:${sandboxPort}`, '--deliver-to', url,
      '--faults', 'all', '--linger', '0', '--serve', VECTORS], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The sandbox ends its progress line once every delivery (retries and duplicates too) is made.
    await waitFor(sandbox.stderr, /delivered \d+\/\d+\n/, 120_000, 'end of deliveries');
    const store = new FileStore(dir); // read only: the listener owns it
    const deadline = Date.now() + 60_000;
    while ((await store.waiting()).length > 0) {
      assert.ok(Date.now() < deadline, `${example}: messages left unsettled: ${await store.waiting()}`);
      await sleep(100);
    }
    const report = await (await fetch(`http://127.0.0.1:${sandboxPort}/sandbox/report`)).json();
    return { report, settled: await store.settled(), printed, problems: () => problems };
  } finally {
    await stop(listener);
    if (sandbox) await stop(sandbox);
  }
}

/** The bytes the sandbox sends for a vector: trailing CR/LF dropped, `test_ipn=1` added if absent. */
function asSandboxSends(body) {
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end -= 1;
  const trimmed = body.subarray(0, end);
  const hasTestIpn = trimmed.toString('latin1').split('&').some((pair) => pair.startsWith('test_ipn='));
  return hasTestIpn ? trimmed : Buffer.concat([trimmed, Buffer.from('&test_ipn=1')]);
}

const config = new ipnkit.Config({ environment: 'sandbox', receiver_emails: [RECEIVER] });
const VERIFIED = ipnkit.verdict(200, Buffer.from('VERIFIED'));

/**
 * What a listener must have done with each delivery, replayed in the order it settled them:
 * the state ipnkit's decision gives against the keys accepted before it.
 */
function expectedStates(settled) {
  const accepted = new Map(); // lookup id -> keys, oldest first
  return settled.map((record) => {
    const message = ipnkit.parse(record.body, { config });
    const stored = accepted.get(message.lookupId) ?? [];
    const decision = ipnkit.decide(message, VERIFIED, { config, expected: ipnkit.Expected.noAmount(), storedKeys: stored });
    switch (decision.action) {
      case 'act':
        accepted.set(message.lookupId, [...stored, decision.deliveryKey]);
        return { state: 'accepted', detail: null };
      case 'skip':
        return { state: decision.delivery.kind, detail: null };
      case 'refuse':
        return { state: 'refused', detail: decision.violations.map((v) => v.code).join(',') };
      default:
        throw new Error(`a verified message cannot be ${decision.action}`);
    }
  });
}

for (const example of ['express-listener.mjs', 'http-listener.mjs']) {
  test(`${example} against ipnkit sandbox with every fault on: every delivery settled as the rules say, each acted on once`, async () => {
    const { report, settled, printed, problems } = await runAgainstSandbox(example);
    const vectors = filesIn(VECTORS, '.body').map(read).map(asSandboxSends);
    const delivered = report.delivered;

    // The sandbox's side: every delivery acknowledged, faults injected, duplicates sent.
    assert.equal(report.abandoned, 0, JSON.stringify(report));
    assert.equal(report.acknowledged, delivered, JSON.stringify(report));
    assert.ok(report.faulted > 0 && delivered > vectors.length, JSON.stringify(report));

    // Stored: every delivery, byte for byte, and nothing else.
    assert.equal(settled.length, delivered, 'one stored message per acknowledged delivery');
    const stored = (body) => settled.filter((r) => r.body.equals(body)).length;
    for (const body of vectors) assert.ok(stored(body) >= 1, `a vector was never stored: ${body.subarray(0, 60)}`);
    assert.equal(vectors.reduce((n, body) => n + stored(body), 0), settled.length, 'a stored body that was never sent');

    // Settled: each exactly as ipnkit's rules say in the order it happened (none invalid,
    // none unreadable, none left), and some only after a postback without a real answer.
    assert.deepEqual(
      settled.map((r) => ({ state: r.state, detail: r.detail })),
      expectedStates(settled),
      problems(),
    );
    assert.ok(settled.some((r) => r.attempts > 0), 'no message was retried after an unexpected answer');
    assert.ok(settled.some((r) => r.state === 'duplicate'), 'no duplicate delivery was caught');

    // Acted on: one event line per accepted message, as a list (an event twice fails).
    const events = printed.split('\n').filter(Boolean).map((line) => JSON.parse(line).key).sort();
    const acceptedKeys = settled.filter((r) => r.state === 'accepted').map((r) => r.key).sort();
    assert.deepEqual(events, acceptedKeys);
    assert.equal(new Set(acceptedKeys).size, acceptedKeys.length, 'a delivery key accepted twice');
  });
}
