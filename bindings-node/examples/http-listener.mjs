// @ts-check
// An IPN listener on plain `node:http`, no framework: read the raw body (within the
// configured limit, and only if it arrived whole), store it durably, answer 200; the worker
// does the rest. Run it:
//
//   node http-listener.mjs --listen 127.0.0.1:8080 --dir ipn-store --env live \
//       --receiver-email shop@example.net
//
// Against the local PayPal stand-in (`ipnkit sandbox`), add `--verify-url http://127.0.0.1:8081`.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

import { runListener } from './run.mjs';

/** @typedef {import('./store.mjs').FileStore} FileStore @typedef {import('./worker.mjs').Worker} Worker */

/**
 * Reads a request body of at most `max` bytes; `null` when it is larger.
 * @param {import('node:http').IncomingMessage} req @param {number} max
 * @returns {Promise<Buffer | null>}
 */
async function readBody(req, max) {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return null; // refused before reading a byte
  /** @type {Buffer[]} */
  const chunks = [];
  let total = 0;
  for await (const chunk of req) {
    total += chunk.length;
    if (total > max) return null;
    chunks.push(chunk);
  }
  // node:http rejects the iteration above when the client closes before the declared length.
  return Buffer.concat(chunks, total);
}

/**
 * The server: `POST /ipn` stores the raw body, then answers 200.
 * @param {FileStore} store @param {Worker} worker @param {number} maxBodyBytes
 */
export function createListener(store, worker, maxBodyBytes) {
  const server = createServer(async (req, res) => {
    const answer = (/** @type {number} */ status, /** @type {string} */ text = '') => {
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const path = new URL(req.url ?? '/', 'http://listener').pathname;
    if (path !== '/ipn') return answer(404, 'not found\n');
    if (req.method !== 'POST') return answer(405, 'POST only\n');
    let body;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch {
      return; // the client went away mid-body: nothing whole to keep, nobody to answer
    }
    if (body === null) {
      res.setHeader('connection', 'close');
      return answer(413, 'too large\n');
    }
    if (body.length === 0) return answer(400, 'expected a form body\n');
    try {
      await store.receive(body); // on disk before the 200
    } catch (e) {
      console.error(JSON.stringify({ problem: 'store_failed', error: String(e) }));
      return answer(500, 'try again\n'); // PayPal retries later
    }
    answer(200);
    worker.wake();
  });
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runListener(process.argv.slice(2), createListener);
}
