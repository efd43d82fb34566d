// @ts-check
// The work after the 200: post each stored body back to PayPal with fetch, read the verdict,
// let ipnkit decide (verified, paid to this shop, right environment, final status, amount and
// currency, not acted on before), claim the delivery key once, act. A postback that gets no
// real answer (a timeout, a 503, an HTML page, a redirect) is kept and retried with backoff,
// never dropped and never taken as INVALID. Postbacks run side by side, so one that hangs
// delays nothing else.
import { Expected, IpnError, decide, parse, verdict, Verdict, verificationRequest } from 'ipnkit';

/**
 * @typedef {import('ipnkit').Config} Config
 * @typedef {import('ipnkit').Message} Message
 * @typedef {import('ipnkit').Decision} Decision
 * @typedef {import('./store.mjs').FileStore} FileStore
 * @typedef {import('./store.mjs').Due} Due
 *
 * @typedef {object} WorkerOptions
 * @property {Config} config                       your configuration (environment, receivers…)
 * @property {(message: Message) => Promise<import('ipnkit').Expected> | import('ipnkit').Expected} [expected]
 *   the order the message should pay: look it up by `message.invoice` or `message.custom`
 *   and return `new Expected({ amount, currency })`, or `Expected.noOrder()` when none matches;
 *   without an order book (donations), `Expected.anyAmount()`
 * @property {(message: Message, decision: import('ipnkit').Act) => Promise<void> | void} onEvent
 *   acts on an accepted notification; after a crash it can run again for the same
 *   `decision.deliveryKey`, so make it idempotent on that key
 * @property {(line: Record<string, unknown>) => void} [log]   where problems are reported
 * @property {number} [timeoutMs]                  how long a postback may take (default 30 s)
 * @property {number} [concurrency]                postbacks in flight at once (default 8)
 */

/** The longest PayPal answer read: a verdict is a word; anything longer is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The delay before retry number `attempts` (counting from 1): 0.2 s doubling, at most 5 min. */
export const backoffMs = (/** @type {number} */ attempts) => Math.min(200 * 2 ** (attempts - 1), 300_000);

/**
 * Tries of one postback whose connection is closed under it. fetch keeps connections alive,
 * and PayPal closes idle ones on its side: a postback written on one it has just closed fails
 * (undici: "other side closed", a reset) without any answer, and is sent again at once on a
 * new connection.
 */
const TRIES = 3;

/**
 * Posts back and returns PayPal's verdict; no answer at all is `Verdict.noAnswer()`. One
 * deadline for the whole postback, tries again included.
 * @param {import('ipnkit').VerificationRequest} request @param {number} timeoutMs
 */
export async function postBack(request, timeoutMs) {
  const signal = AbortSignal.timeout(timeoutMs);
  for (let tries = 1; ; tries += 1) {
    let status;
    let answer;
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual', // a redirect is not PayPal's answer: never follow it elsewhere
        signal,
      });
      status = response.status;
      answer = await readCapped(response, MAX_ANSWER_BYTES);
    } catch {
      // fetch rejects only when there is no complete answer (refused, closed, reset, timed
      // out): never PayPal's verdict. Sent again at once unless the deadline has passed;
      // after the last try, the message is kept and retried later.
      if (signal.aborted || tries === TRIES) return Verdict.noAnswer();
      continue;
    }
    return verdict(status, answer);
  }
}

/** @param {Response} response @param {number} max */
async function readCapped(response, max) {
  if (response.body === null) return new Uint8Array(0);
  /** @type {Uint8Array[]} */
  const chunks = [];
  let total = 0;
  for await (const chunk of response.body) {
    chunks.push(chunk);
    total += chunk.byteLength;
    if (total > max) break; // enough to tell it is not a verdict
  }
  return Buffer.concat(chunks, Math.min(total, max + 1));
}

export class Worker {
  /** @param {FileStore} store @param {WorkerOptions} options */
  constructor(store, options) {
    this.store = store;
    this.options = options;
    /** Messages being worked on. @type {Set<string>} */
    this.busy = new Set();
    /** One decision at a time per lookup id: the stored keys it reads must be current. @type {Map<string, Promise<void>>} */
    this.locks = new Map();
    this.stopped = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.scanning = false;
    this.rescan = false;
  }

  /** Looks for due messages now (call after storing one) and every `intervalMs` after. */
  start(intervalMs = 100) {
    const tick = () => {
      if (this.stopped) return;
      this.wake();
      this.timer = setTimeout(tick, intervalMs);
    };
    tick();
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
  }

