// @ts-check
// What both example listeners share: the command line, the event sink, and running the
// server and the worker together until SIGTERM.
import { parseArgs } from 'node:util';

import { Config } from 'ipnkit';

import { FileStore } from './store.mjs';
import { Worker } from './worker.mjs';

/**
 * @typedef {import('ipnkit').Message} Message
 * @typedef {import('ipnkit').Decision} Decision
 */

/**
 * The listeners' command line: `--listen HOST:PORT --dir DIR --env live|sandbox
 * --receiver-email EMAIL… [--verify-url URL] [--postback-timeout SECONDS]`.
 * @param {string[]} args
 */
export function commandLine(args) {
  const { values } = parseArgs({
    args,
    options: {
      listen: { type: 'string', default: '127.0.0.1:8080' },
      dir: { type: 'string', default: 'ipn-store' },
      env: { type: 'string' },
      'receiver-email': { type: 'string', multiple: true, default: [] },
      'verify-url': { type: 'string' },
      'postback-timeout': { type: 'string', default: '30' },
    },
    strict: true,
  });
  const environment = values.env;
  if (environment !== 'live' && environment !== 'sandbox') {
    throw new Error('--env live or --env sandbox is required');
  }
  const at = (values.listen ?? '').lastIndexOf(':');
  const port = Number((values.listen ?? '').slice(at + 1));
  const timeout = Number(values['postback-timeout']);
  if (at < 1 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--listen is HOST:PORT');
  if (!(timeout > 0)) throw new Error('--postback-timeout is a number of seconds');
  const config = new Config({
    environment,
    receiver_emails: values['receiver-email'] ?? [],
    ...(values['verify-url'] === undefined ? {} : { verify_url_for_testing: values['verify-url'] }),
  });
  return {
    host: (values.listen ?? '').slice(0, at),
    port,
    dir: values.dir ?? 'ipn-store',
    config,
    timeoutMs: timeout * 1000,
  };
}

/**
 * The examples' event sink: one JSON line per accepted notification on stdout. A shop fulfils
 * the order here instead, idempotently on `decision.deliveryKey`.
 * @param {Message} message @param {import('ipnkit').Act} decision
 */
export function printEvent(message, decision) {
  process.stdout.write(`${JSON.stringify({ event: decision.event, key: decision.deliveryKey, txn_id: message.txn_id ?? null })}\n`);
}

/**
 * Runs a listener from the command line: opens the store, starts the worker, serves until
 * SIGTERM or SIGINT. Prints `{"listening": URL}` on stderr once the port is open.
 * @param {string[]} args
 * @param {(store: FileStore, worker: Worker, maxBodyBytes: number) => import('node:http').Server} makeServer
 */
export async function runListener(args, makeServer) {
  const options = commandLine(args);
  const store = await FileStore.open(options.dir);
  const worker = new Worker(store, {
    config: options.config,
    onEvent: printEvent,
    timeoutMs: options.timeoutMs,
  }).start();
  const server = makeServer(store, worker, options.config.limits.max_body_bytes);
  // A client that stalls is cut off: PayPal sends a small body at once.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.maxHeadersCount = 100;
  server.listen(options.port, options.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    console.error(JSON.stringify({ listening: `http://${options.host}:${port}/ipn` }));
  });
  const stop = () => {
    worker.stop();
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
