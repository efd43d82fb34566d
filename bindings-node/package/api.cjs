'use strict';
// The ipnkit JavaScript API over a native module: the Node addon (`ipnkit.node`), or another
// build of the same native interface. Conversion only: every rule, verdict, error kind and
// configuration check is the Rust core's; this file turns its answers into JavaScript idioms.
// Classes, error kinds, variables and events come from the core's schema at load time.

/** @param {any} native */
function createApi(native) {
  const SCHEMA = native.schema();
  const { NativeError } = native;
  /** Only this module makes messages and verdicts: their constructors ask for it. */
  const TOKEN = Symbol('ipnkit.token');
  const FROM_NATIVE = Symbol('ipnkit.native');
  const CACHE = Symbol('ipnkit.cache');
  const SUMMARY = Symbol('ipnkit.summary');

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
    if (Array.isArray(value)) return 'an array';
    if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
    return `a ${typeof value}`;
  }

  function bytes(body) {
    if (body instanceof Uint8Array) return body;
    if (body instanceof ArrayBuffer) return new Uint8Array(body);
    if (typeof body === 'string') throw new TypeError(STRING_BODY);
    if (ArrayBuffer.isView(body)) {
      return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    }
    throw new TypeError(`the raw IPN body must be a Uint8Array (a Buffer is one), not ${describe(body)}`);
  }

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
    [Symbol.toPrimitive](hint) {
      if (hint === 'number') {
        throw new TypeError(
          'ipnkit Money is exact and is not a number: compare money.amount (a decimal string) ' +
            'with a decimal library, and money.currency');
      }
      return this.toString();
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

  /**
   * A parsed IPN message. PayPal's variables are properties under PayPal's names
   * (`message.mc_gross`, `message.payment_status`), `undefined` when absent; each is converted
   * when first read and kept.
   */
  class Message {
    constructor(token, notification) {
      if (token !== TOKEN) throw new TypeError('a Message comes from ipnkit.parse(body)');
      this[FROM_NATIVE] = notification;
      this[CACHE] = Object.create(null);
    }

    #summary() {
      return (this[SUMMARY] ??= check(this[FROM_NATIVE].summary()));
    }

    /** What happened: a key of `EVENTS`. */
    get event() { return this.#summary().event; }
    /** The family of notification (`payment`, `cart`, `subscription`…). */
    get family() { return this.#summary().family; }
    /** The key to store once this notification is acted on. */
    get deliveryKey() { return this.#summary().delivery_key; }
    /** The key under which this notification's earlier deliveries are stored. */
    get lookupId() { return this.#summary().lookup_id; }
    /** Things worth knowing that are not errors: `[{code, field}]`. */
    get notices() { return this.#summary().notices.map((n) => Object.freeze({ code: n.code, field: n.field })); }
    /** The body as received, byte for byte. */
    get raw() { return this[FROM_NATIVE].raw; }
    /** Variables ipnkit does not model (and modelled ones not of their type): `[[name, value]]`. */
    get extra() { return check(this[FROM_NATIVE].extra()); }
    /** Every variable as received (decoded), in order: `[[name, value]]`. */
    get variables() { return check(this[FROM_NATIVE].variables()); }

    /** The canonical JSON shape: `JSON.stringify(message)` is ipnkit's canonical JSON. */
    toJSON() {
      return JSON.parse(check(this[FROM_NATIVE].toJson()));
    }
    /** `cmd=_notify-validate&` followed by the body, byte for byte. */
    postback() {
      return this[FROM_NATIVE].postback();
    }
    /** The postback request for the configured environment, ready for `fetch(req.url, req)`. */
    verificationRequest(config) {
      return request(this[FROM_NATIVE], toConfig(config));
    }
    get [Symbol.toStringTag]() {
      return 'ipnkit.Message';
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
        if (name in cache) return cache[name];
        return (cache[name] = read(this[FROM_NATIVE]));
      },
    });
  }
  for (const { name, kind } of SCHEMA.variables) {
    define(name, (n) => convert(kind, check(n.get(name))));
  }
  for (const [name, members] of GROUPS) {
    define(name, (n) => Object.freeze(check(n.group(name)).map((data) => record(members, data))));
  }
  define('fraud_filters', (n) => Object.freeze(check(n.group('fraud_filters'))));

  // ---- configuration and expectations ----------------------------------------------------

  /**
   * Your configuration, checked by the core once: `environment` (`live` or `sandbox`),
   * `receiver_emails`, `receiver_ids`, `final_statuses` (PayPal's words), `limits`, and for
   * tests `verify_url_for_testing`. The keys are the core's, the same in every ipnkit binding.
   */
  class Config {
    #native;
    constructor(data) {
      this.#native = plainData('the configuration', native.config, data);
      Object.freeze(this);
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
   * The order you expect a notification to pay: `{amount: "24.90", currency: "EUR"}` (the
   * amount a decimal string, compared exactly; a number is refused), or `Expected.noAmount()`.
   */
  class Expected {
    #native;
    constructor(data) {
      this.#native = plainData('the expected order', native.expected, data);
      Object.freeze(this);
    }
    /** No amount is expected (say so explicitly; optionally the currency). */
    static noAmount(currency) {
      return new Expected(currency === undefined ? { no_amount: true } : { no_amount: true, currency });
    }
    static [FROM_NATIVE](expected) {
      return expected instanceof Expected ? expected.#native : new Expected(expected).#native;
    }
  }

  // ---- verification ----------------------------------------------------------------------

  function request(notification, nativeConfig) {
    const r = notification.verificationRequest(nativeConfig);
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
    #native;
    constructor(token, nativeVerdict) {
      if (token !== TOKEN) {
        throw new TypeError('a Verdict comes from ipnkit.verdict(status, body) or Verdict.noAnswer()');
      }
      this.#native = nativeVerdict;
      const { kind, reason } = nativeVerdict.meaning();
      this.kind = kind;
      this.reason = reason ?? null;
      Object.freeze(this);
    }
    /** The postback got no HTTP answer at all (a timeout, a refused connection). */
    static noAnswer() {
      return new Verdict(TOKEN, native.noAnswer());
    }
    static [FROM_NATIVE](verdict) {
      if (!(typeof verdict === 'object' && verdict !== null && #native in verdict)) {
        throw new TypeError('the verdict must come from ipnkit.verdict(status, body) or Verdict.noAnswer()');
      }
      return verdict.#native;
    }
  }

  // ---- the API ---------------------------------------------------------------------------

  /** Receives a body within a checked configuration's limits (the defaults without one). */
  function receive(body, nativeConfig) {
    return check(native.receive(bytes(body), nativeConfig));
  }

  function messageOf(message) {
    if (!(message instanceof Message)) {
      throw new TypeError(`expected an ipnkit Message (from ipnkit.parse), not ${describe(message)}`);
    }
    return message[FROM_NATIVE];
  }

  function storedKeys(keys) {
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
      throw new TypeError('the stored delivery keys must be an array of strings (oldest first), never a single string');
    }
    return keys;
  }

  function delivery(data) {
    return Object.freeze({ kind: data.kind, from: data.from ?? null, to: data.to ?? null });
  }

  const api = {
    ...errorClasses,
    Money,
    PayPalDate,
    Message,
    Config,
    Expected,
    Verdict,

    /** Parses the raw bytes PayPal POSTed (within `options.config`'s limits, else the defaults). */
    parse(body, options = {}) {
      const notification = receive(body, options.config === undefined ? undefined : toConfig(options.config));
      const error = notification.error;
      if (error !== null && error !== undefined) throw thrown(error);
      return new Message(TOKEN, notification);
    },

    /** `cmd=_notify-validate&` followed by the body, byte for byte (whether or not it decodes). */
    postback(body) {
      return receive(body).postback();
    },

    /** The verification request for `config`'s environment, ready for `fetch(req.url, req)`. */
    verificationRequest(body, config) {
      const nativeConfig = toConfig(config);
      return request(receive(body, nativeConfig), nativeConfig);
    },

    /** PayPal's answer, from the HTTP status and the response body as they came. */
    verdict(status, body) {
      if (!Number.isInteger(status) || status < 0 || status > 65535) {
        throw new TypeError('the status must be the HTTP status code, an integer');
      }
      return new Verdict(TOKEN, native.verdict(status, bytes(body)));
    },

    /**
     * Everything to decide on, in one call: `action` (`act`: do it and store `deliveryKey` in
     * the same transaction; `skip`: done already; `retry`: keep the body and post back later;
     * `refuse`: keep it, log the violations, do not act), the verdict, the event, the broken
     * rules, the delivery against your stored keys.
     */
    decide(message, verdict, { config, expected, storedKeys: stored } = {}) {
      if (expected === undefined) {
        throw new TypeError('decide needs `expected`: the order you expect, or Expected.noAmount()');
      }
      const d = check(
        messageOf(message).decide(
          Verdict[FROM_NATIVE](verdict),
          toConfig(config),
          Expected[FROM_NATIVE](expected),
          storedKeys(stored ?? []),
        ),
      );
      return Object.freeze({
        action: d.action,
        verdict: Object.freeze({ kind: d.verdict.kind, reason: d.verdict.reason ?? null }),
        event: d.event ?? null,
        family: d.family ?? null,
        violations: Object.freeze(
          d.violations.map((v) => Object.freeze({ code: v.code, field: v.field ?? null, detail: v.detail ?? null })),
        ),
        error: d.error ? thrown(d.error) : null,
        deliveryKey: d.delivery_key ?? null,
        lookupId: d.lookup_id ?? null,
        delivery: d.delivery ? delivery(d.delivery) : null,
      });
    },

    /** Classifies a delivery against the keys stored under `message.lookupId`, oldest first. */
    classify(message, stored) {
      return delivery(check(messageOf(message).classify(storedKeys(stored))));
    },

    /** Every event with its meaning. "Paid" is `payment_completed` *and* `capture_completed`. */
    EVENTS: Object.freeze(Object.fromEntries(SCHEMA.events.map((e) => [e.code, e.meaning]))),
    /** Every modelled variable, in the core's order. */
    MODELLED_VARIABLES: Object.freeze(SCHEMA.variables.map((v) => v.name)),
    /** Every error code. */
    ERROR_CODES: Object.freeze(SCHEMA.errors.flatMap((e) => e.codes)),

    /** What this API is generated from: variables, vocabularies, groups, events, errors. */
    schema() {
      return native.schema();
    },
  };
  return Object.freeze(api);
}

module.exports = { createApi };
