// Errors and bad input: one class per kind of the core's, stable codes and fields, never a
// crash; a string body is a TypeError that says how to get the raw bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basename, join } from 'node:path';

import { VECTORS, filesIn, ipnkit, read } from './support.mjs';

const te = new TextEncoder();

test('every error kind of the core has its class, a subclass of IpnError and Error', () => {
  for (const { class: name, codes } of ipnkit.schema().errors) {
    const cls = ipnkit[name];
    assert.equal(typeof cls, 'function', name);
    const e = new cls(codes[0], null, 'm');
    assert.ok(e instanceof ipnkit.IpnError && e instanceof Error, name);
    assert.equal(e.name, name);
    assert.equal(e.code, codes[0]);
  }
});

test('each malformed vector throws its code, of its kind, and still posts back', () => {
  const kindOf = new Map(ipnkit.schema().errors.flatMap((e) => e.codes.map((c) => [c, e.class])));
  for (const path of filesIn(join(VECTORS, 'malformed'), '.body')) {
    const code = basename(path).split('--')[0];
    const body = read(path);
    assert.throws(() => ipnkit.parse(body), (e) => {
      assert.ok(e instanceof ipnkit[kindOf.get(code)], `${path}: ${e}`);
      assert.equal(e.code, code, path);
      return true;
    });
    if (code !== 'empty_body') assert.equal(ipnkit.postback(body).length, body.length + 21, path);
  }
});

test('errors name the field and never echo the value', () => {
  const secret = 'buyer-secret@example.com';
  assert.throws(() => ipnkit.parse(te.encode(`payer_email=${secret}&payer_email=x`)), (e) => {
    assert.ok(e instanceof ipnkit.DuplicateKeyError);
    assert.equal(e.field, 'payer_email');
    assert.ok(!e.message.includes(secret) && !e.stack.includes(secret));
    return true;
  });
});

test('a string body is a TypeError saying how to get the raw bytes', () => {
  assert.throws(() => ipnkit.parse('txn_id=1'), (e) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /express\.raw\(\{ type: "application\/x-www-form-urlencoded" \}\)/);
    assert.match(e.message, /rawBody: true/);
    assert.match(e.message, /request\.arrayBuffer\(\)/);
    return true;
  });
  for (const fn of [ipnkit.postback, (b) => ipnkit.verdict(200, b), (b) => ipnkit.verificationRequest(b, { environment: 'live' })]) {
    assert.throws(() => fn('x=1'), TypeError);
  }
});