  /** Starts work on every due message there is room for. */
  wake() {
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = true;
    this.#scan()
      .catch((e) => this.#log({ problem: 'scan_failed', error: String(e) }))
      .finally(() => {
        this.scanning = false;
        if (this.rescan && !this.stopped) {
          this.rescan = false;
          this.wake();
        }
      });
  }

  async #scan() {
    const room = (this.options.concurrency ?? 8) - this.busy.size;
    if (room <= 0) return;
    for (const due of (await this.store.due(Date.now(), this.busy)).slice(0, room)) {
      this.busy.add(due.id);
      this.settleOne(due)
        .catch((e) => this.#log({ problem: 'settle_failed', id: due.id, error: String(e) }))
        .finally(() => {
          this.busy.delete(due.id);
          if (!this.stopped) this.wake();
        });
    }
  }

  /** @param {Record<string, unknown>} line */
  #log(line) {
    (this.options.log ?? ((l) => console.error(JSON.stringify(l))))(line);
  }

  /** Settles one message, or postpones it. @param {Due} due */
  async settleOne({ id, body, attempts }) {
    const { config } = this.options;
    const none = { key: null, lookupId: null, attempts };
    let request;
    try {
      request = verificationRequest(body, config);
    } catch (e) {
      if (!(e instanceof IpnError)) throw e;
      return this.store.settle(id, { ...none, state: 'unreadable', detail: e.code }); // kept, not posted back
    }
    const answer = await postBack(request, this.options.timeoutMs ?? 30_000);
    if (answer.kind === 'unexpected') return this.#postpone(id, attempts, answer.reason);
    if (answer.kind === 'invalid') return this.store.settle(id, { ...none, state: 'invalid', detail: null });
    let message;
    try {
      message = parse(body, { config });
    } catch (e) {
      if (!(e instanceof IpnError)) throw e;
      // Verified by PayPal, but not readable by ipnkit: kept for a person to look at.
      return this.store.settle(id, { ...none, state: 'unreadable', detail: `${e.code}:${e.field ?? ''}` });
    }
    const expected = await (this.options.expected ?? (() => Expected.anyAmount()))(message);
    await this.#exclusive(message.lookupId, () => this.#decide(id, attempts, message, answer, expected));
  }

  /**
   * @param {string} id @param {number} attempts @param {Message} message
   * @param {import('ipnkit').Verdict} answer @param {import('ipnkit').Expected} expected
   */
  async #decide(id, attempts, message, answer, expected) {
    const claims = await this.store.claims(message.lookupId);
    const record = { key: message.deliveryKey, lookupId: message.lookupId, attempts };
    const mine = claims.find((c) => c.id === id);
    if (mine === undefined) {
      const storedKeys = claims.map((c) => c.key);
      const decision = decide(message, answer, { config: this.options.config, expected, storedKeys });
      switch (decision.action) {
        case 'retry':
          return this.#postpone(id, attempts, decision.reason);
        case 'refuse': {
          const detail = decision.why === 'rules' ? decision.violations.map((v) => v.code).join(',') : decision.why;
          return this.store.settle(id, { ...record, state: 'refused', detail });
        }
        case 'skip':
          // A duplicate, or a state older than one acted on (`stale`): keep it, do not act.
          return this.store.settle(id, { ...record, state: decision.delivery.kind, detail: null });
        case 'act':
          if (!(await this.store.claim(message.lookupId, message.deliveryKey, id))) {
            return this.store.settle(id, { ...record, state: 'duplicate', detail: null });
          }
          await this.options.onEvent(message, decision);
          return this.store.settle(id, { ...record, state: 'accepted', detail: null });
      }
    }
    // This message claimed its key, then the process stopped before it settled: act again
    // (onEvent is idempotent on the key) and settle.
    const decision = decide(message, answer, { config: this.options.config, expected, storedKeys: [] });
    if (decision.action !== 'act') {
      throw new Error(`a claimed message decided ${decision.action} on its second run: the configuration changed`);
    }
    await this.options.onEvent(message, decision);
    return this.store.settle(id, { ...record, state: 'accepted', detail: null });
  }

  /** @param {string} id @param {number} attempts @param {string | null} reason */
  #postpone(id, attempts, reason) {
    const next = Date.now() + backoffMs(attempts + 1);
    return this.store.postpone(id, { attempts: attempts + 1, next, reason });
  }

  /**
   * Runs `work` after any other work on the same lookup id.
   * @param {string} lookupId @param {() => Promise<void>} work
   */
  async #exclusive(lookupId, work) {
    const before = this.locks.get(lookupId) ?? Promise.resolve();
    const mine = before.then(work);
    const settled = mine.catch(() => {});
    this.locks.set(lookupId, settled);
    try {
      await mine;
    } finally {
      if (this.locks.get(lookupId) === settled) this.locks.delete(lookupId);
    }
  }
}
