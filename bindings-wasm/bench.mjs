// `parse` of the wasm build against the Node addon, side by side in one run, over the shared
// corpus and the project's vectors (the same bodies as the Node and Python benchmarks).
//
//   node bindings-wasm/bench.mjs          (after scripts/build node and scripts/build wasm)
//   ROUNDS=30 PASSES=40                   (the defaults)
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
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
// The two builds in turn, round after round (a slow moment of this shared machine then falls on
// both), each round `PASSES` passes over the bodies; the best round of each is reported, the
// figure least moved by the machine's other load (tinybench's medians moved by a third between
// runs).
const ROUNDS = Number(process.env.ROUNDS ?? 30);
const PASSES = Number(process.env.PASSES ?? 40);
const tasks = {
  parse: (api) => {
    for (const b of bodies) sink += api.parse(b).txn_type === undefined ? 0 : 1;
  },
  'parse + decide': (api) => {
    const config = new api.Config({ environment: 'live', receiver_emails: ['shop@example.net'] });
    const verified = api.verdict(200, new TextEncoder().encode('VERIFIED'));
    const expected = api.Expected.anyAmount();
    for (const b of bodies) sink += api.decide(api.parse(b), verified, { config, expected }).action.length;
  },
};
const best = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [what, task] of Object.entries(tasks)) {
    for (const [name, api] of Object.entries(apis)) {
      const start = process.hrtime.bigint();
      for (let pass = 0; pass < PASSES; pass++) task(api);
      const us = Number(process.hrtime.bigint() - start) / 1000 / PASSES / bodies.length;
      const key = `${name} ${what}`;
      best[key] = Math.min(best[key] ?? Infinity, us);
    }
  }
}

const [node, wasm] = Object.keys(apis);
console.log(`${bodies.length} messages, microseconds per message (best of ${ROUNDS} interleaved rounds of ${PASSES} passes, Node ${process.version})`);
for (const what of Object.keys(tasks)) {
  const a = best[`${node} ${what}`];
  const b = best[`${wasm} ${what}`];
  console.log(`  ${what.padEnd(16)} Node addon ${a.toFixed(2).padStart(7)}   wasm ${b.toFixed(2).padStart(7)}   wasm/addon ${(b / a).toFixed(2)}x`);
}
if (sink === 0) throw new Error('nothing was computed');
