// What ipnkit-wasm costs a worker at startup in workerd, cold: workerd started ROUNDS times with a
// worker that imports the package's `workerd` entry (the module compiled and instantiated when
// the worker is loaded, and one message parsed then, synchronously) and ROUNDS times with the
// same worker without it, in turns; each start timed from the spawn to the worker's first answer.
// Reports the median of each and their difference: the module's cost at startup.
//
//   node bindings-wasm/bench-startup.mjs        (after scripts/build wasm; ROUNDS=15)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PACKAGE = resolve(process.env.IPNKIT_WASM_PACKAGE ?? join(here, 'package'));
const WORKERD = join(here, 'node_modules', '.bin', 'workerd');
const ROUNDS = Number(process.env.ROUNDS ?? 15);

const work = mkdtempSync(join(tmpdir(), 'ipnkit-startup-'));
const modules = {
  'ipnkit-wasm/workerd.mjs': 'workerd.mjs',
  'ipnkit-wasm/web.mjs': 'web.mjs',
  'ipnkit-wasm/api.mjs': 'api.mjs',
  'ipnkit-wasm/native.mjs': 'native.mjs',
  'ipnkit-wasm/schema.mjs': 'schema.mjs',
  'ipnkit-wasm/web/ipnkit_wasm.js': 'web/ipnkit_wasm.js',
  'ipnkit-wasm/web/ipnkit_wasm_bg.wasm': 'web/ipnkit_wasm_bg.wasm',
};
for (const [name, file] of Object.entries(modules)) {
  mkdirSync(dirname(join(work, name)), { recursive: true });
  copyFileSync(join(PACKAGE, file), join(work, name));
}
// `import { parse } from 'ipnkit-wasm'` as a bundler resolves it for workerd (the `workerd`
// condition): ready at once, no init call.
writeFileSync(join(work, 'with.mjs'), `import { parse } from 'ipnkit-wasm/workerd.mjs';
const body = new TextEncoder().encode('txn_id=1&payment_status=Completed&mc_gross=19.95&mc_currency=USD');
const gross = String(parse(body).mc_gross);
export default { fetch() { return new Response(gross); } };
`);
writeFileSync(join(work, 'without.mjs'), `export default { fetch() { return new Response('ok'); } };
`);

function config(kind, port) {
  const extra = kind === 'with'
    ? Object.keys(modules).map((name) => name.endsWith('.wasm')
      ? `    (name = ${JSON.stringify(name)}, wasm = embed ${JSON.stringify(name)}),`
      : `    (name = ${JSON.stringify(name)}, esModule = embed ${JSON.stringify(name)}),`).join('\n')
    : '';
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [
    (name = "main.mjs", esModule = embed "${kind}.mjs"),
${extra}
  ],
  compatibilityDate = "2025-01-01",
);
`;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    }).on('error', reject);
  });
}

/** Starts workerd with `kind`'s worker; resolves with the milliseconds to its first answer. */
async function start(kind) {
  const port = await freePort();
  writeFileSync(join(work, `${kind}.capnp`), config(kind, port));
  let output = '';
  const started = performance.now();
  const child = spawn(WORKERD, ['serve', `${kind}.capnp`], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  try {
    for (;;) {
      try {
        const answer = await fetch(`http://127.0.0.1:${port}/`);
        const text = await answer.text();
        const elapsed = performance.now() - started;
        assert.equal(text, kind === 'with' ? '19.95 USD' : 'ok', output);
        return elapsed;
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        assert.ok(child.exitCode === null, `workerd ended:\n${output}`);
        assert.ok(performance.now() - started < 30_000, `workerd did not answer within 30 s:\n${output}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode === null && child.signalCode === null ? child.once('exit', r) : r()));
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = { with: [], without: [] };
try {
  await start('with'); // the first start warms the disk cache for both
  await start('without');
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ['without', 'with']) times[kind].push(await start(kind));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const [withMs, withoutMs] = [median(times.with), median(times.without)];
console.log(`workerd cold start, ${ROUNDS} rounds, median spawn to first answer:`);
console.log(`  a worker importing ipnkit-wasm (compiled, instantiated, one parse): ${withMs.toFixed(1)} ms`);
console.log(`  the same worker without it:                                        ${withoutMs.toFixed(1)} ms`);
console.log(`  ipnkit-wasm's cost at startup:                                      ${(withMs - withoutMs).toFixed(1)} ms`);
