// `parse` of the wasm build against the Node addon, side by side in one run, over the shared
// corpus and the project's vectors (the same bodies as the Node and Python benchmarks), with
// tinybench (from the Node package's tools).
//
//   node bindings-wasm/bench.mjs          (after scripts/build node and scripts/build wasm)
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const require = createRequire(join(root, 'bindings-node', 'package.json'));
const { Bench } = require('tinybench');
const corpus = resolve(process.env.IPNKIT_CORPUS ?? join(root, '..', 'shared', 'corpus'));
if (!existsSync(join(corpus, 'SOURCES.md'))) {
  throw new Error(`the IPN corpus is missing: expected ${corpus} (set IPNKIT_CORPUS)`);
}
const builds = {
  'Node addon (ipnkit)': join(root, 'bindings-node', 'package'),
  'wasm (ipnkit-wasm)': join(root, 'bindings-wasm', 'package'),
};
const apis = Object.fromEntries(
  Object.entries(builds).map(([name, dir]) => {
    if (!existsSync(join(dir, 'ipnkit.cjs'))) throw new Error(`no package at ${dir}: run scripts/build node and scripts/build wasm`);
    return [name, createRequire(join(dir, 'package.json'))('./ipnkit.cjs')];
  }),
);

const bodiesIn = (dir) =>
  readdirSync(dir).filter((n) => n.endsWith('.body')).sort().map((n) => readFileSync(join(dir, n)));
const bodies = [...bodiesIn(corpus), ...bodiesIn(join(root, 'tests', 'vectors'))];

let sink = 0;
const TIME_MS = Number(process.env.BENCH_MS ?? 2000);
const bench = new Bench({ time: TIME_MS, warmup: true });
for (const [name, api] of Object.entries(apis)) {
  bench.add(`${name} parse`, () => {
    for (const b of bodies) sink += api.parse(b).txn_type === undefined ? 0 : 1;
  });
  bench.add(`${name} parse + decide`, () => {
    const config = new api.Config({ environment: 'live', receiver_emails: ['shop@example.net'] });
    const verified = api.verdict(200, new TextEncoder().encode('VERIFIED'));
    const expected = api.Expected.noAmount();
    for (const b of bodies) sink += api.decide(api.parse(b), verified, { config, expected }).action.length;
  });
}
await bench.run();

const us = (task) => (bench.getTask(task).result.latency.p50 / bodies.length) * 1000;
const [node, wasm] = Object.keys(apis);
console.log(`${bodies.length} messages, microseconds per message (tinybench median of ${TIME_MS} ms a task, Node ${process.version})`);
for (const what of ['parse', 'parse + decide']) {
  const a = us(`${node} ${what}`);
  const b = us(`${wasm} ${what}`);
  console.log(`  ${what.padEnd(16)} Node addon ${a.toFixed(2).padStart(7)}   wasm ${b.toFixed(2).padStart(7)}   wasm/addon ${(b / a).toFixed(2)}x`);
}
if (sink === 0) throw new Error('nothing was computed');
