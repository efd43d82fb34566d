// `ipnkit.parse` against `querystring.parse` and `Object.fromEntries(new URLSearchParams(...))`,
// side by side in one run, over the shared corpus and the project's vectors (the same bodies as
// the Python benchmark), with tinybench.
//
//   node bindings-node/bench.mjs            (after scripts/build node)
//   IPNKIT_JS_PACKAGE=DIR node bindings-node/bench.mjs   (another build of the same API)
//
// The baselines only split and percent-decode a string (the body decoded as latin-1 first,
// leniently, keeping one of two copies of a duplicated key); `ipnkit.parse` takes the bytes,
// decodes each message's charset strictly, refuses duplicates and builds the typed message.
// Properties are converted when first read and kept: "+ 10 properties" pays for ten first
// reads, and "read again" is the cost of a read once converted.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import querystring from 'node:querystring';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Bench } from 'tinybench';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const packageDir = resolve(process.env.IPNKIT_JS_PACKAGE ?? join(here, 'package'));
const corpus = resolve(process.env.IPNKIT_CORPUS ?? join(root, '..', 'shared', 'corpus'));
if (!existsSync(join(corpus, 'SOURCES.md'))) {
  throw new Error(`the IPN corpus is missing: expected ${corpus} (set IPNKIT_CORPUS)`);
}
const ipnkit = await import(pathToFileURL(join(packageDir, 'ipnkit.mjs')).href);

const bodiesIn = (dir) =>
  readdirSync(dir).filter((n) => n.endsWith('.body')).sort().map((n) => readFileSync(join(dir, n)));
const bodies = [...bodiesIn(corpus), ...bodiesIn(join(root, 'tests', 'vectors'))];

const TEN = ['txn_type', 'txn_id', 'payment_status', 'mc_gross', 'mc_currency', 'receiver_email',
  'payer_email', 'payment_date', 'custom', 'invoice'];

let sink = 0; // results feed this, so no work is optimised away
const tasks = {
  'querystring.parse': () => {
    for (const b of bodies) sink += Object.keys(querystring.parse(b.toString('latin1'))).length;
  },
  'Object.fromEntries(new URLSearchParams)': () => {
    for (const b of bodies) sink += Object.keys(Object.fromEntries(new URLSearchParams(b.toString('latin1')))).length;
  },
  'ipnkit.parse': () => {
    for (const b of bodies) sink += ipnkit.parse(b).raw.length;
  },
  'ipnkit.parse + 10 properties': () => {
    for (const b of bodies) {
      const m = ipnkit.parse(b);
      for (const name of TEN) if (m[name] !== undefined) sink += 1;
    }
  },
};
const message = ipnkit.parse(bodies[0]);
for (const name of TEN) void message[name]; // converted once, kept
const READS = 1000;
tasks['read again (10 properties x 100)'] = () => {
  for (let i = 0; i < READS / TEN.length; i++) for (const name of TEN) if (message[name] !== undefined) sink += 1;
};

const TIME_MS = Number(process.env.BENCH_MS ?? 2000);
const bench = new Bench({ time: TIME_MS, warmup: true });
for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
await bench.run();

const perMessage = (name) => bench.getTask(name).result.latency.p50 / bodies.length * 1000; // µs
const base = perMessage('querystring.parse');
console.log(`${bodies.length} messages, microseconds per message (tinybench median of ${TIME_MS} ms a task, Node ${process.version})`);
for (const name of Object.keys(tasks).slice(0, 4)) {
  const us = perMessage(name);
  const ratio = base / us;
  const versus = name === 'querystring.parse' ? 'the baseline'
    : `${ratio >= 1 ? `${ratio.toFixed(1)}x faster` : `${(1 / ratio).toFixed(1)}x slower`} than querystring.parse`;
  console.log(`  ${name.padEnd(42)}: ${us.toFixed(2).padStart(7)}   (${versus})`);
}
const readNs = bench.getTask('read again (10 properties x 100)').result.latency.p50 / READS * 1e6;
const firstReads = (perMessage('ipnkit.parse + 10 properties') - perMessage('ipnkit.parse')) * 1000;
console.log(`  10 first reads (convert and keep)         : ${(firstReads / 1000).toFixed(2).padStart(7)} per message`);
console.log(`  a read once converted                     : ${readNs.toFixed(1).padStart(7)} ns`);
if (sink === 0) throw new Error('nothing was computed');