test('errors name the fix', () => {
  const message = (fn) => {
    try {
      fn();
    } catch (e) {
      return e.message;
    }
    assert.fail('did not throw');
  };
  // A body Express's urlencoded() (or json()) parsed first: mount express.raw before them.
  for (const parsed of [{ txn_id: '1' }, Object.assign(Object.create(null), { txn_id: '1' })]) {
    assert.match(message(() => ipnkit.parse(parsed)), /a body parser read it first.*express\.raw\(.*before any body parser/);
  }
  assert.match(message(() => ipnkit.parse(undefined)), /not undefined$/);
  assert.match(message(() => ipnkit.parse(42)), /not a number$/);
  // verdict() takes PayPal's answer, not the IPN body, and as bytes.
  assert.match(message(() => ipnkit.verdict(200, 'VERIFIED')), /PayPal's answer to the postback as bytes.*not the IPN body/);
  assert.match(message(() => ipnkit.verdict(200, 7)), /PayPal's answer \(verdict's body\) must be bytes.*not a number/);
  // The stored keys: which element is wrong.
  const m = ipnkit.parse(te.encode('txn_id=1&payment_status=Completed'));
  assert.match(message(() => ipnkit.classify(m, ['txn:1:Completed', 7])), /storedKeys\[1\] is a number/);
  assert.match(message(() => ipnkit.classify(m, 'txn:1:Completed')), /an array of strings .*not a string/);
  // A float amount: pass it as a string.
  assert.match(message(() => new ipnkit.Expected({ amount: 24.9, currency: 'EUR' })), /pass amounts as strings, e\.g\. "24\.90"/);
});

test('other bad bodies are typed errors, never a crash', () => {
  for (const bad of [42, null, undefined, {}, [1, 2], Symbol('x'), 10n]) {
    assert.throws(() => ipnkit.parse(bad), TypeError, String(bad?.toString?.() ?? bad));
  }
  const detached = new Uint8Array(te.encode('txn_id=1'));
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  assert.throws(() => ipnkit.parse(detached), (e) => e instanceof ipnkit.BodyError && e.code === 'empty_body');
  const huge = new Uint8Array(64 * 1024 * 1024).fill(0x61);
  assert.throws(() => ipnkit.parse(huge), (e) => e instanceof ipnkit.LimitError && e.code === 'body_too_large');
  const small = { config: { environment: 'live', limits: { max_body_bytes: 8 } } };
  assert.throws(() => ipnkit.parse(te.encode('txn_id=123456'), small), ipnkit.LimitError);
  // Any bytes are accepted as bytes: NUL and high bytes are the decoder's to judge
  // (windows-1252 by default: 0xFF is ÿ; in UTF-8 it is an error).
  assert.deepEqual(ipnkit.parse(new Uint8Array([0x61, 0x3d, 0x00, 0xff])).extra, [['a', '\u0000\u00ff']]);
  assert.throws(() => ipnkit.parse(new Uint8Array([...te.encode('charset=utf-8&a='), 0xff])), ipnkit.CharsetError);
  // A typed array of another kind and an ArrayBuffer are bytes too.
  assert.equal(ipnkit.parse(te.encode('txn_id=1').buffer).txn_id, '1');
});

test('configuration: wrong types and unknown keys are typed errors naming the key', () => {
  const cases = [
    [{ environment: 'staging' }, ipnkit.ConfigurationError, 'environment'],
    [{ environment: 'live', receiver_emails: 'shop@example.com' }, ipnkit.ArgumentError, 'receiver_emails'],
    [{ environment: 'live', limits: { max_feilds: 3 } }, ipnkit.ConfigurationError, 'limits.max_feilds'],
    [{ environment: 'live', final_statuses: ['refunded'] }, ipnkit.ConfigurationError, 'final_statuses'],
  ];
  for (const [data, cls, field] of cases) {
    assert.throws(() => new ipnkit.Config(data), (e) => e instanceof cls && e.field === field, JSON.stringify(data));
  }
  assert.throws(() => new ipnkit.Config({ environment: () => 'live' }), TypeError);
  assert.throws(() => new ipnkit.Expected({ amount: 24.9, currency: 'EUR' }), (e) => e instanceof ipnkit.ArgumentError && e.code === 'wrong_type');
  assert.throws(() => new ipnkit.Expected({ currency: 'EUR' }), ipnkit.ConfigurationError);
});

test('decide: one action for every answer, from the core', () => {
  const m = ipnkit.parse(read(join(VECTORS, 'web_accept--windows1252.body')));
  const config = new ipnkit.Config({ environment: 'sandbox', receiver_emails: [m.receiver_email] });
  const expected = new ipnkit.Expected({ amount: m.mc_gross.amount, currency: m.mc_gross.currency });
  const decide = (v, storedKeys = []) => ipnkit.decide(m, v, { config, expected, storedKeys });
  const acted = decide(ipnkit.verdict(200, te.encode('VERIFIED')));
  assert.deepEqual({ ...acted, delivery: { ...acted.delivery } }, {
    action: 'act', event: 'payment_completed', family: 'payment', deliveryKey: m.deliveryKey, lookupId: m.lookupId,
    delivery: { kind: 'new', from: null, to: null }, amount: 'matched',
  });
  assert.equal(decide(ipnkit.verdict(200, te.encode('VERIFIED')), [m.deliveryKey]).action, 'skip');
  assert.deepEqual({ ...decide(ipnkit.verdict(200, te.encode('INVALID'))) }, { action: 'refuse', why: 'not_verified' });
  assert.deepEqual({ ...decide(ipnkit.verdict(503, te.encode('busy'))) }, { action: 'retry', reason: 'http_status' });
  assert.deepEqual({ ...decide(ipnkit.Verdict.noAnswer()) }, { action: 'retry', reason: 'no_answer' });
  const low = ipnkit.decide(m, ipnkit.verdict(200, te.encode('VERIFIED')), {
    config, expected: { amount: '100.00', currency: m.mc_gross.currency },
  });
  assert.deepEqual([low.action, low.why, low.ours, low.deliveryKey], ['refuse', 'rules', true, m.deliveryKey]);
  assert.deepEqual(low.violations.map((v) => ({ ...v })), [{ code: 'amount_mismatch', field: 'mc_gross', detail: null }]);
  const donation = ipnkit.decide(m, ipnkit.verdict(200, te.encode('VERIFIED')), { config, expected: ipnkit.Expected.anyAmount() });
  assert.deepEqual([donation.action, donation.amount], ['act', 'not_asked']);
  const noOrder = ipnkit.decide(m, ipnkit.verdict(200, te.encode('VERIFIED')), { config, expected: ipnkit.Expected.noOrder() });
  assert.deepEqual(noOrder.violations.map((v) => v.code), ['order_not_found']);
  assert.throws(() => ipnkit.decide(m, { kind: 'verified' }, { config, expected }), TypeError, 'a verdict is never written by hand');
  assert.throws(() => ipnkit.decide(m, ipnkit.Verdict.noAnswer(), { config }), TypeError, 'expected is required');
  assert.throws(() => ipnkit.classify(m, m.deliveryKey), TypeError, 'a single string is not a list');
  assert.equal(ipnkit.classify(m, []).kind, 'new');
  // A state older than one stored: stale, naming both states as a transition does (once
  // `{from: null, to: null}` here, the core saying `latest` and `this`). A decision skips it
  // (with a configuration where a Pending is final: else the rules refuse it first).
  const raw = read(join(VECTORS, 'web_accept--windows1252.body')).toString('latin1');
  const pending = ipnkit.parse(Buffer.from(raw.replace('payment_status=Completed', 'payment_status=Pending&pending_reason=echeck'), 'latin1'));
  assert.deepEqual({ ...ipnkit.classify(pending, [m.deliveryKey]) }, { kind: 'stale', from: 'Completed', to: 'Pending/echeck' });
  const pendingIsFinal = new ipnkit.Config({ environment: 'sandbox', receiver_emails: [m.receiver_email], final_statuses: ['Completed', 'Pending'] });
  const stale = ipnkit.decide(pending, ipnkit.verdict(200, te.encode('VERIFIED')), { config: pendingIsFinal, expected, storedKeys: [m.deliveryKey] });
  assert.equal(stale.action, 'skip');
  assert.deepEqual({ ...stale.delivery }, { kind: 'stale', from: 'Completed', to: 'Pending/echeck' });
  assert.deepEqual({ ...ipnkit.classify(m, [pending.deliveryKey]) }, { kind: 'transition', from: 'Pending/echeck', to: 'Completed' });
  assert.throws(() => ipnkit.classify(m, ['not a key']), (e) => e.code === 'invalid_delivery_key');
});
