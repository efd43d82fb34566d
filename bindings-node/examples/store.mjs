// @ts-check
// A durable store for IPN messages in a directory: every body is on disk (written, fsynced,
// renamed, directory fsynced) before the listener answers 200, and a delivery key is claimed
// exactly once (created with O_EXCL), so a crash or a kill -9 loses nothing and acts on nothing
// twice. It needs no native package: Node 20 has no built-in SQLite, and packages that download
// prebuilt binaries cannot be assumed. One worker process per directory.
//
//   DIR/tmp/                 bodies and records being written
//   DIR/inbox/ID.body        received, not settled yet (ID sorts by arrival)
//   DIR/inbox/ID.json        its retry state: {attempts, next, reason}
//   DIR/done/ID.body         settled: the body, kept
//   DIR/done/ID.json         how it settled: {state, detail, key, lookupId, attempts, at, seq}
//   DIR/deliveries/H(lookupId)/H(key).json   a claimed delivery key: {key, id, at}
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The states a settled message ends in. */
export const SETTLED = Object.freeze(['accepted', 'duplicate', 'stale', 'refused', 'invalid', 'unreadable']);

/**
 * @typedef {{ id: string, body: Buffer, attempts: number }} Due
 * @typedef {{ attempts: number, next: number, reason: string | null }} RetryState
 * @typedef {{ state: string, detail: string | null, key: string | null, lookupId: string | null,
 *   attempts: number, at: number, seq: number }} Settlement
 * @typedef {{ key: string, id: string, at: number }} Claim
 */

const hash = (/** @type {string} */ text) => createHash('sha256').update(text).digest('hex');

/** @param {string} path */
async function syncDir(path) {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to `path` whole or not at all: a temporary file, fsynced, renamed over `path`.
 * @param {string} tmpDir @param {string} path @param {string | Uint8Array} data
 */
async function writeDurably(tmpDir, path, data) {
  const tmp = join(tmpDir, `${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

/** @param {string} path */
async function readJson(path) {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code === 'ENOENT') return null;
    throw e;
  }
}

export class FileStore {
  /** @param {string} dir */
  constructor(dir) {
    this.dir = dir;
    this.tmp = join(dir, 'tmp');
    this.inbox = join(dir, 'inbox');
    this.done = join(dir, 'done');
    this.deliveries = join(dir, 'deliveries');
    this.sequence = 0;
  }

  /** Opens (and creates) the store in `dir`. @param {string} dir */
  static async open(dir) {
    const store = new FileStore(dir);
    for (const sub of [store.tmp, store.inbox, store.done, store.deliveries]) {
      await mkdir(sub, { recursive: true });
    }
    await rm(store.tmp, { recursive: true, force: true }); // half-written leftovers of a crash
    await mkdir(store.tmp);
    return store;
  }

  /**
   * Stores a received body durably; resolves to its id once it is on disk.
   * @param {Uint8Array} body
   */
  async receive(body) {
    const id = `${Date.now().toString().padStart(15, '0')}-${process.pid}-${String(++this.sequence).padStart(9, '0')}`;
    await writeDurably(this.tmp, join(this.inbox, `${id}.body`), body);
    await syncDir(this.inbox);
    return id;
  }

  /**
   * The messages due for (another) postback at `now`, oldest first, leaving out `busy` ones.
   * @param {number} now @param {Set<string>} busy @returns {Promise<Due[]>}
   */
  async due(now, busy) {
    const ids = (await readdir(this.inbox))
      .filter((n) => n.endsWith('.body'))
      .map((n) => n.slice(0, -'.body'.length))
      .filter((id) => !busy.has(id))
      .sort();
    /** @type {Due[]} */
    const due = [];
    for (const id of ids) {
      if ((await readJson(join(this.done, `${id}.json`))) !== null) {
        await this.#moveToDone(id); // settled, then interrupted before the move
        continue;
      }
      /** @type {RetryState | null} */
      const retry = await readJson(join(this.inbox, `${id}.json`));
      if (retry !== null && retry.next > now) continue;
      due.push({ id, body: await readFile(join(this.inbox, `${id}.body`)), attempts: retry?.attempts ?? 0 });
    }
    return due;
  }

  /**
   * Keeps a message for a later postback (PayPal's answer was not an answer).
   * @param {string} id @param {RetryState} retry
   */
  async postpone(id, retry) {
    await writeDurably(this.tmp, join(this.inbox, `${id}.json`), JSON.stringify(retry));
  }

  /**
   * Records how a message settled and moves its body to `done/` (kept, never deleted).
   * @param {string} id
   * @param {Omit<Settlement, 'at' | 'seq'>} settlement
   */
  async settle(id, settlement) {
    /** @type {Settlement} */
    const record = { ...settlement, at: Date.now(), seq: ++this.sequence };
    await writeDurably(this.tmp, join(this.done, `${id}.json`), JSON.stringify(record));
    await syncDir(this.done);
    await this.#moveToDone(id);
  }

  /** @param {string} id */
  async #moveToDone(id) {
    await rename(join(this.inbox, `${id}.body`), join(this.done, `${id}.body`));
    await syncDir(this.done);
    await syncDir(this.inbox);
    await rm(join(this.inbox, `${id}.json`), { force: true });
  }

  /**
   * The delivery keys claimed under `lookupId`, oldest first.
   * @param {string} lookupId @returns {Promise<Claim[]>}
   */
  async claims(lookupId) {
    const dir = join(this.deliveries, hash(lookupId));
    let names;
    try {
      names = await readdir(dir);
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code === 'ENOENT') return [];
      throw e;
    }
    /** @type {Claim[]} */
    const claims = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const claim = await readJson(join(dir, name));
      if (claim !== null) claims.push(claim);
    }
    return claims.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Claims `key` for message `id`: true if this call stored it, false if it was stored before.
   * @param {string} lookupId @param {string} key @param {string} id
   */
  async claim(lookupId, key, id) {
    const dir = join(this.deliveries, hash(lookupId));
    await mkdir(dir, { recursive: true });
    /** @type {Claim} */
    const claim = { key, id, at: Date.now() };
    const tmp = join(this.tmp, `${randomBytes(8).toString('hex')}.claim`);
    await writeDurably(this.tmp, tmp, JSON.stringify(claim));
    try {
      // link(2) creates the name with its content in one step, and fails if it exists:
      // exactly one claim wins, and a crash never leaves an empty one.
      await link(tmp, join(dir, `${hash(key)}.json`));
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code === 'EEXIST') return false;
      throw e;
    } finally {
      await rm(tmp, { force: true });
    }
    await syncDir(dir);
    return true;
  }

  /** The ids still waiting in the inbox. */
  async waiting() {
    return (await readdir(this.inbox)).filter((n) => n.endsWith('.body')).map((n) => n.slice(0, -5));
  }

  /**
   * Every settled message with its body, in the order they settled.
   * @returns {Promise<Array<Settlement & { id: string, body: Buffer }>>}
   */
  async settled() {
    const ids = (await readdir(this.done)).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));
    const all = [];
    for (const id of ids) {
      /** @type {Settlement} */
      const record = await readJson(join(this.done, `${id}.json`));
      all.push({ ...record, id, body: await readFile(join(this.done, `${id}.body`)) });
    }
    return all.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
}
