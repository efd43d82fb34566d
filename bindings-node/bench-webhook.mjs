// The baseline for verifying and parsing PayPal's REST webhooks: Node's own `crypto.verify`
// (RSA-SHA256 over `transmission_id|transmission_time|webhook_id|crc32(body)`, the CRC from
// `zlib.crc32`) and `JSON.parse`, over the 19 signed deliveries of `../shared/webhooks`, with
// tinybench. It checks the signature only: no certificate URL, chain, name, dates or replay
// window, which ipnkit's `verify` also checks (a baseline that does less).
//
//   node bindings-node/bench-webhook.mjs    prints {"task": microseconds per delivery, ...}
//
// `scripts/bench-webhooks` runs it after `cargo bench -p ipnkit --bench webhook` and prints
// both side by side.
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';

import { Bench } from 'tinybench';

const here = dirname(fileURLToPath(import.meta.url));
const dir = resolve(process.env.IPNKIT_WEBHOOKS ?? join(here, '..', '..', 'shared', 'webhooks'));
if (!existsSync(join(dir, 'SOURCES.md'))) {
  throw new Error(`the webhook vectors are missing: expected ${dir} (set IPNKIT_WEBHOOKS)`);
}
const deliveries = readdirSync(dir).filter((n) => n.endsWith('.json')).sort().map((n) => {
  const facts = JSON.parse(readFileSync(join(dir, n), 'utf8'));
  const pem = readFileSync(join(dir, facts.cert_file), 'utf8');
  return {
    facts,
    pem,
    key: createPublicKey(pem),
    body: readFileSync(join(dir, facts.body_file)),
    sig: Buffer.from(facts.transmission_sig, 'base64'),
  };
});
if (deliveries.length !== 19) throw new Error(`expected 19 deliveries, found ${deliveries.length}`);

const check = (d, key) => {
  const f = d.facts;
  const signed = `${f.transmission_id}|${f.transmission_time}|${f.webhook_id}|${crc32(d.body) >>> 0}`;
  return verify('sha256', Buffer.from(signed), key, d.sig);
};
for (const d of deliveries) {
  if (!check(d, d.key)) throw new Error(`${d.facts.body_file} does not verify`);
}

let sink = 0;
const tasks = {
  verify_cached: () => { for (const d of deliveries) sink += check(d, d.key) ? 1 : 0; },
  verify_uncached: () => { for (const d of deliveries) sink += check(d, d.pem) ? 1 : 0; },
  parse: () => { for (const d of deliveries) sink += JSON.parse(d.body).id.length; },
  verify_cached_and_parse: () => {
    for (const d of deliveries) sink += (check(d, d.key) ? 1 : 0) + JSON.parse(d.body).id.length;
  },
};
const bench = new Bench({ time: Number(process.env.BENCH_MS ?? 2000), warmup: true });
for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
await bench.run();
if (sink === 0) throw new Error('nothing was computed');
const out = {};
for (const name of Object.keys(tasks)) {
  out[name] = bench.getTask(name).result.latency.p50 / deliveries.length * 1000; // µs
}
out.node = process.version;
console.log(JSON.stringify(out));
