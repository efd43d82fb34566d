// Messages: every vector and corpus body gives the golden canonical JSON, posts back byte for
// byte, and reads as PayPal's names with exact money and real dates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basename, join } from 'node:path';
import { readFileSync } from 'node:fs';

import { CORPUS, VECTORS, filesIn, ipnkit, read, required } from './support.mjs';

const PREFIX = Buffer.from('cmd=_notify-validate&');

function golden(path) {
  // The golden files are indented; the canonical JSON is the same text, compact, in order.
  return JSON.stringify(JSON.parse(readFileSync(path, 'utf8')));
}

test('import(dir) and require(dir) give the same objects', () => {
  assert.equal(ipnkit.parse, required.parse);
  assert.equal(ipnkit.default.Message, required.Message);
  assert.deepEqual(Object.keys(ipnkit).filter((k) => k !== 'default').sort(), Object.keys(required).sort());
});

test('every vector gives its golden canonical JSON and posts back byte for byte', () => {
  for (const path of filesIn(VECTORS, '.body')) {
    const body = read(path);
    const m = ipnkit.parse(body);
    assert.equal(JSON.stringify(m), golden(path.replace(/\.body$/, '.json')), path);
    assert.deepEqual(Buffer.from(ipnkit.postback(body)), Buffer.concat([PREFIX, body]), path);
    assert.deepEqual(Buffer.from(m.raw), body, path);
  }
});

test('every corpus body gives its golden canonical JSON', () => {
  for (const path of filesIn(CORPUS, '.body')) {
    const m = ipnkit.parse(read(path));
    const name = basename(path).replace(/\.body$/, '.json');
    assert.equal(JSON.stringify(m), golden(join(VECTORS, 'corpus', name)), path);
  }
});

test('every property reads what the canonical JSON says, on every vector and corpus body', () => {
  // Properties are cut from the message's flat form; the canonical JSON is written by the core
  // from the typed message: the two must agree on every variable, the event and the notices.
  const config = new ipnkit.Config({ environment: 'live', receiver_emails: ['shop@example.net'] });
  const verified = ipnkit.verdict(200, Buffer.from('VERIFIED'));
  for (const path of [...filesIn(VECTORS, '.body'), ...filesIn(CORPUS, '.body')]) {
    const m = ipnkit.parse(read(path));
    const json = m.toJSON();
    for (const name of ipnkit.MODELLED_VARIABLES) {
      const value = m[name];
      assert.deepEqual(value === undefined ? undefined : JSON.parse(JSON.stringify(value)), json[name], `${path}: ${name}`);
    }
    assert.equal(m.event, json.event, path);
    assert.equal(m.family, json.family, path);
    assert.deepEqual(m.notices, json.notices ?? [], path);
    const decision = ipnkit.decide(m, verified, { config, expected: ipnkit.Expected.anyAmount() });
    assert.equal(m.deliveryKey, decision.deliveryKey, path);
    assert.equal(m.lookupId, decision.lookupId, path);
    assert.deepEqual(Buffer.from(m.raw), read(path), path);
  }
});

