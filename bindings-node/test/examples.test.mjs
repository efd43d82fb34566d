// The example listeners (examples/), end to end: each runs as its own process on loopback,
// with `ipnkit` resolved to the package under test, while `ipnkit sandbox` delivers every
// vector with every fault on (slow, 503, HTML and dropped postbacks; duplicate and reordered
// deliveries). The store must end with every delivery settled exactly as ipnkit's rules say,
// replayed in the order the listener settled them, and the listener must have acted once per
// accepted delivery. The examples also type-check with tsc --strict.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

import { FileStore } from '../examples/store.mjs';
import { IPNKIT_BIN, RECEIVER, checkOutcome, deliverEveryVector, freePort, sandboxReport, sleep, stop, waitFor } from './sandbox.mjs';
import { PACKAGE_DIR, ROOT, ipnkit } from './support.mjs';

const NODE_DIR = join(ROOT, 'bindings-node');

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

test('a postback that meets a connection closed under it is sent again at once on a new one', async () => {
  // PayPal closing a connection just as a postback is written on it (issue 35: with fetch's
  // kept-alive connections, undici rejects "other side closed"): here the first connection's
  // postback is read and the connection closed unanswered; every other postback is answered.
  const { postBack } = await import(pathToFileURL(join(project, 'examples', 'worker.mjs')).href);
  /** @type {[number, number][]} (connection, postback on it) for each postback read */
  const seen = [];
  /** @type {import('node:net').Socket[]} */
  const sockets = [];
  const server = createServer((socket) => {
    const connection = sockets.push(socket) - 1;
    let buffered = Buffer.alloc(0);
    let n = 0;
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.subarray(0, end).toString())?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.subarray(end + 4 + length);
        seen.push([connection, n]);
        if (connection === 0) {
          socket.destroy();
          return;
        }
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\nVERIFIED');
        n += 1;
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  try {
    const address = /** @type {import('node:net').AddressInfo} */ (server.address());
    const request = {
      url: `http://127.0.0.1:${address.port}/cgi-bin/webscr`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from('cmd=_notify-validate&txn_id=1'),
    };
    assert.equal((await postBack(request, 10_000)).kind, 'verified', `the postback was not sent again: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen, [[0, 0], [1, 0]]);
  } finally {
    server.close();
    for (const socket of sockets) socket.destroy();
  }
});

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
    sandbox = await deliverEveryVector(sandboxPort, url);
    const store = new FileStore(dir); // read only: the listener owns it
    const deadline = Date.now() + 60_000;
    while ((await store.waiting()).length > 0) {
      assert.ok(Date.now() < deadline, `${example}: messages left unsettled: ${await store.waiting()}`);
      await sleep(100);
    }
    return { report: await sandboxReport(sandboxPort), settled: await store.settled(), printed, problems: () => problems };
  } finally {
    await stop(listener);
    if (sandbox) await stop(sandbox);
  }
}

for (const example of ['express-listener.mjs', 'http-listener.mjs']) {
  test(`${example} against ipnkit sandbox with every fault on: every delivery settled as the rules say, each acted on once`, async () => {
    const { report, settled, printed, problems } = await runAgainstSandbox(example);

    const events = printed.split('\n').filter(Boolean).map((line) => JSON.parse(line).key);
    checkOutcome(ipnkit, { report, settled, events, problems: problems() });
  });
}
