// The shared decision cases (tests/decisions/cases.json): this package (native or wasm) decides
// each as the core's golden file says (tests/decisions/decisions.json), through its public API,
// every field converted to its camelCase name.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';

import { ROOT, ipnkit } from './support.mjs';

const DIR = join(ROOT, 'tests', 'decisions');
const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** The core's JSON as this package shows it: camelCase keys, absent fields as null. */
function asPackage(core) {
  const out = {};
  for (const [name, value] of Object.entries(core)) {
    if (name === 'delivery') {
      out.delivery = { kind: value.kind, from: value.from ?? null, to: value.to ?? null };
    } else if (name === 'violations') {
      out.violations = value.map((v) => ({ code: v.code, field: v.field ?? null, detail: v.detail ?? null }));
    } else {
      out[camel(name)] = value;
    }
  }
  return out;
}

/** A decision as plain data (frozen objects copied; an error as its code, field and message). */
function plain(decision) {
  return JSON.parse(JSON.stringify(decision, (key, value) =>
    value instanceof ipnkit.IpnError ? { code: value.code, field: value.field ?? null, message: value.message } : value));
}

test('every shared case decides as the core does', () => {
  const { cases } = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8'));
  const golden = JSON.parse(readFileSync(join(DIR, 'decisions.json'), 'utf8'));
  assert.deepEqual(cases.map((c) => c.name), golden.map((g) => g.name));
  let decided = 0;
  cases.forEach((c, i) => {
    const body = Buffer.from(c.body, 'latin1');
    let message;
    try {
      message = ipnkit.parse(body);
    } catch (e) {
      // A body that does not decode never becomes a Message, so this API cannot decide it: the
      // core's refusal for it is `unreadable`, and parse throws the same error.
      assert.ok(e instanceof ipnkit.IpnError, c.name);
      assert.equal(golden[i].decision.why, 'unreadable', c.name);
      assert.equal(e.code, golden[i].decision.error.code, c.name);
      return;
    }
    const answer = c.status === null ? ipnkit.Verdict.noAnswer() : ipnkit.verdict(c.status, Buffer.from(c.answer, 'latin1'));
    const decision = ipnkit.decide(message, answer, { config: c.config, expected: c.expected, storedKeys: c.stored });
    assert.ok(Object.isFrozen(decision), c.name);
    assert.deepEqual(plain(decision), asPackage(golden[i].decision), c.name);
    decided += 1;
  });
  assert.equal(decided, cases.length - 1, 'every case but the unreadable one went through decide');
});