test('console.log shows the event and the variables, not the internal string', async () => {
  const { inspect } = await import('node:util');
  const body = read(join(VECTORS, 'web_accept--windows1252.body'));
  const shown = inspect(ipnkit.parse(body));
  assert.match(shown, /^Message \{\n  event: 'payment_completed',\n  txn_type: 'web_accept'/);
  assert.match(shown, /mc_gross: Money \{ amount: '[0-9.]+', currency: 'EUR' \}/);
  assert.ok(!shown.includes(body.toString('latin1').slice(0, 40)), 'the raw body is not shown');
  // A configuration and an expectation show the data they were made from, not `Config {}`.
  const config = new ipnkit.Config({ environment: 'live', receiver_emails: ['shop@example.net'] });
  assert.equal(inspect(config), "Config { environment: 'live', receiver_emails: [ 'shop@example.net' ] }");
  assert.equal(inspect(ipnkit.Expected.anyAmount('EUR')), "Expected { any_amount: true, currency: 'EUR' }");
  assert.equal(inspect(ipnkit.verdict(503, Buffer.from(''))), "Verdict { kind: 'unexpected', reason: 'http_status' }");
});

test('variables are properties under PayPal names, money exact, dates real', () => {
  const m = ipnkit.parse(read(join(VECTORS, 'cart--count_mismatch.body')));
  assert.equal(m.event, 'payment_completed');
  assert.equal(m.txn_type, 'cart');
  assert.ok(m.mc_gross instanceof ipnkit.Money);
  assert.equal(m.mc_gross.amount, '22.14');
  assert.equal(m.mc_gross.currency, 'GBP');
  assert.equal(`${m.mc_gross}`, '22.14 GBP');
  assert.equal(String(m.mc_gross), '22.14 GBP');
  assert.equal(m.mc_gross.toString(), '22.14 GBP');
  // Every other primitive conversion throws, as the .d.ts says: no "22.14 GBP1".
  for (const [what, use] of [
    ['>', () => m.mc_gross > 10],
    ['+ 1', () => m.mc_gross + 1],
    ["+ ''", () => m.mc_gross + ''],
    ['* 2', () => m.mc_gross * 2],
    ['unary +', () => +m.mc_gross],
    ['== text', () => m.mc_gross == '22.14 GBP'], // eslint-disable-line eqeqeq
  ]) {
    assert.throws(use, TypeError, `money ${what} must throw`);
  }
  assert.ok(m.payment_date instanceof Date && m.payment_date instanceof ipnkit.PayPalDate);
  assert.equal(m.payment_date.toISOString(), '2024-10-27T16:30:00.000Z');
  assert.equal(m.payment_date.text, '09:30:00 Oct 27, 2024 PDT');
  assert.equal(m.memo, undefined);
  assert.equal(m.items.length, 2);
  assert.equal(m.items[0].item_name, 'Tea');
  assert.equal(m.items[0].mc_gross.amount, '8.00');
  assert.equal(m.items[0].options.length, 2);
  assert.ok(Object.isFrozen(m.items) && Object.isFrozen(m.items[0]));
  assert.equal(m.items, m.items, 'converted once, then kept');
  assert.deepEqual(m.notices, [{ code: 'cart_count_mismatch', field: 'num_cart_items' }]);
  assert.ok(m.variables.length > m.extra.length);
  for (const name of ipnkit.MODELLED_VARIABLES) assert.ok(name in m, name);
  assert.throws(() => new ipnkit.Message(), TypeError);
});

test('unreadable values are notices with their text kept', () => {
  for (const path of filesIn(join(VECTORS, 'unreadable'), '.body')) {
    const code = basename(path).split('--')[0];
    const m = ipnkit.parse(read(path));
    const notices = m.notices.filter((n) => n.code === code);
    assert.equal(notices.length, 1, path);
    const field = notices[0].field;
    assert.equal(m[field], undefined, path);
    assert.ok(m.extra.some(([k]) => k === field), path);
  }
});

test('the verification request is ready for fetch', () => {
  const body = read(join(VECTORS, 'web_accept--windows1252.body'));
  const r = ipnkit.verificationRequest(body, { environment: 'live' });
  assert.equal(r.url, 'https://ipnpb.paypal.com/cgi-bin/webscr');
  assert.equal(r.method, 'POST');
  assert.equal(r.headers['Content-Type'], 'application/x-www-form-urlencoded');
  assert.deepEqual(Buffer.from(r.body), Buffer.concat([PREFIX, body]));
  const raw = Buffer.from([0x61, 0x3d, 0x00, 0xff, 0x80, 0x26, 0x62, 0x3d, 0x0a]); // any bytes, kept
  assert.deepEqual(Buffer.from(ipnkit.verificationRequest(raw, { environment: 'live' }).body), Buffer.concat([PREFIX, raw]));
  const sandbox = new ipnkit.Config({ environment: 'sandbox' });
  assert.equal(ipnkit.parse(body).verificationRequest(sandbox).url, 'https://ipnpb.sandbox.paypal.com/cgi-bin/webscr');
});

test('the event table is reachable', () => {
  assert.match(ipnkit.EVENTS.capture_completed, /paid/i);
  assert.ok(Object.isFrozen(ipnkit.EVENTS));
  assert.equal(Object.keys(ipnkit.EVENTS).length, ipnkit.schema().events.length);
});
