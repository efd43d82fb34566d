// Running a listener against `ipnkit sandbox` (every fault on) and checking what it did with
// every delivery: shared by the Node examples' test and the wasm worker's test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';

import { VECTORS, filesIn, read, ROOT } from './support.mjs';
import { join } from 'node:path';

/** The ipnkit binary the sandbox runs from (`cargo build -p ipnkit-cli`, or `IPNKIT_BIN`). */
export const IPNKIT_BIN = process.env.IPNKIT_BIN ?? join(ROOT, 'target', 'debug', 'ipnkit');
/** The receiver every listener under test is configured with. */
export const RECEIVER = 'shop@example.net';

/** Resolves with the first match of `pattern` in what `stream` prints, within `ms`. */
export function waitFor(stream, pattern, ms, what) {
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

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` (async; a value when the state is reached, `undefined` or a throw while not)
 * every 100 ms until it gives a value, which it resolves with; rejects after `ms` with `what`
 * and what `detail()` says then. */
export async function until(ms, what, check, detail = () => '') {
  const deadline = Date.now() + ms;
  for (;;) {
    let value;
    try {
      value = await check();
    } catch {
      value = undefined; // not there yet (a server not listening)
    }
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await sleep(100);
  }
}

/** Stops `child` and resolves with its exit. */
export function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

/** A port free on loopback now (the sandbox's verification endpoint binds it next). */
export function freePort() {
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
 * Starts `ipnkit sandbox` answering postbacks on `port` and delivering every vector to `url`
 * with every fault on; resolves once every delivery (retries and duplicates too) is made.
 */
export async function deliverEveryVector(port, url) {
  const sandbox = spawn(IPNKIT_BIN, ['sandbox', '--listen', `127.0.0.1:${port}`, '--deliver-to', url,
    '--faults', 'all', '--linger', '0', '--serve', VECTORS], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The sandbox ends its progress line once every delivery is made.
  await waitFor(sandbox.stderr, /delivered \d+\/\d+\n/, 120_000, 'end of deliveries');
  return sandbox;
}

/** The sandbox's report: deliveries, acknowledgements, faults. */
export async function sandboxReport(port) {
  return (await fetch(`http://127.0.0.1:${port}/sandbox/report`)).json();
}

/** The signature `ipnkit sandbox` adds to a message without one (server/src/sandbox.rs). */
const SANDBOX_VERIFY_SIGN = 'AiPC9BjkCyDFQXbSkoZcgqH3hpacASJcFfmTSabpg.6nZdl-ZvWk2Hz';

/**
 * The bytes the sandbox sends for a vector: trailing CR/LF dropped, `test_ipn=1` added if absent,
 * then a `verify_sign` if absent (PayPal signs every notification).
 */
export function asSandboxSends(body) {
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end -= 1;
  let sent = body.subarray(0, end);
  const has = (key) => sent.toString('latin1').split('&').some((pair) => pair.startsWith(`${key}=`));
  if (!has('test_ipn')) sent = Buffer.concat([sent, Buffer.from('&test_ipn=1')]);
  if (!has('verify_sign')) sent = Buffer.concat([sent, Buffer.from(`&verify_sign=${SANDBOX_VERIFY_SIGN}`)]);
  return sent;
}

/**
 * What a listener must have done with each delivery, replayed in the order it settled them:
 * the state ipnkit's decision gives against the keys accepted before it.
 */
export function expectedStates(ipnkit, settled) {
  const config = new ipnkit.Config({ environment: 'sandbox', receiver_emails: [RECEIVER] });
  const VERIFIED = ipnkit.verdict(200, Buffer.from('VERIFIED'));
  const accepted = new Map(); // lookup id -> keys, oldest first
  return settled.map((record) => {
    const message = ipnkit.parse(record.body, { config });
    const stored = accepted.get(message.lookupId) ?? [];
    const decision = ipnkit.decide(message, VERIFIED, { config, expected: ipnkit.Expected.anyAmount(), storedKeys: stored });
    switch (decision.action) {
      case 'act':
        accepted.set(message.lookupId, [...stored, decision.deliveryKey]);
        return { state: 'accepted', detail: null };
      case 'skip':
        return { state: decision.delivery.kind, detail: null };
      case 'refuse':
        if (decision.why !== 'rules') throw new Error(`a verified message refused: ${decision.why}`);
        return { state: 'refused', detail: decision.violations.map((v) => v.code).join(',') };
      default:
        throw new Error(`a verified message cannot be ${decision.action}`);
    }
  });
}

/**
 * Checks a listener's outcome exactly: `settled` holds one record per stored delivery
 * (`{body, state, detail, key, attempts}`) in the order the listener settled them, `events`
 * the delivery keys it acted on, as a list.
 */
export function checkOutcome(ipnkit, { report, settled, events, problems = '' }) {
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
    expectedStates(ipnkit, settled),
    problems,
  );
  assert.ok(settled.some((r) => r.attempts > 0), 'no message was retried after an unexpected answer');
  assert.ok(settled.some((r) => r.state === 'duplicate'), 'no duplicate delivery was caught');

  // Acted on: one event per accepted message, as a list (an event twice fails).
  const acceptedKeys = settled.filter((r) => r.state === 'accepted').map((r) => r.key).sort();
  assert.deepEqual([...events].sort(), acceptedKeys);
  assert.equal(new Set(acceptedKeys).size, acceptedKeys.length, 'a delivery key accepted twice');
}
