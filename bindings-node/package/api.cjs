'use strict';
// The ipnkit JavaScript API over a native module: the Node addon (`ipnkit.<platform>.node`), or another
// build of the same native interface. Conversion only: every rule, verdict, error kind and
// configuration check is the Rust core's; this file turns its answers into JavaScript idioms.
// Classes, error kinds, variables and events come from the core's schema at load time.

/**
 * @param {any} native the native interface (the addon, or the wasm module adapted to it)
 * @param {'native' | 'wasm'} build which build it is
 */
function createApi(native, build) {
  if (build !== 'native' && build !== 'wasm') throw new Error(`ipnkit: unknown build ${JSON.stringify(build)}`);
  const SCHEMA = native.schema();
  const { NativeError } = native;
  /** Only this module makes messages and verdicts: their constructors ask for it. */
  const TOKEN = Symbol('ipnkit.token');
  const FROM_NATIVE = Symbol('ipnkit.native');
  const CACHE = Symbol('ipnkit.cache');

  // ---- errors ---------------------------------------------------------------------------

  /** An error of ipnkit's: a stable `code`, the `field` it concerns (never its value). */
  class IpnError extends Error {
    constructor(code, field, message) {
      super(message);
      Object.defineProperty(this, 'name', { value: new.target.name, enumerable: false });
      this.code = code;
      this.field = field ?? null;
    }
  }

  const errorClasses = { IpnError };
  const classOfKind = new Map();
  for (const { kind, class: name } of SCHEMA.errors) {
    const cls = { [name]: class extends IpnError {} }[name];
    errorClasses[name] = cls;
    classOfKind.set(kind, cls);
  }

  function thrown(e) {
    const cls = classOfKind.get(e.kind);
    if (cls === undefined) {
      // Both lists come from the same schema: a kind without a class is a bug to report.
      return new Error(`ipnkit: no error class for kind ${JSON.stringify(e.kind)}`);
    }
    return new cls(e.code, e.field ?? null, e.message);
  }

  /** The value of a native call, or its core error thrown as its class. */
  function check(result) {
    if (result instanceof NativeError) throw thrown(result);
    return result;
  }

  // ---- input -----------------------------------------------------------------------------

  const STRING_BODY =
    'the raw IPN body must be bytes (a Uint8Array or Buffer), not a string: decoding and ' +
    're-encoding it breaks verification. Keep the raw bytes: ' +
    'express.raw({ type: "application/x-www-form-urlencoded" }) in Express, ' +
    '`rawBody: true` in NestJS (then req.rawBody), ' +
    '`await request.arrayBuffer()` with fetch-style frameworks (Workers, Next.js, Hono)';

  function describe(value) {
    if (value === null) return 'null';
    if (value === undefined) return 'undefined';
    if (Array.isArray(value)) return 'an array';
    if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
    const type = typeof value;
    return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
  }

  const PARSED_BODY =
    'the raw IPN body must be bytes, not an object: a body parser read it first ' +
    '(express.urlencoded() or express.json(), perhaps mounted for the whole app). Register ' +
    'express.raw({ type: "application/x-www-form-urlencoded" }) on this route before any body ' +
    'parser, so that req.body is the Buffer PayPal sent';

  function bytes(body, what = 'the raw IPN body') {
    // A detached buffer reads as empty (its length is 0), whichever build reads it.
    if (body instanceof Uint8Array) return body.byteLength === 0 ? new Uint8Array(0) : body;
    if (body instanceof ArrayBuffer) return new Uint8Array(body);
    if (ArrayBuffer.isView(body)) {
      return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    }
    if (what !== 'the raw IPN body') {
      throw new TypeError(`${what} must be bytes (a Uint8Array or Buffer), not ${describe(body)}`);
    }
    if (typeof body === 'string') throw new TypeError(STRING_BODY);
    // A plain object (`{}` or a null-prototype one) is what a form or JSON parser makes.
    if (typeof body === 'object' && body !== null && [Object.prototype, null].includes(Object.getPrototypeOf(body))) {
      throw new TypeError(PARSED_BODY);
    }
    throw new TypeError(`the raw IPN body must be a Uint8Array (a Buffer is one), not ${describe(body)}`);
  }

  /** A copy of the bytes `bytes()` gave (`slice` of Uint8Array's own, not Buffer's view). */
  function copy(view) {
    return Uint8Array.prototype.slice.call(view);
  }
  /** A private copy of a body the message keeps: in Node from Buffer's pool (a quarter of the
   * time of a new ArrayBuffer for a message's size), elsewhere a new array. Never handed out:
   * `raw` gives a copy of it. */
  const keep = typeof Buffer === 'function'
    ? (view) => Buffer.from(view)
    : (view) => new Uint8Array(view);

  function plainData(what, make, data) {
    let result;
    try {
      result = make(data);
    } catch (e) {
      // The native side refuses what has no plain-data form (functions, symbols).
      throw new TypeError(`${what} must be plain data (objects, arrays, strings, numbers, booleans, null): ${e.message}`);
    }
    return check(result);
  }

  // ---- values ----------------------------------------------------------------------------

  /** An exact amount: `amount` is the decimal text as PayPal wrote it, never a float. */
  class Money {
    constructor(amount, currency) {
      if (typeof amount !== 'string') throw new TypeError('Money amount must be a decimal string');
      this.amount = amount;
      this.currency = currency ?? null;
      Object.freeze(this);
    }
    toString() {
      return this.currency === null ? this.amount : `${this.amount} ${this.currency}`;
    }
    toJSON() {
      return { amount: this.amount, currency: this.currency };
    }
    equals(other) {
      return other instanceof Money && other.amount === this.amount && other.currency === this.currency;
    }
    /**
     * `String(money)` and `${money}` give `24.90 EUR`; every other primitive conversion
     * (`money + 1`, `money * 2`, `money == '24.90'`, `+money`) throws: it would compute with text.
     */
    [Symbol.toPrimitive](hint) {
      if (hint === 'string') return this.toString();
      throw new TypeError(
        'ipnkit Money is exact and is not a number: use money.amount (a decimal string) with a ' +
          'decimal library, and money.currency; String(money) gives "24.90 EUR"');
    }
  }

  /** A PayPal date: a `Date` (the UTC instant) that keeps PayPal's `text`. */
  class PayPalDate extends Date {
    #utc;
    constructor(utc, text) {
      super(utc);
      this.#utc = utc;
      Object.defineProperty(this, 'text', { value: text, enumerable: true });
    }
    toJSON() {
      return { utc: this.#utc, text: this.text };
    }
  }

  function convert(kind, value) {
    if (value === null || value === undefined) return undefined;
    switch (kind) {
      case 'money':
        return new Money(value.amount, value.currency);
      case 'date':
        return new PayPalDate(value.utc, value.text);
      case 'period':
        return Object.freeze({ count: value.count, unit: value.unit });
      case 'records:options':
        return Object.freeze(value.map((member) => record(GROUPS.get('options'), member)));
      case 'pairs':
        return Object.freeze(value.map((pair) => Object.freeze([pair[0], pair[1]])));
      default:
        return value;
    }
  }

  const GROUPS = new Map(SCHEMA.groups.map((g) => [g.name, g.members]));

  /** A member of a group as a frozen object, members in the canonical JSON's order. */
  function record(members, data) {
    const out = {};
    for (const { name, kind } of members) {
      if (data[name] !== undefined && data[name] !== null) out[name] = convert(kind, data[name]);
    }
    return Object.freeze(out);
  }

  // ---- the message -----------------------------------------------------------------------

  // The native side returns a message's flat form, one string: a header of numbers, two
  // UTF-16 code units of 15 bits each (high, low) — the number of entries, then four numbers an
  // entry in ascending order of slot (slot, start, mid, end: part A and part B of the text) —
  // then the text, to the end of the string. Only what the message carries has an entry. Slots: the variables in the schema's order, then the
  // summary, then one per notice. The message keeps the string and its own copy of the body.
  const SUMMARY_SLOTS = SCHEMA.variables.length;
  const NOTICE_SLOTS = SUMMARY_SLOTS + SCHEMA.flat.summary.length;
  const summarySlot = (name) => {
    const i = SCHEMA.flat.summary.indexOf(name);
    if (i < 0) throw new Error(`ipnkit: the schema has no summary slot ${name}`);
    return SUMMARY_SLOTS + i;
  };
  const EVENT = summarySlot('event');
  const FAMILY = summarySlot('family');
  const DELIVERY_KEY = summarySlot('delivery_key');
  const LOOKUP_ID = summarySlot('lookup_id');

  const FLAT = Symbol('ipnkit.flat');
  const RAW = Symbol('ipnkit.raw');
  const CONFIG = Symbol('ipnkit.config');

  /** Number `k` of the flat string's header (0: the number of entries). */
  function number(flat, k) {
    return flat.charCodeAt(2 * k) * 0x8000 + flat.charCodeAt(2 * k + 1);
  }
  /** Where the text starts. */
  const textStart = (flat) => 2 + 8 * number(flat, 0);
  /** The message's own copy of the raw body (passed to native calls, which copy what they keep). */
  const rawOf = (m) => m[RAW];
  /** The header's number where the entry of slot `i` starts (its `start`), or -1: absent. */
  function entryOf(flat, i) {
    let low = 0;
    let high = number(flat, 0);
    while (low < high) {
      const k = (low + high) >>> 1;
      const slot = number(flat, 1 + 4 * k);
      if (slot < i) low = k + 1;
      else if (slot > i) high = k;
      else return 2 + 4 * k;
    }
    return -1;
  }
  /** Part A of the entry at header number `e`. */
  function partAt(flat, e) {
    const text = textStart(flat);
    return flat.slice(text + number(flat, e), text + number(flat, e + 1));
  }
  /** Part B of the entry at header number `e` (`null` when empty). */
  function partBAt(flat, e) {
    const mid = number(flat, e + 1);
    const end = number(flat, e + 2);
    if (mid === end) return null;
    const text = textStart(flat);
    return flat.slice(text + mid, text + end);
  }
  /** Part A of slot `i`, or `undefined`. */
  function partA(m, i) {
    const flat = m[FLAT];
    const e = entryOf(flat, i);
    return e < 0 ? undefined : partAt(flat, e);
  }
  /** Slot `i` as a value of `kind` (the schema's kinds), `undefined` when absent. */
  function slotValue(m, i, kind) {
    const flat = m[FLAT];
    const e = entryOf(flat, i);
    if (e < 0) return undefined;
    const a = partAt(flat, e);
    switch (kind) {
      case 'money':
        return new Money(a, partBAt(flat, e));
      case 'date':
        return new PayPalDate(a, partBAt(flat, e));
      case 'period':
        return Object.freeze({ count: Number(a), unit: partBAt(flat, e) });
      case 'count':
        return Number(a);
      case 'flag':
        return a === '1';
      default: // text, decimal, currency and PayPal's words: the text itself
        return a;
    }
  }

  /**
   * A parsed IPN message. PayPal's variables are properties under PayPal's names
   * (`message.mc_gross`, `message.payment_status`), `undefined` when absent; each is converted
   * when first read and kept. A message holds no native object: one string holds its
   * values, beside its own copy of the raw body.
   */
  class Message {
    constructor(token, flat, raw, config) {
      if (token !== TOKEN) throw new TypeError('a Message comes from ipnkit.parse(body)');
      this[FLAT] = flat;
      this[RAW] = raw;
      this[CONFIG] = config;
      this[CACHE] = Object.create(null);
    }

    /** What happened: a key of `EVENTS`. */
    get event() { return partA(this, EVENT); }
    /** The family of notification (`payment`, `cart`, `subscription`…). */
    get family() { return partA(this, FAMILY); }
    /** The key to store once this notification is acted on. */
    get deliveryKey() { return partA(this, DELIVERY_KEY); }
    /** The key under which this notification's earlier deliveries are stored. */
    get lookupId() { return partA(this, LOOKUP_ID); }
    /** Things worth knowing that are not errors: `[{code, field}]`. */
    get notices() {
      const flat = this[FLAT];
      const notices = [];
      for (let k = 0; k < number(flat, 0); k++) {
        if (number(flat, 1 + 4 * k) < NOTICE_SLOTS) continue;
        const e = 2 + 4 * k;
        notices.push(Object.freeze({ code: partAt(flat, e), field: partBAt(flat, e) }));
      }
      return notices;
    }
    /** The body as received, byte for byte (a copy). */
    get raw() { return new Uint8Array(rawOf(this)); }
    /** Variables ipnkit does not model (and modelled ones not of their type): `[[name, value]]`. */
    get extra() { return check(native.extra(rawOf(this), this[CONFIG])); }
    /** Every variable as received (decoded), in order: `[[name, value]]`. */
    get variables() { return check(native.variables(rawOf(this), this[CONFIG])); }

    /** The canonical JSON shape: `JSON.stringify(message)` is ipnkit's canonical JSON. */
    toJSON() {
      return JSON.parse(check(native.toJson(rawOf(this), this[CONFIG])));
    }
    /** `cmd=_notify-validate&` followed by the body, byte for byte. */
    postback() {
      return check(native.postback(rawOf(this), this[CONFIG]));
    }
    /** The postback request for the configured environment, ready for `fetch(req.url, req)`. */
    verificationRequest(config) {
      return request(rawOf(this), toConfig(config));
    }
    get [Symbol.toStringTag]() {
      return 'ipnkit.Message';
    }
    /** `console.log(message)`: the event and the variables it carries, never the raw string. */
    [Symbol.for('nodejs.util.inspect.custom')](depth, options, inspect) {
      const shown = { event: this.event };
      SCHEMA.variables.forEach(({ name }, i) => {
        if (partA(this, i) !== undefined) shown[name] = this[name];
      });
      if (typeof inspect !== 'function') return shown;
      return `Message ${inspect(shown, { ...options, depth: options.depth === null ? null : options.depth - 1 })}`;
    }
  }

  const OWN = new Set(Object.getOwnPropertyNames(Message.prototype));
  function define(name, read) {
    if (OWN.has(name)) throw new Error(`ipnkit: the variable ${name} collides with a Message member`);
    Object.defineProperty(Message.prototype, name, {
      enumerable: true,
      configurable: false,
      get() {
        const cache = this[CACHE];
        const kept = cache[name];
        if (kept !== undefined || name in cache) return kept;
        return (cache[name] = read(this));
      },
    });
  }
  SCHEMA.variables.forEach(({ name, kind }, i) => define(name, (m) => slotValue(m, i, kind)));
  for (const [name, members] of GROUPS) {
    define(name, (m) =>
      Object.freeze(check(native.group(rawOf(m), m[CONFIG], name)).map((data) => record(members, data))));
  }
  define('fraud_filters', (m) => Object.freeze(check(native.group(rawOf(m), m[CONFIG], 'fraud_filters'))));

  // ---- configuration and expectations ----------------------------------------------------

  /**
   * Your configuration, checked by the core once: `environment` (`live` or `sandbox`),
   * `receiver_emails`, `receiver_ids`, `final_statuses` (PayPal's words), `limits`, and for
   * tests `verify_url_for_testing`. The keys are the core's, the same in every ipnkit binding.
   */
  class Config {
    #native;
    #data;
    constructor(data) {
      this.#native = plainData('the configuration', native.config, data);
      // Kept as the core accepted it, for console.log: a copy the caller cannot change.
      this.#data = structuredClone(data);
      Object.freeze(this);
    }
    /** `console.log(config)` shows the data it was made from. */
    [Symbol.for('nodejs.util.inspect.custom')](depth, options, inspect) {
      return typeof inspect === 'function' ? `Config ${inspect(this.#data, options)}` : this.#data;
    }
    static [FROM_NATIVE](config) {
      return config instanceof Config ? config.#native : new Config(config).#native;
    }
    /** `live` or `sandbox`. */
    get environment() { return this.#native.environment; }
    /** `{max_body_bytes, max_fields, max_key_bytes}`. */
    get limits() { return { ...this.#native.limits }; }
  }
  const toConfig = (config) => Config[FROM_NATIVE](config);

  /**
   * What you know of the money a notification should carry, one of three answers: an order
   * (`{amount: "24.90", currency: "EUR"}`, the amount a decimal string, compared exactly; a
   * number is refused), any amount (`Expected.anyAmount()`, for donations), or no such order
   * (`Expected.noOrder()`).
   */
  class Expected {
    #data;
    constructor(data) {
      plainData('the expected order', native.checkExpected, data);
      // Kept as the core accepted it: a copy the caller cannot change afterwards.
      this.#data = structuredClone(data);
      Object.freeze(this);
    }
    /** Any amount will do (donations, pay what you want); optionally in this currency. */
    static anyAmount(currency) {
      return new Expected(currency === undefined ? { any_amount: true } : { any_amount: true, currency });
    }
    /** You looked and have no order this notification pays: a payment is refused. */
    static noOrder() {
      return new Expected({ no_order: true });
    }
    static [FROM_NATIVE](expected) {
      return expected instanceof Expected ? expected.#data : new Expected(expected).#data;
    }
    /** `console.log(expected)` shows the data it was made from. */
    [Symbol.for('nodejs.util.inspect.custom')](depth, options, inspect) {
      return typeof inspect === 'function' ? `Expected ${inspect(this.#data, options)}` : this.#data;
    }
  }

  // ---- verification ----------------------------------------------------------------------

  function request(body, nativeConfig) {
    const r = check(native.verificationRequest(body, nativeConfig));
    return Object.freeze({
      url: r.url,
      method: r.method,
      headers: Object.freeze(Object.fromEntries(r.headers)),
      body: r.body,
    });
  }

  /**
   * PayPal's answer to a postback: `kind` is `verified`, `invalid` or `unexpected` (retry
   * later), with the `reason` of an unexpected one. Made only from the answer as it came.
   */
  class Verdict {
    #status;
    #body;
    constructor(token, status, body) {
      if (token !== TOKEN) {
        throw new TypeError('a Verdict comes from ipnkit.verdict(status, body) or Verdict.noAnswer()');
      }
      this.#status = status;
      this.#body = body;
      const { kind, reason } = native.verdict(status, body);
      this.kind = kind;
      this.reason = reason ?? null;
      Object.freeze(this);
    }
    /** The postback got no HTTP answer at all (a timeout, a refused connection). */
    static noAnswer() {
      return new Verdict(TOKEN, null, EMPTY);
    }
    static [FROM_NATIVE](verdict) {
      if (!(typeof verdict === 'object' && verdict !== null && #status in verdict)) {
        throw new TypeError('the verdict must come from ipnkit.verdict(status, body) or Verdict.noAnswer()');
      }
      return [verdict.#status, verdict.#body];
    }
  }
  const EMPTY = new Uint8Array(0);

  // ---- PayPal REST webhooks --------------------------------------------------------------

  const WEBHOOK_STRING_BODY =
    'the raw webhook body must be bytes (a Uint8Array or Buffer), not a string: PayPal signed ' +
    'the bytes it sent, and a parsed and re-serialised JSON is not them. Keep the raw bytes: ' +
    'express.raw({ type: "application/json" }) in Express, `await request.arrayBuffer()` with ' +
    'fetch-style frameworks (Workers, Next.js, Hono)';

  function webhookBody(body) {
    if (typeof body === 'string') throw new TypeError(WEBHOOK_STRING_BODY);
    if (typeof body === 'object' && body !== null && [Object.prototype, null].includes(Object.getPrototypeOf(body))) {
      throw new TypeError(
        'the raw webhook body must be bytes, not an object: a JSON body parser read it first ' +
          '(express.json(), perhaps mounted for the whole app). Register express.raw({ type: ' +
          '"application/json" }) on this route before any body parser');
    }
    return bytes(body, 'the raw webhook body');
  }

  /** The request's headers as the list they cross as: `[name, value, name, value…]`, from a
   * fetch `Headers`, a `Map` or pairs, or Node's `req.headers` (a list value: one pair each). */
  function headerList(headers) {
    const out = [];
    const add = (name, value) => {
      if (value === undefined) return;
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof name !== 'string' || typeof v !== 'string') {
          throw new TypeError(`the request's headers are names and values as strings: ${JSON.stringify(String(name))} is ${describe(v)}`);
        }
        out.push(name, v);
      }
    };
    if (headers === null || typeof headers !== 'object') {
      throw new TypeError(`the request's headers must be req.headers, a Headers or [name, value] pairs, not ${describe(headers)}`);
    }
    if (typeof headers[Symbol.iterator] === 'function') {
      for (const pair of headers) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new TypeError('the request\'s headers, as pairs, are [name, value] arrays');
        }
        add(pair[0], pair[1]);
      }
    } else {
      for (const [name, value] of Object.entries(headers)) add(name, value);
    }
    return out;
  }

  /**
   * Verifies the webhooks of one webhook id (PayPal's developer dashboard; `WEBHOOK_ID` for the
   * Webhook Simulator's deliveries) in `config`'s environment, offline: the certificate URL, its
   * chain to DigiCert's root at the time given, its name, and RSA-SHA256 over the raw bytes.
   * `trustAnchors` (PEM bytes) replaces the bundled DigiCert certificates; `replayWindow`
   * (seconds, default three days) refuses older transmissions; `certificateBaseForTesting` (a
   * local stand-in's URL, such as `ipnkit sandbox`'s; sandbox only) also takes its certificates.
   */
  class WebhookVerifier {
    #native;
    constructor(config, webhookId, { trustAnchors, replayWindow, certificateBaseForTesting } = {}) {
      if (typeof webhookId !== 'string') {
        throw new TypeError(`the webhook id must be a string, not ${describe(webhookId)}`);
      }
      const anchors = trustAnchors === undefined ? undefined : copy(bytes(trustAnchors, 'trustAnchors'));
      if (replayWindow !== undefined && !(Number.isInteger(replayWindow) && replayWindow >= 0 && replayWindow < 2 ** 32)) {
        throw new TypeError('replayWindow is whole seconds');
      }
      if (certificateBaseForTesting !== undefined && typeof certificateBaseForTesting !== 'string') {
        throw new TypeError(`certificateBaseForTesting is a URL, not ${describe(certificateBaseForTesting)}`);
      }
      this.#native = check(native.webhookVerifier(toConfig(config), webhookId, anchors, replayWindow, certificateBaseForTesting));
      Object.freeze(this);
    }
    static [FROM_NATIVE](verifier) {
      if (!(verifier instanceof WebhookVerifier)) {
        throw new TypeError(`expected an ipnkit WebhookVerifier, not ${describe(verifier)}`);
      }
      return verifier.#native;
    }
  }

  /**
   * What the verifier concluded: `kind` is `verified`, `invalid` (with the `reason`:
   * `signature_mismatch`, `cert_url_host`…) or `unexpected` (the certificate could not be had:
   * verify again later). Made only by `Webhook.verify`.
   */
  class WebhookVerdict {
    #inputs;
    constructor(token, inputs) {
      if (token !== TOKEN) throw new TypeError('a WebhookVerdict comes from webhook.verify(verifier, answer)');
      this.#inputs = inputs;
      const { kind, reason } = check(native.webhookVerify(...inputs));
      this.kind = kind;
      this.reason = reason ?? null;
      Object.freeze(this);
    }
    /** PayPal signed these bytes, for this webhook, with its certificate for this environment. */
    get isVerified() { return this.kind === 'verified'; }
    static [FROM_NATIVE](verdict) {
      if (!(typeof verdict === 'object' && verdict !== null && #inputs in verdict)) {
        throw new TypeError('the verdict must come from webhook.verify(verifier, answer)');
      }
      return verdict.#inputs;
    }
  }

  /** A received webhook: the raw body and PayPal's five headers (`ipnkit.receiveWebhook`). */
  class Webhook {
    #body;
    #headers;
    #event;
    constructor(token, body, headers) {
      if (token !== TOKEN) throw new TypeError('a Webhook comes from ipnkit.receiveWebhook(body, headers)');
      this.#body = body;
      this.#headers = headers;
      Object.freeze(this);
    }
    /** The body exactly as received (a copy). */
    get body() { return copy(this.#body); }
    /** What to fetch (`{url, cacheKey}`), or `null` when the certificate URL is not PayPal's:
     * `verify()` then says why, and nothing is fetched. */
    certificateRequest(verifier) {
      const r = check(native.webhookCertificateRequest(WebhookVerifier[FROM_NATIVE](verifier), this.#body, this.#headers));
      return r.refused === undefined ? Object.freeze({ url: r.url, cacheKey: r.cache_key }) : null;
    }
    /** The verdict, given what the certificate URL answered (`{status, body}`, the body as
     * bytes; `null`: no answer at all), at `now` (Unix seconds; default the current time). */
    verify(verifier, answer, { now } = {}) {
      const v = WebhookVerifier[FROM_NATIVE](verifier);
      const when = now === undefined ? Math.floor(Date.now() / 1000) : now;
      if (!Number.isInteger(when)) throw new TypeError('now is whole Unix seconds');
      if (answer === null) return new WebhookVerdict(TOKEN, [v, this.#body, this.#headers, null, EMPTY, when]);
      if (typeof answer !== 'object' || answer === undefined || !Number.isInteger(answer.status)) {
        throw new TypeError("the certificate URL's answer is {status, body} (null when there was none)");
      }
      const served = copy(bytes(answer.body, "the certificate URL's answer (its body)"));
      return new WebhookVerdict(TOKEN, [v, this.#body, this.#headers, answer.status, served, when]);
    }
    /** The key to store once this webhook is acted on (IPN's, where both channels tell of the
     * same state); throws when the body is not an event. */
    get deliveryKey() { return check(native.webhookDeliveryKey(this.#body))[0]; }
    /** The key under which earlier deliveries of the same thing are stored, by either channel. */
    get lookupId() { return check(native.webhookDeliveryKey(this.#body))[1]; }
    /** The string PayPal signs for this webhook with `webhookId`:
     * `transmission_id|transmission_time|webhook_id|crc32(body)`, the CRC unsigned. */
    signedString(webhookId) {
      if (typeof webhookId !== 'string') throw new TypeError(`the webhook id must be a string, not ${describe(webhookId)}`);
      return check(native.webhookSignedString(this.#body, this.#headers, webhookId));
    }
    /** The typed event, the core's canonical JSON (`event` in IPN's vocabulary); throws the
     * error when the body is not one (`invalid_json`, `duplicate_key`, `invalid_field`). */
    get event() {
      return check(native.webhookEvent(this.#body));
    }
    static [FROM_NATIVE](webhook) {
      if (!(webhook instanceof Webhook)) {
        throw new TypeError(`expected an ipnkit Webhook (from ipnkit.receiveWebhook), not ${describe(webhook)}`);
      }
      return [webhook.#body, webhook.#headers];
    }
  }

  // ---- one call: the host's HTTP with fetch, the core's decision --------------------------

  /** The most of an answer read: PayPal's answers are a word or a certificate of 3 KiB. */
  const ANSWER_CAP = 64 * 1024;

  /**
   * One HTTP exchange with the listener's discipline: no redirect followed (a 3xx is an answer
   * the core reads as not PayPal's), a deadline, the answer read to `ANSWER_CAP` bytes. `null`
   * when there is no whole answer (a timeout, a refused connection, an answer over the cap):
   * the core makes that a retry, never a verdict.
   */
  async function exchange(fetchFn, url, init, timeoutMs) {
    let response;
    try {
      response = await fetchFn(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch {
      return null;
    }
    try {
      const reader = response.body?.getReader();
      const chunks = [];
      let size = 0;
      if (reader !== undefined) {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          size += value.byteLength;
          if (size > ANSWER_CAP) {
            await reader.cancel();
            return null;
          }
          chunks.push(value);
        }
      }
      const body = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) { body.set(c, at); at += c.byteLength; }
      return { status: response.status, body };
    } catch {
      return null;
    }
  }

  function fetchOf(options) {
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('no fetch: pass options.fetch (Node 18+ and workers have one)');
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs is a whole number of milliseconds');
    return [f, timeoutMs];
  }

  // ---- the API ---------------------------------------------------------------------------

  /** The message's body and the configuration it was parsed with. */
  function messageOf(message) {
    if (!(message instanceof Message)) {
      throw new TypeError(`expected an ipnkit Message (from ipnkit.parse), not ${describe(message)}`);
    }
    return message;
  }

  function storedKeys(keys) {
    if (!Array.isArray(keys)) {
      throw new TypeError(`the stored delivery keys must be an array of strings (oldest first), not ${describe(keys)}`);
    }
    const wrong = keys.findIndex((k) => typeof k !== 'string');
    if (wrong !== -1) {
      throw new TypeError(`the stored delivery keys must be strings: storedKeys[${wrong}] is ${describe(keys[wrong])}`);
    }
    return keys;
  }

  function delivery(data) {
    return Object.freeze({ kind: data.kind, from: data.from ?? null, to: data.to ?? null });
  }

  /** The core's decision, field for field in camelCase: one shape per `action` (and `why`). */
  function decision(d) {
    const about = () => ({ event: d.event, family: d.family, deliveryKey: d.delivery_key, lookupId: d.lookup_id });
    const shape = {
      act: () => ({ action: 'act', ...about(), delivery: delivery(d.delivery), amount: d.amount }),
      skip: () => ({ action: 'skip', ...about(), delivery: delivery(d.delivery) }),
      retry: () => ({ action: 'retry', reason: d.reason }),
      refuse: () => refusal[d.why]?.(),
    };
    const refusal = {
      not_verified: () => ({ action: 'refuse', why: 'not_verified' }),
      unreadable: () => ({ action: 'refuse', why: 'unreadable', error: thrown(d.error) }),
      rules: () => ({
        action: 'refuse',
        why: 'rules',
        ...about(),
        violations: Object.freeze(
          d.violations.map((v) => Object.freeze({ code: v.code, field: v.field ?? null, detail: v.detail ?? null })),
        ),
        ours: d.ours,
      }),
    };
    const converted = shape[d.action]?.();
    if (converted === undefined) {
      throw new Error(`ipnkit: a decision this package does not know (${d.action}, ${d.why}): its JavaScript and native parts are from different versions`);
    }
    return Object.freeze(converted);
  }

  const api = {
    ...errorClasses,
    Money,
    PayPalDate,
    Message,
    Config,
    Expected,
    Verdict,
    WebhookVerifier,
    WebhookVerdict,
    Webhook,

    /**
     * One call for an IPN: posts the body back to PayPal with `fetch` (the configured
     * environment's endpoint; no redirect followed, `timeoutMs` (default 30 s), the answer read
     * to 64 KiB) and returns the core's decision. No answer, or an unreadable one, is a `retry`
     * decision, never a verdict. `options.fetch` replaces the global `fetch` (tests, proxies).
     */
    async handleIpn(body, options = {}) {
      const { config, expected, storedKeys: stored } = options;
      if (expected === undefined) {
        throw new TypeError('handleIpn needs `expected`: the order you expect, Expected.anyAmount() or Expected.noOrder()');
      }
      const [fetchFn, timeoutMs] = fetchOf(options);
      const raw = copy(bytes(body));
      const nativeConfig = toConfig(config);
      const r = request(raw, nativeConfig);
      const answer = await exchange(fetchFn, r.url, { method: r.method, headers: r.headers, body: r.body }, timeoutMs);
      const [status, answerBody] = answer === null ? [null, EMPTY] : [answer.status, answer.body];
      return decision(check(native.decide(raw, status, answerBody, nativeConfig, Expected[FROM_NATIVE](expected), storedKeys(stored ?? []))));
    },

    /**
     * One call for a webhook: reads it, takes PayPal's certificate from `options.certificates`
     * (a `Map`-like cache by cache key: give one that lives across calls) or fetches it with
     * `fetch` from a URL the core judged PayPal's (no redirect, `timeoutMs`, 64 KiB), verifies
     * offline at `options.now` (default the current time) and returns the core's decision. A
     * certificate that cannot be had is a `retry` decision. Throws a `HeaderError` for a
     * missing, repeated or malformed PayPal header.
     */
    async handleWebhook(body, headers, options = {}) {
      const { config, verifier, expected, storedKeys: stored, certificates = new Map(), now } = options;
      if (expected === undefined) {
        throw new TypeError('handleWebhook needs `expected`: the order you expect, Expected.anyAmount() or Expected.noOrder()');
      }
      const [fetchFn, timeoutMs] = fetchOf(options);
      const webhook = api.receiveWebhook(body, headers);
      const wanted = webhook.certificateRequest(verifier);
      let answer = null;
      if (wanted !== null) {
        answer = certificates.get(wanted.cacheKey) ?? null;
        if (answer === null) {
          answer = await exchange(fetchFn, wanted.url, { method: 'GET' }, timeoutMs);
          if (answer !== null && answer.status === 200) certificates.set(wanted.cacheKey, answer);
        }
      }
      const verdict = webhook.verify(verifier, answer, now === undefined ? {} : { now });
      return api.decideWebhook(webhook, verdict, { config, expected, storedKeys: stored });
    },

    /** Reads a webhook: the raw body (never a parsed JSON) and the request's headers. Throws a
     * `HeaderError` when one of PayPal's five headers is missing, repeated or malformed. */
    receiveWebhook(body, headers) {
      const raw = keep(webhookBody(body));
      const list = headerList(headers);
      const error = native.webhookCheck(raw, list);
      if (error !== null) throw thrown(error);
      return new Webhook(TOKEN, raw, list);
    },

    /** The decision on a webhook: the same shapes as `decide`'s, with delivery keys shared with
     * IPN (the second telling of a payment, by either channel, is a duplicate). */
    decideWebhook(webhook, verdict, { config, expected, storedKeys: stored } = {}) {
      if (expected === undefined) {
        throw new TypeError('decideWebhook needs `expected`: the order you expect, Expected.anyAmount() or Expected.noOrder()');
      }
      const [body, headers] = Webhook[FROM_NATIVE](webhook);
      const [verifier, verdictBody, , status, served, now] = WebhookVerdict[FROM_NATIVE](verdict);
      if (verdictBody !== body) throw new TypeError('the verdict is not this webhook\'s');
      return decision(check(native.webhookDecide(
        verifier, body, headers, status, served, now, toConfig(config), Expected[FROM_NATIVE](expected), storedKeys(stored ?? []))));
    },

    /** Parses the raw bytes PayPal POSTed (within `options.config`'s limits, else the defaults). */
    parse(body, options = {}) {
      const config = options.config === undefined ? undefined : toConfig(options.config);
      // The message keeps its own copy of the bytes: it does not change when the caller reuses
      // the buffer.
      const raw = bytes(body);
      return new Message(TOKEN, check(native.parse(raw, config)), keep(raw), config);
    },

    /** `cmd=_notify-validate&` followed by the body, byte for byte (whether or not it decodes). */
    postback(body) {
      return check(native.postback(bytes(body)));
    },

    /** The verification request for `config`'s environment, ready for `fetch(req.url, req)`. */
    verificationRequest(body, config) {
      return request(bytes(body), toConfig(config));
    },

    /** PayPal's answer, from the HTTP status and the response body as they came. */
    verdict(status, body) {
      if (!Number.isInteger(status) || status < 0 || status > 65535) {
        throw new TypeError('the status must be the HTTP status code, an integer');
      }
      if (typeof body === 'string') {
        throw new TypeError(
          "verdict(status, body) takes PayPal's answer to the postback as bytes, not a string " +
            '(and not the IPN body): new Uint8Array(await response.arrayBuffer())');
      }
      return new Verdict(TOKEN, status, copy(bytes(body, "PayPal's answer (verdict's body)")));
    },

    /**
     * What to do, in one call, as one shape per `action`: `act` (do it and store `deliveryKey`
     * in the same transaction; ship only when `amount` is `matched`), `skip` (done already:
     * `delivery` says why), `retry` (keep the body and post back later: `reason`), `refuse`
     * (`why`: `not_verified`, `unreadable` with the `error`, or `rules` with the `violations`
     * and whether the message is `ours`).
     */
    decide(message, verdict, { config, expected, storedKeys: stored } = {}) {
      if (expected === undefined) {
        throw new TypeError('decide needs `expected`: the order you expect, Expected.anyAmount() or Expected.noOrder()');
      }
      const m = messageOf(message);
      const [status, answer] = Verdict[FROM_NATIVE](verdict);
      return decision(
        check(native.decide(rawOf(m), status, answer, toConfig(config), Expected[FROM_NATIVE](expected), storedKeys(stored ?? []))),
      );
    },

    /** Classifies a delivery against the keys stored under `message.lookupId`, oldest first. */
    classify(message, stored) {
      const m = messageOf(message);
      return delivery(check(native.classify(rawOf(m), m[CONFIG], storedKeys(stored))));
    },

    /** Every event with its meaning. "Paid" is `payment_completed` *and* `capture_completed`. */
    EVENTS: Object.freeze(Object.fromEntries(SCHEMA.events.map((e) => [e.code, e.meaning]))),
    /** Every modelled variable, in the core's order. */
    MODELLED_VARIABLES: Object.freeze(SCHEMA.variables.map((v) => v.name)),
    /** Every error code. */
    ERROR_CODES: Object.freeze(SCHEMA.errors.flatMap((e) => e.codes)),

    /** Which build runs this API: `native` (the addon for this platform) or `wasm`. */
    build,

    /** What this API is generated from: variables, vocabularies, groups, events, errors. */
    schema() {
      return native.schema();
    },
  };
  return Object.freeze(api);
}

module.exports = { createApi };
