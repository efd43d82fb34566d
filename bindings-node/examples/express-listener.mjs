// @ts-check
// An IPN listener on Express: the raw body (never a parsed form) is stored durably, then 200;
// the worker posts back, decides, deduplicates and acts. Run it:
//
//   node express-listener.mjs --listen 127.0.0.1:8080 --dir ipn-store --env live \
//       --receiver-email shop@example.net
//
// Against the local PayPal stand-in (`ipnkit sandbox`), add `--verify-url http://127.0.0.1:8081`.
import express from 'express';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

import { runListener } from './run.mjs';

/** @typedef {import('./store.mjs').FileStore} FileStore @typedef {import('./worker.mjs').Worker} Worker */

/**
 * The Express application: `POST /ipn` stores the raw body, then answers 200.
 * @param {FileStore} store @param {Worker} worker @param {number} maxBodyBytes
 */
export function createApp(store, worker, maxBodyBytes) {
  const app = express();
  app.disable('x-powered-by');
  app.post(
    '/ipn',
    // The bytes exactly as PayPal sent them: the postback must repeat them byte for byte.
    express.raw({ type: 'application/x-www-form-urlencoded', limit: maxBodyBytes }),
    async (req, res, next) => {
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
        res.status(400).type('text/plain').send('expected a form body\n'); // not an IPN: nothing to keep
        return;
      }
      try {
        await store.receive(req.body); // on disk before the 200: PayPal will not send it again
      } catch (e) {
        next(e); // 500: PayPal retries later
        return;
      }
      res.status(200).end();
      worker.wake();
    },
  );
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runListener(process.argv.slice(2), (store, worker, max) => createServer(createApp(store, worker, max)));
}
