// The IPN inspector page: decodes a pasted body with ipnkit (wasm, in the page), shows the
// typed variables, the event, every error with its field, the exact postback and — for the
// chosen environment and receiver — the rules a VERIFIED answer would still break. Display only:
// every judgement is ipnkit's.
import { init } from './web.mjs';

const ipnkit = await init();
const $ = (id) => document.getElementById(id);

/** Pasted text to bytes: a raw IPN body is ASCII (its values are percent-encoded). */
function bytesOf(text) {
  const trimmed = text.replace(/[\r\n]+$/, '');
  const nonAscii = [...trimmed].some((c) => c.charCodeAt(0) > 0x7e || (c.charCodeAt(0) < 0x20 && c !== '\t'));
  return { bytes: new TextEncoder().encode(trimmed), nonAscii };
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

const section = (title, ...content) => element('section', {}, element('h2', {}, title), ...content);

function show(value) {
  if (value instanceof ipnkit.PayPalDate) return `${value.toISOString()}  (PayPal wrote: ${value.text})`;
  if (value instanceof ipnkit.Money) return value.toString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const INVALID_CAUSES = element('ul', {},
  element('li', {}, 'The body was re-encoded before the postback: rebuilt from parsed fields ("+" became "%20", ' +
    'names of other charsets were decoded and encoded as UTF-8, Adaptive Payments keys like transaction[0].id ' +
    'became nested arrays). Post back the raw bytes exactly as received.'),
  element('li', {}, 'The wrong environment: a sandbox message (test_ipn=1) posted back to the live endpoint, or ' +
    'the reverse. PayPal answers INVALID.'),
  element('li', {}, 'The body was changed on the way: a framework added or stripped slashes, trimmed values, or ' +
    'a proxy altered it.'),
);

function inspect() {
  const out = $('out');
  out.replaceChildren();
  const { bytes, nonAscii } = bytesOf($('body').value);
  if (bytes.length === 0) return;
  if (nonAscii) {
    out.append(element('p', { class: 'error', id: 'not-ascii' },
      'This body has characters that are not percent-encoded: it was decoded somewhere (a raw IPN body is ' +
      'ASCII). Posted back like this, PayPal answers INVALID.'));
  }
  const postback = ipnkit.postback(bytes);
  let message;
  try {
    message = ipnkit.parse(bytes);
  } catch (e) {
    if (!(e instanceof ipnkit.IpnError)) throw e;
    out.append(section('Error', element('p', { class: 'error', id: 'error' },
      `${e.name} `, element('code', {}, e.code), e.field ? ` in the field ` : '', e.field ? element('code', {}, e.field) : '',
      `: ${e.message}`)));
  }
  if (message) {
    out.append(element('p', { id: 'event' }, 'Event: ', element('strong', {}, message.event),
      ` — ${ipnkit.EVENTS[message.event]} (family ${message.family})`));
    const rows = ipnkit.MODELLED_VARIABLES
      .filter((name) => message[name] !== undefined)
      .map((name) => element('tr', {}, element('td', { class: 'name' }, name), element('td', {}, show(message[name]))));
    const extra = message.extra.map(([name, value]) =>
      element('tr', {}, element('td', { class: 'name' }, name), element('td', {}, `${value}  (not modelled by ipnkit)`)));
    out.append(section('Variables', element('table', { id: 'variables' }, ...rows, ...extra)));
    for (const notice of message.notices) {
      out.append(element('p', { class: 'note' }, `Notice: ${notice.code} (${notice.field})`));
    }
    const receiver = $('receiver').value.trim();
    const config = { environment: $('environment').value, receiver_emails: receiver ? [receiver] : [] };
    try {
      const decision = ipnkit.decide(message, ipnkit.verdict(200, new TextEncoder().encode('VERIFIED')), {
        config, expected: ipnkit.Expected.anyAmount(),
      });
      const violations = decision.action === 'refuse' && decision.why === 'rules' ? decision.violations : [];
      const list = violations.map((v) =>
        element('li', {}, element('code', {}, v.code), v.field ? ` (${v.field})` : '', v.detail ? `: ${v.detail}` : ''));
      out.append(section('Rules, if PayPal answered VERIFIED',
        violations.length === 0
          ? element('p', { class: 'ok', id: 'rules' }, `Nothing broken: a listener would act (${decision.action}).`)
          : element('ul', { class: 'error', id: 'rules' }, ...list)));
    } catch (e) {
      if (!(e instanceof ipnkit.IpnError)) throw e;
      out.append(section('Rules', element('p', { class: 'error' }, `${e.code}: ${e.message}`)));
    }
  }
  out.append(section('The postback, byte for byte',
    element('pre', { id: 'postback' }, new TextDecoder('latin1').decode(postback))));
  out.append(section('When PayPal answers INVALID', INVALID_CAUSES.cloneNode(true)));
}

// ---- webhooks ------------------------------------------------------------------------------

/** What a webhook's refusal means, by the core's reason. */
const WEBHOOK_CAUSES = {
  signature_mismatch: 'The signature is not over these bytes with this webhook id. Either the body changed ' +
    'after PayPal signed it — a framework parsed the JSON and serialised it again (express.json(), ' +
    'request.get_json(), json_decode then json_encode: spacing, key order, "1.0" becoming "1", escapes), a proxy ' +
    're-encoded it, a trailing newline was added — or the webhook id is not the one PayPal signed with (the ' +
    'Webhook Simulator signs with WEBHOOK_ID).',
  unsupported_algorithm: 'PAYPAL-AUTH-ALGO is not SHA256withRSA, the one algorithm PayPal signs with.',
  cert_url_form: 'The certificate URL is not a plain https URL of PayPal\'s (a port, user info, an escape, a query).',
  cert_url_host: 'The certificate URL\'s host is not PayPal\'s for the chosen environment: a sandbox webhook checked ' +
    'as live (or the reverse), or a forged URL.',
  cert_url_path: 'The certificate URL is not under PayPal\'s certificate path.',
  certificate_chain: 'The certificate does not chain to DigiCert\'s root through PayPal\'s intermediate: not PayPal\'s.',
  certificate_time: 'The certificate is expired or not yet valid at the time of verification: PayPal\'s certificates ' +
    'last a year; check the time (a saved webhook verifies at its transmission time).',
  certificate_name: 'The certificate is not PayPal\'s webhook certificate for the chosen environment (a sandbox ' +
    'certificate for a live webhook, or the reverse).',
  stale_transmission: 'The transmission time is outside the replay window (three days) of the time of verification.',
};

/** `Name: value` lines to pairs (a first request line, and blank lines, skipped). */
function headerPairs(text) {
  return text.split(/\r?\n/).filter((line) => line.includes(':')).map((line) => {
    const at = line.indexOf(':');
    return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
  });
}

function inspectWebhook() {
  const out = $('wh-out');
  out.replaceChildren();
  const bodyText = $('wh-body').value;
  if (bodyText.trim() === '') return;
  const body = new TextEncoder().encode(bodyText);
  const webhookId = $('wh-id').value.trim() || 'WEBHOOK_ID';
  let webhook;
  try {
    webhook = ipnkit.receiveWebhook(body, headerPairs($('wh-headers').value));
  } catch (e) {
    if (!(e instanceof ipnkit.IpnError)) throw e;
    out.append(section('Error', element('p', { class: 'error', id: 'wh-error' }, element('code', {}, e.code),
      e.field ? ` (${e.field})` : '', `: ${e.message}`)));
    return;
  }
  out.append(section('The signed string (CRC-32 of the body, unsigned)',
    element('pre', { id: 'wh-signed' }, webhook.signedString(webhookId))));
  const pairs = Object.fromEntries(headerPairs($('wh-headers').value).map(([n, v]) => [n.toLowerCase(), v]));
  const atText = $('wh-at').value.trim() || pairs['paypal-transmission-time'];
  const at = Math.floor(Date.parse(atText) / 1000);
  const verifier = new ipnkit.WebhookVerifier({ environment: $('wh-environment').value }, webhookId);
  const cert = new TextEncoder().encode($('wh-cert').value);
  const verdict = webhook.verify(verifier, { status: 200, body: cert }, { now: Number.isNaN(at) ? 0 : at });
  if (verdict.isVerified) {
    out.append(element('p', { class: 'ok', id: 'wh-verdict' }, `Verified at ${new Date(at * 1000).toISOString()}: PayPal sent these bytes.`));
  } else {
    out.append(element('p', { class: 'error', id: 'wh-verdict' }, `${verdict.kind}: `, element('code', {}, verdict.reason ?? ''),
      ` — ${WEBHOOK_CAUSES[verdict.reason] ?? 'the certificate could not be read: paste what the certificate URL served.'}`));
  }
  try {
    const event = webhook.event;
    out.append(element('p', { id: 'wh-event' }, 'Event: ', element('strong', {}, event.event),
      ` (${event.event_type}) — ${ipnkit.EVENTS[event.event]}`));
    out.append(section('The typed event', element('pre', { id: 'wh-json' }, JSON.stringify(event, null, 2))));
  } catch (e) {
    if (!(e instanceof ipnkit.IpnError)) throw e;
    out.append(section('The body', element('p', { class: 'error', id: 'wh-event' }, element('code', {}, e.code),
      e.field ? ` (${e.field})` : '', `: ${e.message}`)));
  }
}

$('wh-inspect').addEventListener('click', inspectWebhook);
$('inspect').addEventListener('click', inspect);
$('body').addEventListener('input', inspect);
document.body.dataset.ready = 'true';
