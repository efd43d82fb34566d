// The one-call functions (`handleIpn`, `handleWebhook`): the host's HTTP done with an injected
// `fetch`, with the listener's discipline (no redirect followed, a deadline, the answer capped),
// and every answer judged by the core: no answer is `retry`, never a verdict.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import test from 'node:test';

import { ROOT, ipnkit } from './support.mjs';

const BODY = Buffer.from('txn_id=4RT58091KX0312345&payment_status=Completed&mc_gross=24.90&mc_currency=EUR' +
  '&receiver_email=shop%40example.net&test_ipn=1');
const config = new ipnkit.Config({ environment: 'sandbox', receiver_emails: ['shop@example.net'] });
const expected = new ipnkit.Expected({ amount: '24.90', currency: 'EUR' });

/** A fetch that records its calls and answers with `answer(url, init)`. */
function fakeFetch(answer) {
  const calls = [];
  const f = async (url, init) => {
    calls.push({ url, init });
    return answer(url, init);
  };
  return [f, calls];
}

test('handleIpn posts back with the discipline and returns the core\'s decision', async () => {
  const [f, calls] = fakeFetch(() => new Response('VERIFIED'));
  const d = await ipnkit.handleIpn(BODY, { config, expected, storedKeys: [], fetch: f });
  assert.equal(d.action, 'act');
  assert.equal(calls.length, 1);
  const { url, init } = calls[0];
  assert.equal(url, ipnkit.verificationRequest(BODY, config).url);
  assert.equal(init.method, 'POST');
  assert.equal(init.redirect, 'manual');
  assert.ok(init.signal instanceof AbortSignal);
  assert.deepEqual(Buffer.from(init.body), Buffer.concat([Buffer.from('cmd=_notify-validate&'), BODY]));
});

test('no answer, a redirect, an answer over the cap are retry; INVALID is refused', async () => {
  const cases = [
    [() => { throw new TypeError('fetch failed'); }, ['retry', 'no_answer']],
    [() => new Response(null, { status: 302, headers: { location: 'https://evil.example/' } }), ['retry', 'http_status']],
    [() => new Response('x'.repeat(64 * 1024 + 1)), ['retry', 'no_answer']],
    [() => new Response('<html>VERIFIED</html>'), ['retry', 'unrecognized_body']],
  ];
  for (const [answer, [action, reason]] of cases) {
    const [f] = fakeFetch(answer);
    const d = await ipnkit.handleIpn(BODY, { config, expected, fetch: f });
    assert.deepEqual([d.action, d.action === 'retry' ? d.reason : null], [action, reason]);
  }
  const [f] = fakeFetch(() => new Response('INVALID'));
  const d = await ipnkit.handleIpn(BODY, { config, expected, fetch: f });
  assert.deepEqual([d.action, d.action === 'refuse' ? d.why : null], ['refuse', 'not_verified']);
  // A deadline that passes is no answer. (AbortSignal.timeout's timer does not keep Node's
  // event loop alive: in a server the listening socket does; here a timer of the test's.)
  const slow = (url, init) => new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)));
  const alive = setTimeout(() => {}, 10_000);
  const late = await ipnkit.handleIpn(BODY, { config, expected, fetch: slow, timeoutMs: 20 });
  clearTimeout(alive);
  assert.deepEqual([late.action, late.action === 'retry' ? late.reason : null], ['retry', 'no_answer']);
  await assert.rejects(() => ipnkit.handleIpn(BODY, { config, fetch: f }), /needs `expected`/);
});

const DIR = resolve(process.env.IPNKIT_WEBHOOKS ?? join(ROOT, '..', 'shared', 'webhooks'));
if (!existsSync(join(DIR, 'SOURCES.md'))) {
  throw new Error(`the webhook vectors are missing: expected ${DIR} (set IPNKIT_WEBHOOKS to its path)`);
}

test('handleWebhook fetches PayPal\'s certificate once per cache key, only from PayPal\'s URL', async () => {
  const name = 'paypal2_2024-07-30_payment-sale-refunded';
  const facts = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));
  const body = readFileSync(join(DIR, `${name}.body`));
  const pem = readFileSync(join(DIR, `${name}.pem`));
  const headers = {
    'paypal-transmission-id': facts.transmission_id,
    'paypal-transmission-time': facts.transmission_time,
    'paypal-transmission-sig': facts.transmission_sig,
    'paypal-cert-url': facts.cert_url,
    'paypal-auth-algo': facts.auth_algo,
  };
  const live = new ipnkit.Config({ environment: 'live', receiver_emails: ['shop@example.com'] });
  const verifier = new ipnkit.WebhookVerifier(live, facts.webhook_id);
  const now = Date.parse(facts.transmission_time) / 1000;
  const certificates = new Map();
  const [f, calls] = fakeFetch(() => new Response(pem));
  const options = { config: live, verifier, expected: ipnkit.Expected.anyAmount(), certificates, fetch: f, now };
  const first = await ipnkit.handleWebhook(body, headers, options);
  assert.equal(first.action, 'act');
  assert.deepEqual(calls.map((c) => [c.url, c.init.method, c.init.redirect]), [[facts.cert_url, 'GET', 'manual']]);
  if (first.action !== 'act') return;
  const again = await ipnkit.handleWebhook(body, headers, { ...options, storedKeys: [first.deliveryKey] });
  assert.equal(again.action, 'skip');
  assert.equal(calls.length, 1, 'the certificate is fetched once per cache key');

  const forged = { ...headers, 'paypal-cert-url': 'https://api.paypal.com.evil/v1/notifications/certs/CERT-1' };
  const refused = await ipnkit.handleWebhook(body, forged, options);
  assert.deepEqual([refused.action, refused.action === 'refuse' ? refused.why : null], ['refuse', 'not_verified']);
  assert.equal(calls.length, 1, 'nothing is fetched from a URL that is not PayPal\'s');

  const [down] = fakeFetch(() => { throw new TypeError('fetch failed'); });
  const later = await ipnkit.handleWebhook(body, headers, { ...options, certificates: new Map(), fetch: down });
  assert.deepEqual([later.action, later.action === 'retry' ? later.reason : null], ['retry', 'no_answer']);
  const [broken] = fakeFetch(() => new Response('<html>503</html>', { status: 503 }));
  const cache = new Map();
  const busy = await ipnkit.handleWebhook(body, headers, { ...options, certificates: cache, fetch: broken });
  assert.equal(busy.action, 'retry');
  assert.equal(cache.size, 0, 'a failed fetch is not cached');
});
