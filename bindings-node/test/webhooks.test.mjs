// PayPal REST webhooks from JavaScript (the native package, and the wasm one with
// IPNKIT_JS_PACKAGE): every signed delivery of ../shared/webhooks verifies at its transmission
// time, each source-asserted negative and each change is refused with the core's code, and each
// event is the core's golden JSON (tests/webhooks/NAME.json).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import test from 'node:test';

import { ROOT, filesIn, ipnkit } from './support.mjs';

const DIR = resolve(process.env.IPNKIT_WEBHOOKS ?? join(ROOT, '..', 'shared', 'webhooks'));
if (!existsSync(join(DIR, 'SOURCES.md'))) {
  throw new Error(`the webhook vectors are missing: expected ${DIR} (set IPNKIT_WEBHOOKS to its path)`);
}
const PLACEHOLDER = 'sdk-java-test_2017-03-30_billing-plan-created';
const HEADERS = {
  transmission_id: 'paypal-transmission-id',
  transmission_time: 'paypal-transmission-time',
  transmission_sig: 'paypal-transmission-sig',
  cert_url: 'paypal-cert-url',
  auth_algo: 'paypal-auth-algo',
};

const vectors = filesIn(DIR, '.json').map((path) => {
  const facts = JSON.parse(readFileSync(path, 'utf8'));
  return {
    name: path.slice(DIR.length + 1, -'.json'.length),
    facts,
    body: readFileSync(join(DIR, facts.body_file)),
    pem: readFileSync(join(DIR, facts.cert_file)),
    at: Date.parse(facts.transmission_time) / 1000,
    env: facts.cert_url.includes('.sandbox.') ? 'sandbox' : 'live',
  };
});

/** Node's `req.headers` shape (lower-case names), with changes (NAME.json's keys). */
function headers(v, changes = {}) {
  const values = Object.fromEntries(Object.keys(HEADERS).map((k) => [k, v.facts[k]]));
  if (v.name === PLACEHOLDER) { // the URL is not signed: one of PayPal's form
    values.cert_url = 'https://api.sandbox.paypal.com/v1/notifications/certs/CERT-placeholder';
  }
  Object.assign(values, changes);
  return {
    host: 'shop.example',
    'content-type': 'application/json',
    ...Object.fromEntries(Object.entries(values).map(([k, value]) => [HEADERS[k], value])),
  };
}

const verifier = (v, webhookId = v.facts.webhook_id) =>
  new ipnkit.WebhookVerifier({ environment: v.env, receiver_emails: ['shop@example.com'] }, webhookId);

function verdict(v, { body = v.body, hdrs = headers(v), webhookId } = {}) {
  const webhook = ipnkit.receiveWebhook(body, hdrs);
  return webhook.verify(verifier(v, webhookId), { status: 200, body: v.pem }, { now: v.at });
}

test('every shared delivery verifies at its transmission time', () => {
  assert.equal(vectors.length, 19);
  for (const v of vectors) {
    const webhook = ipnkit.receiveWebhook(v.body, headers(v));
    const request = webhook.certificateRequest(verifier(v));
    assert.ok(request !== null, v.name);
    assert.equal(request.cacheKey, request.url);
    const result = webhook.verify(verifier(v), { status: 200, body: v.pem }, { now: v.at });
    assert.deepEqual([result.kind, result.reason, result.isVerified], ['verified', null, true], v.name);
  }
});

test('each change is refused with the core\'s code', () => {
  for (const v of vectors) {
    const pretty = Buffer.from(JSON.stringify(JSON.parse(v.body), null, 2));
    assert.equal(verdict(v, { body: pretty }).reason, 'signature_mismatch', v.name);
    assert.equal(verdict(v, { body: Buffer.concat([v.body, Buffer.from('\n')]) }).reason, 'signature_mismatch');
    assert.equal(verdict(v, { webhookId: 'WRONG' }).reason, 'signature_mismatch');
    const url = headers(v)['paypal-cert-url'].replace('.paypal.com/', '.paypal.com.evil/');
    const webhook = ipnkit.receiveWebhook(v.body, headers(v, { cert_url: url }));
    assert.equal(webhook.certificateRequest(verifier(v)), null);
    assert.equal(webhook.verify(verifier(v), null, { now: v.at }).reason, 'cert_url_host');
    const late = ipnkit.receiveWebhook(v.body, headers(v)).verify(verifier(v), { status: 200, body: v.pem }, { now: v.at + 3 * 86400 + 1 });
    assert.deepEqual([late.kind, late.reason], ['invalid', 'stale_transmission']);
  }
});

test('the source-asserted negatives are refused', () => {
  let cases = 0;
  for (const v of vectors) {
    for (const c of v.facts.source_negative_cases ?? []) {
      cases += 1;
      const change = { ...c.change };
      let body = v.body;
      if ('body_file' in change) { body = readFileSync(join(DIR, change.body_file)); delete change.body_file; }
      if ('body' in change) { body = Buffer.from(change.body ?? ''); delete change.body; }
      const webhookId = change.webhook_id;
      delete change.webhook_id;
      const result = verdict(v, { body, hdrs: headers(v, change), webhookId });
      const want = 'auth_algo' in c.change ? 'unsupported_algorithm' : 'signature_mismatch';
      assert.deepEqual([result.kind, result.reason], ['invalid', want], `${v.name}: ${c.case}`);
    }
  }
  assert.equal(cases, 9);
});

