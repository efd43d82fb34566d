// An IPN listener for Cloudflare Workers (and workerd): the raw body is kept in a Durable
// Object's SQLite storage before the 200; the object then posts it back to PayPal with fetch
// (at once, in the background), lets ipnkit decide (verified, paid to this shop, right
// environment, final status, amount, not acted on before), claims the delivery key once and
// records the event in an outbox table, in one transaction. An answer that is not a verdict (a
// timeout, a 503, an HTML page, a redirect) is kept, and the object's alarm retries it with
// backoff.
//
// PayPal's REST webhooks arrive on `POST /webhook`: the raw body and PayPal's five headers are
// kept in the same storage before the 200; the object then takes PayPal's certificate from its
// storage (fetched once per cache key, only from a URL ipnkit judged PayPal's), verifies the
// signature offline, and decides on the same delivery keys as IPN: a payment told by both
// channels is acted on once.
//
// Bindings (wrangler.toml or a workerd config): `INBOX`, a Durable Object namespace of class
// `Inbox` with SQLite storage; variables `PAYPAL_ENV` (`live` or `sandbox`), `RECEIVER_EMAIL`,
// optionally `WEBHOOK_ID` (your webhook's id: without it, webhooks are refused with 404),
// `POSTBACK_TIMEOUT_MS` (default 10 s), and for tests only `VERIFY_URL` (a local stand-in such as
// `ipnkit sandbox`), `WEBHOOK_CA` and `WEBHOOK_CERT_BASE` (the stand-in's webhook authority and
// its URL) and `TEST_REPORT = "on"` (serves `GET /report`).
import { DurableObject } from 'cloudflare:workers';
import wasm from 'ipnkit-wasm/ipnkit.wasm';
import {
  initSync, Config, Expected, IpnError, decide, decideWebhook, parse, receiveWebhook, verdict, Verdict,
  verificationRequest, WebhookVerifier,
} from 'ipnkit-wasm/web';

initSync({ module: wasm });

/** Tries of one postback whose connection is closed under it. */
const TRIES = 3;
const MAX_ANSWER_BYTES = 64 * 1024;
const backoffMs = (attempts) => Math.min(200 * 2 ** (attempts - 1), 300_000);

export default {
  /** `POST /ipn` keeps the body and answers 200; `GET /report` shows the store (tests only). */
  async fetch(request, env) {
    const inbox = env.INBOX.get(env.INBOX.idFromName('ipn'));
    const { pathname } = new URL(request.url);
    if (pathname === '/ipn' && request.method === 'POST') {
      const body = await request.arrayBuffer(); // the bytes as PayPal sent them
      if (body.byteLength === 0) return new Response('expected a form body\n', { status: 400 });
      return inbox.fetch('https://inbox/receive', { method: 'POST', body });
    }
    if (pathname === '/webhook' && request.method === 'POST' && env.WEBHOOK_ID) {
      const body = await request.arrayBuffer(); // the bytes PayPal signed: never request.json()
      const headers = [...request.headers].filter(([name]) => name.startsWith('paypal-'));
      return inbox.fetch('https://inbox/webhook', { method: 'POST', body, headers });
    }
    // The store's contents are buyers' personal data: shown only where a test asks for them.
    if (pathname === '/report' && request.method === 'GET' && env.TEST_REPORT === 'on') {
      return inbox.fetch('https://inbox/report');
    }
    return new Response('not found\n', { status: 404 });
  },
};

