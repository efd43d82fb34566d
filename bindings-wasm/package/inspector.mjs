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

$('inspect').addEventListener('click', inspect);
$('body').addEventListener('input', inspect);
document.body.dataset.ready = 'true';
