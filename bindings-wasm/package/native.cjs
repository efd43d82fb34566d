'use strict';
// Adapts the wasm module's exports (plain data, text and bytes in; text and bytes out) to the native
// interface of the Node addon, so that one JavaScript API (`api.cjs`) serves both builds.
// Conversion only: every decision is the core's, in the module.
//
// The module keeps one kind of object between calls, a configuration the core read (kept here
// beside what the core said of it); a parsed message crosses as one string.

/**
 * @param {any} wasm the module's exports (wasm-bindgen glue, any target)
 * @param {any} schema the core's schema (`schema.cjs`/`schema.mjs`, written at build time)
 * @param {((units: Uint16Array) => string) | undefined} decodeUnits how this host turns UTF-16LE
 *   code units into a string fastest (Node: `Buffer`); a `TextDecoder` when not given
 */
function createNative(wasm, schema, decodeUnits) {
  /** A core error as data: what the addon's `NativeError` holds. */
  class NativeError {
    constructor({ code, kind, field, message }) {
      this.code = code;
      this.kind = kind;
      this.field = field ?? null;
      this.message = message;
    }
  }

  /** The value of a call, or the core error it threw (a string: its JSON); a trap is rethrown. */
  function call(f) {
    try {
      return f();
    } catch (e) {
      if (typeof e === 'string') return new NativeError(JSON.parse(e));
      throw e;
    }
  }
  const parsed = (value) => (value instanceof NativeError ? value : JSON.parse(value));

  /** Plain data as the module takes it, through JSON: only null, booleans, numbers, strings,
   * arrays and objects; what has no plain-data form is refused, never dropped. */
  function plain(data) {
    const text = JSON.stringify(data === undefined ? null : data, (key, value) => {
      const type = typeof value;
      if (type === 'function' || type === 'symbol' || type === 'bigint') {
        throw new TypeError(`${key === '' ? 'the value' : JSON.stringify(key)} is a ${type}`);
      }
      return value;
    });
    return JSON.parse(text);
  }

  // Code units to a string. The flat form is well-formed UTF-16 (the core writes no lone
  // surrogate), so a UTF-16 decoder returns exactly its units; where the runtime's TextDecoder
  // has no UTF-16, `String.fromCharCode` does the same, in chunks (`apply` takes a bounded
  // number of arguments).
  const utf16 = (() => {
    try {
      return new TextDecoder('utf-16le', { fatal: true });
    } catch {
      return null;
    }
  })();
  const memory = wasm.wasm_memory();
  function fromUnits(units) {
    if (decodeUnits !== undefined) return decodeUnits(units);
    if (utf16 !== null) return utf16.decode(units);
    let text = '';
    for (let i = 0; i < units.length; i += 8192) {
      text += String.fromCharCode.apply(null, units.subarray(i, i + 8192));
    }
    return text;
  }

  /** A configuration's limits as the module takes them (`undefined`: none, the defaults). */
  const limitsOf = (config) => (config === undefined || config === null ? undefined : config.numbers);

  return {
    NativeError,
    schema: () => schema,
    config(data) {
      const native = call(() => wasm.config(plain(data)));
      if (native instanceof NativeError) return native;
      const { environment, limits } = JSON.parse(native.info());
      // What the functions that need only the limits are given back: the core's own values.
      const numbers = Uint32Array.of(limits.max_body_bytes, limits.max_fields, limits.max_key_bytes);
      return Object.freeze({ environment, limits: Object.freeze(limits), native, numbers });
    },
    checkExpected(data) {
      const error = call(() => wasm.check_expected(plain(data)));
      return error instanceof NativeError ? error : null;
    },
    verdict: (status, body) => JSON.parse(wasm.verdict(status ?? undefined, body)),
    parse(body, config) {
      const count = call(() => wasm.parse(body, limitsOf(config)));
      if (count instanceof NativeError) return count;
      // The units where the module keeps them (until its next parse): read, not copied out.
      // The view is made after the call, on the memory as it is then (a call may grow it).
      return fromUnits(new Uint16Array(memory.buffer, wasm.parsed_units(), count));
    },
    postback: (body, config) => call(() => wasm.postback(body, limitsOf(config))),
    verificationRequest(body, config) {
      const request = parsed(call(() => wasm.verification_request(body, config.native)));
      if (request instanceof NativeError) return request;
      // The body crosses one character a byte.
      return { ...request, body: Uint8Array.from(request.body, (c) => c.charCodeAt(0)) };
    },
    group: (body, config, name) => parsed(call(() => wasm.group(body, limitsOf(config), name))),
    extra: (body, config) => parsed(call(() => wasm.extra(body, limitsOf(config)))),
    variables: (body, config) => parsed(call(() => wasm.variables(body, limitsOf(config)))),
    toJson: (body, config) => call(() => wasm.to_json(body, limitsOf(config))),
    decide: (body, status, answer, config, expected, stored) =>
      parsed(call(() => wasm.decide(body, status ?? undefined, answer, config.native, plain(expected), stored))),
    classify: (body, config, stored) =>
      parsed(call(() => wasm.classify(body, limitsOf(config), stored))),
    webhookVerifier: (config, webhookId, anchors, window, base) =>
      call(() => wasm.webhook_verifier(config.native, webhookId, anchors ?? undefined, window ?? undefined, base ?? undefined)),
    webhookCheck(body, headers) {
      const error = call(() => wasm.webhook_check(body, headers));
      return error instanceof NativeError ? error : null;
    },
    webhookSignedString: (body, headers, webhookId) =>
      call(() => wasm.webhook_signed_string(body, headers, webhookId)),
    webhookCertificateRequest: (verifier, body, headers) =>
      parsed(call(() => wasm.webhook_certificate_request(verifier, body, headers))),
    webhookVerify: (verifier, body, headers, status, certificate, now) =>
      parsed(call(() => wasm.webhook_verify(verifier, body, headers, status ?? undefined, certificate, now))),
    webhookEvent: (body) => parsed(call(() => wasm.webhook_event(body))),
    webhookDeliveryKey: (body) => call(() => wasm.webhook_delivery_key(body)),
    webhookDecide: (verifier, body, headers, status, certificate, now, config, expected, stored) =>
      parsed(call(() => wasm.webhook_decide(
        verifier, body, headers, status ?? undefined, certificate, now, config.native, plain(expected), stored))),
  };
}

module.exports = { createNative };