export class Inbox extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.timeoutMs = Number(env.POSTBACK_TIMEOUT_MS ?? 10_000);
    this.config = new Config({
      environment: env.PAYPAL_ENV,
      receiver_emails: [env.RECEIVER_EMAIL],
      ...(env.VERIFY_URL ? { verify_url_for_testing: env.VERIFY_URL } : {}),
    });
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL,
        state TEXT NOT NULL DEFAULT 'received', detail TEXT, delivery_key TEXT,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL DEFAULT 0,
        settled INTEGER);
      CREATE TABLE IF NOT EXISTS deliveries (
        key TEXT PRIMARY KEY, lookup_id TEXT NOT NULL, message_id INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS deliveries_by_lookup ON deliveries (lookup_id);
      CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, delivery_key TEXT NOT NULL UNIQUE, event TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS webhooks (
        id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL, headers TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'received', detail TEXT, delivery_key TEXT,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS webhook_deliveries (
        key TEXT PRIMARY KEY, lookup_id TEXT NOT NULL, webhook_id INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS webhook_deliveries_by_lookup ON webhook_deliveries (lookup_id);
      CREATE TABLE IF NOT EXISTS certificates (
        cache_key TEXT PRIMARY KEY, status INTEGER NOT NULL, body BLOB NOT NULL);`);
    this.verifier = env.WEBHOOK_ID
      ? new WebhookVerifier(this.config, env.WEBHOOK_ID, {
        ...(env.WEBHOOK_CA ? { trustAnchors: new TextEncoder().encode(env.WEBHOOK_CA) } : {}),
        ...(env.WEBHOOK_CERT_BASE ? { certificateBaseForTesting: env.WEBHOOK_CERT_BASE } : {}),
      })
      : null;
  }

  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === '/webhook') {
      const body = new Uint8Array(await request.arrayBuffer());
      const headers = [...request.headers];
      try {
        receiveWebhook(body, headers); // PayPal's five headers, each once: else not PayPal's
      } catch (e) {
        if (e instanceof IpnError) return new Response(`${e.code}\n`, { status: 400 });
        throw e;
      }
      const { id } = this.sql
        .exec('INSERT INTO webhooks (body, headers) VALUES (?, ?) RETURNING id', body, JSON.stringify(headers))
        .one();
      const current = await this.ctx.storage.getAlarm();
      const safety = Date.now() + 30_000;
      if (current === null || current > safety) await this.ctx.storage.setAlarm(safety);
      this.startWebhook(id, body, headers, 0);
      return new Response(null, { status: 200 });
    }
    if (pathname === '/receive') {
      // Written to the object's storage before the answer: PayPal will not send it again.
      const body = await request.arrayBuffer();
      const { id } = this.sql.exec('INSERT INTO messages (body) VALUES (?) RETURNING id', body).one();
      // Should the object stop before this message settles, the alarm picks it up again.
      const current = await this.ctx.storage.getAlarm();
      const safety = Date.now() + 30_000;
      if (current === null || current > safety) await this.ctx.storage.setAlarm(safety);
      this.start(id, new Uint8Array(body), 0); // the first postback at once, on its own
      return new Response(null, { status: 200 });
    }
    const messages = this.sql
      .exec('SELECT id, body, state, detail, delivery_key, attempts, settled FROM messages ORDER BY id')
      .toArray()
      .map((row) => ({ ...row, body: [...new Uint8Array(row.body)] }));
    const events = this.sql.exec('SELECT delivery_key, event FROM events ORDER BY id').toArray();
    const webhooks = this.sql
      .exec('SELECT id, state, detail, delivery_key, attempts FROM webhooks ORDER BY id').toArray();
    const { certificates } = this.sql.exec('SELECT COUNT(*) AS certificates FROM certificates').one();
    return Response.json({ messages, events, webhooks, certificates });
  }

  /** Works on one message in the background; the alarm retries it if it stays unsettled. */
  start(id, body, attempts) {
    this.busy ??= new Set();
    if (this.busy.has(id)) return;
    this.busy.add(id);
    const work = this.settle(id, body, attempts)
      .catch((e) => console.error(JSON.stringify({ problem: 'settle_failed', id, error: String(e) })))
      .finally(() => this.busy.delete(id))
      .then(() => this.rearm());
    this.ctx.waitUntil(work);
  }

  /** Works on one webhook in the background, as `start` on a message. */
  startWebhook(id, body, headers, attempts) {
    this.busyWebhooks ??= new Set();
    if (this.busyWebhooks.has(id)) return;
    this.busyWebhooks.add(id);
    const work = this.settleWebhook(id, body, headers, attempts)
      .catch((e) => console.error(JSON.stringify({ problem: 'settle_failed', webhook: id, error: String(e) })))
      .finally(() => this.busyWebhooks.delete(id))
      .then(() => this.rearm());
    this.ctx.waitUntil(work);
  }

  /** The alarm rings for the earliest retry (and, after a restart, for what was in flight). */
  async rearm() {
    const row = this.sql.exec(`SELECT MIN(next) AS next FROM (
      SELECT MIN(next_attempt) AS next FROM messages WHERE state = 'received'
      UNION ALL SELECT MIN(next_attempt) FROM webhooks WHERE state = 'received')`).one();
    if (row.next === null) return;
    const current = await this.ctx.storage.getAlarm();
    const at = Math.max(row.next, Date.now() + 50);
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /** Starts every due message that is not being worked on; postbacks run side by side. */
  async alarm() {
    const due = this.sql
      .exec("SELECT id, body, attempts FROM messages WHERE state = 'received' AND next_attempt <= ? ORDER BY id", Date.now())
      .toArray();
    for (const row of due) this.start(row.id, new Uint8Array(row.body), row.attempts);
    const webhooks = this.sql
      .exec("SELECT id, body, headers, attempts FROM webhooks WHERE state = 'received' AND next_attempt <= ? ORDER BY id", Date.now())
      .toArray();
    for (const w of webhooks) this.startWebhook(w.id, new Uint8Array(w.body), JSON.parse(w.headers), w.attempts);
    await this.rearm();
  }

  /** Settles a message; `settled` numbers the settlements in the order they happened. */
  setState(id, state, detail = null, key = null) {
    this.sql.exec(
      `UPDATE messages SET state = ?, detail = ?, delivery_key = ?,
         settled = (SELECT COALESCE(MAX(settled), 0) + 1 FROM messages) WHERE id = ?`,
      state, detail, key, id);
  }

  async settle(id, body, attempts) {
    let request;
    try {
      request = verificationRequest(body, this.config);
    } catch (e) {
      if (e instanceof IpnError) return this.setState(id, 'unreadable', e.code);
      throw e;
    }
    const answer = await postBack(request, this.timeoutMs);
    if (answer.kind === 'unexpected') {
      this.sql.exec('UPDATE messages SET attempts = ?, next_attempt = ?, detail = ? WHERE id = ?',
        attempts + 1, Date.now() + backoffMs(attempts + 1), answer.reason, id);
      return;
    }
    if (answer.kind === 'invalid') return this.setState(id, 'invalid');
    let message;
    try {
      message = parse(body, { config: this.config });
    } catch (e) {
      if (e instanceof IpnError) return this.setState(id, 'unreadable', e.code);
      throw e;
    }
    // A Durable Object runs one event at a time between awaits: from here to the end, no
    // other settlement interleaves, so the stored keys read are current.
    const storedKeys = this.storedKeys(message.lookupId);
    // A shop looks its order up here (message.invoice, message.custom) and passes
    // new Expected({ amount, currency }); this example has no orders.
    const decision = decide(message, answer, { config: this.config, expected: Expected.anyAmount(), storedKeys });
    switch (decision.action) {
      case 'act':
        this.ctx.storage.transactionSync(() => {
          this.sql.exec('INSERT INTO deliveries (key, lookup_id, message_id) VALUES (?, ?, ?)',
            decision.deliveryKey, message.lookupId, id);
          this.sql.exec('INSERT INTO events (delivery_key, event) VALUES (?, ?)', decision.deliveryKey, decision.event);
          this.setState(id, 'accepted', null, decision.deliveryKey);
        });
        return;
      case 'skip':
        return this.setState(id, decision.delivery.kind, null, decision.deliveryKey);
      case 'refuse':
        return decision.why === 'rules'
          ? this.setState(id, 'refused', decision.violations.map((v) => v.code).join(','), decision.deliveryKey)
          : this.setState(id, 'refused', decision.why, null);
      case 'retry':
        this.sql.exec('UPDATE messages SET attempts = ?, next_attempt = ? WHERE id = ?',
          attempts + 1, Date.now() + backoffMs(attempts + 1), id);
        return;
    }
  }
}

/** The keys acted on under `lookupId`, by either channel (IPN's and webhooks' are the same
 * where both tell of the same state): IPN's then webhooks', each oldest first. The order counts
 * only between states of the same rank (ipnkit judges staleness by each state's place in its
 * order), which one transaction's two channels tell alike. */
Inbox.prototype.storedKeys = function storedKeys(lookupId) {
  return this.sql
    .exec(`SELECT key FROM (
      SELECT key, 0 AS channel, rowid AS n FROM deliveries WHERE lookup_id = ?
      UNION ALL SELECT key, 1, rowid FROM webhook_deliveries WHERE lookup_id = ?) ORDER BY channel, n`,
    lookupId, lookupId)
    .toArray()
    .map((row) => row.key);
};

/** The certificate a webhook names, from storage or fetched once per cache key. */
Inbox.prototype.certificate = async function certificate(request, timeoutMs) {
  const kept = this.sql.exec('SELECT status, body FROM certificates WHERE cache_key = ?', request.cacheKey).toArray()[0];
  if (kept !== undefined) return { status: kept.status, body: new Uint8Array(kept.body) };
  let answer = null;
  try {
    const response = await fetch(request.url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const body = new Uint8Array(await response.arrayBuffer());
    answer = body.byteLength > MAX_ANSWER_BYTES ? null : { status: response.status, body };
  } catch {
    answer = null; // no answer: retried later, never a verdict
  }
  if (answer !== null && answer.status === 200) {
    this.sql.exec('INSERT OR REPLACE INTO certificates (cache_key, status, body) VALUES (?, ?, ?)',
      request.cacheKey, answer.status, answer.body);
  }
  return answer;
};

/** Verifies and settles a webhook: the certificate (the only await), then, with no other event
 * interleaving, the keys stored by either channel, the decision and its effects. */
Inbox.prototype.settleWebhook = async function settleWebhook(id, body, headers, attempts) {
  const webhook = receiveWebhook(body, headers);
  const request = webhook.certificateRequest(this.verifier);
  const answer = request === null ? null : await this.certificate(request, this.timeoutMs);
  const verdict = webhook.verify(this.verifier, answer);
  let storedKeys = [];
  try {
    storedKeys = this.storedKeys(webhook.lookupId);
  } catch (e) {
    if (!(e instanceof IpnError)) throw e; // not an event: decideWebhook refuses it as unreadable
  }
  const decision = decideWebhook(webhook, verdict, { config: this.config, expected: Expected.anyAmount(), storedKeys });
  const set = (state, detail = null, key = null) =>
    this.sql.exec('UPDATE webhooks SET state = ?, detail = ?, delivery_key = ? WHERE id = ?', state, detail, key, id);
  switch (decision.action) {
    case 'act':
      this.ctx.storage.transactionSync(() => {
        this.sql.exec('INSERT INTO webhook_deliveries (key, lookup_id, webhook_id) VALUES (?, ?, ?)',
          decision.deliveryKey, decision.lookupId, id);
        this.sql.exec('INSERT INTO events (delivery_key, event) VALUES (?, ?)', decision.deliveryKey, decision.event);
        set('accepted', null, decision.deliveryKey);
      });
      return;
    case 'skip':
      return set(decision.delivery.kind, null, decision.deliveryKey);
    case 'refuse':
      return decision.why === 'rules'
        ? set('refused', decision.violations.map((v) => v.code).join(','), decision.deliveryKey)
        : set('refused', decision.why === 'not_verified' ? verdict.reason : decision.why);
    case 'retry':
      this.sql.exec('UPDATE webhooks SET attempts = ?, next_attempt = ?, detail = ? WHERE id = ?',
        attempts + 1, Date.now() + backoffMs(attempts + 1), decision.reason, id);
      return;
  }
};

/**
 * The postback with fetch: no redirect followed, one deadline, the answer read to 64 KiB. A
 * postback whose connection is closed under it (a kept-alive one PayPal had closed) has no
 * answer and is sent again at once, at most `TRIES` times in all within the deadline.
 */
async function postBack(request, timeoutMs) {
  const signal = AbortSignal.timeout(timeoutMs);
  for (let tries = 1; ; tries += 1) {
    let status;
    let bytes;
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal,
      });
      status = response.status;
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch {
      // Refused, closed, reset, timed out: never PayPal's verdict. Again at once, unless the
      // deadline has passed or this was the last try: then kept and retried later.
      if (signal.aborted || tries === TRIES) return Verdict.noAnswer();
      continue;
    }
    return verdict(status, bytes.subarray(0, MAX_ANSWER_BYTES + 1));
  }
}