test('each event is the core\'s golden JSON', () => {
  for (const v of vectors) {
    const golden = JSON.parse(readFileSync(join(ROOT, 'tests', 'webhooks', `${v.name}.json`), 'utf8'));
    assert.deepEqual(ipnkit.receiveWebhook(v.body, headers(v)).event, golden, v.name);
  }
});

test('headers arrive as req.headers, a fetch Headers or pairs; errors name the header, never the value', () => {
  const v = vectors[0];
  const fetchHeaders = new Headers(headers(v));
  assert.ok(ipnkit.receiveWebhook(v.body, fetchHeaders).verify(verifier(v), { status: 200, body: v.pem }, { now: v.at }).isVerified);
  assert.ok(ipnkit.receiveWebhook(v.body, Object.entries(headers(v))).verify(verifier(v), { status: 200, body: v.pem }, { now: v.at }).isVerified);
  const missing = headers(v);
  delete missing['paypal-cert-url'];
  assert.throws(() => ipnkit.receiveWebhook(v.body, missing), (e) =>
    e instanceof ipnkit.HeaderError && e.code === 'missing_header' && e.field === 'PAYPAL-CERT-URL');
  const twice = { ...headers(v), 'paypal-cert-url': [headers(v)['paypal-cert-url'], 'https://evil.example/'] };
  assert.throws(() => ipnkit.receiveWebhook(v.body, twice), (e) => e.code === 'repeated_header');
  assert.throws(() => ipnkit.receiveWebhook(v.body, headers(v, { transmission_time: 'yesterday-secret' })), (e) =>
    e.code === 'invalid_header' && e.field === 'PAYPAL-TRANSMISSION-TIME' && !e.message.includes('secret'));
  assert.throws(() => ipnkit.receiveWebhook(v.body.toString(), headers(v)), /not a string/);
  assert.throws(() => ipnkit.receiveWebhook(JSON.parse(v.body), headers(v)), /express\.raw/);
});

test('a certificate that cannot be had is retry later, never a verdict', () => {
  const v = vectors[0];
  const webhook = ipnkit.receiveWebhook(v.body, headers(v));
  for (const [answer, reason] of [[{ status: 500, body: v.pem }, 'http_status'], [{ status: 200, body: new Uint8Array(0) }, 'empty_body'],
    [{ status: 200, body: Buffer.from('<html>busy</html>') }, 'unrecognized_body'], [null, 'no_answer']]) {
    const result = webhook.verify(verifier(v), answer, { now: v.at });
    assert.deepEqual([result.kind, result.reason], ['unexpected', reason]);
  }
  assert.throws(() => new ipnkit.WebhookVerdict(), TypeError);
});

test('decisions act once, on IPN\'s keys', () => {
  const v = vectors.find((x) => x.name === 'paypal2_2024-07-30_payment-sale-refunded');
  const config = { environment: 'live', receiver_emails: ['shop@example.com'] };
  const webhook = ipnkit.receiveWebhook(v.body, headers(v));
  const result = webhook.verify(verifier(v), { status: 200, body: v.pem }, { now: v.at });
  const first = ipnkit.decideWebhook(webhook, result, { config, expected: ipnkit.Expected.anyAmount(), storedKeys: [] });
  const id = webhook.event.resource.id;
  assert.deepEqual([first.action, first.event, first.deliveryKey], ['act', 'payment_refunded', `txn:${id}:Refunded`]);
  if (first.action !== 'act') return;
  const again = ipnkit.decideWebhook(webhook, result, { config, expected: ipnkit.Expected.anyAmount(), storedKeys: [first.deliveryKey] });
  assert.equal(again.action, 'skip');
  const ipn = ipnkit.parse(Buffer.from(`txn_id=${id}&payment_status=Refunded&mc_gross=-0.01&mc_currency=USD&receiver_email=shop%40example.com`));
  assert.equal(ipn.deliveryKey, first.deliveryKey);
  const refused = ipnkit.decideWebhook(webhook, webhook.verify(verifier(v, 'WRONG'), { status: 200, body: v.pem }, { now: v.at }),
    { config, expected: ipnkit.Expected.anyAmount() });
  assert.deepEqual([refused.action, refused.why], ['refuse', 'not_verified']);
  const other = ipnkit.receiveWebhook(v.body, headers(v));
  assert.throws(() => ipnkit.decideWebhook(other, result, { config, expected: ipnkit.Expected.anyAmount() }), /not this webhook/);
  assert.throws(() => ipnkit.receiveWebhook(Buffer.from('{"id":"a","id":"b"}'), headers(v)).event, (e) =>
    e instanceof ipnkit.DuplicateKeyError && e.field === 'id');
});
