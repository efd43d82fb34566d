// The IPN and webhook inspector page (package/inspector.html) in headless Chromium (Debian's, driven by
// playwright-core): served from the package directory on loopback, it decodes a pasted vector
// into typed fields, shows a malformed body's error with its field, the exact postback and the
// rules a VERIFIED answer would still break. A screenshot goes to target/inspector.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const WASM_DIR = resolve(here, '..');
const ROOT = resolve(WASM_DIR, '..');
const PACKAGE = resolve(process.env.IPNKIT_WASM_PACKAGE ?? join(WASM_DIR, 'package'));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const { chromium } = createRequire(join(WASM_DIR, 'package.json'))('playwright-core');

const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
let server;
let browser;
let base;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM} (scripts/setup installs Debian's chromium)`);
  server = createServer((req, res) => {
    const path = normalize(join(PACKAGE, new URL(req.url, 'http://page').pathname));
    if (!path.startsWith(PACKAGE) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
    res.end(readFileSync(path));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function open() {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(`${base}/inspector.html`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  return { page, problems };
}

test('a pasted vector shows its event, typed variables, the exact postback and the rules', async () => {
  const { page, problems } = await open();
  const body = readFileSync(join(ROOT, 'tests', 'vectors', 'web_accept--windows1252.body'), 'latin1');
  await page.selectOption('#environment', 'sandbox');
  await page.fill('#receiver', 'other@example.net');
  await page.fill('#body', body);
  await page.click('#inspect');
  assert.match(await page.textContent('#event'), /payment_completed/);
  const variables = await page.textContent('#variables');
  assert.match(variables, /mc_gross\s*24\.90 EUR/);
  assert.match(variables, /first_nameRenée/);
  assert.match(variables, /payment_date\s*2024-03-14T16:41:07\.000Z/);
  assert.equal(await page.textContent('#postback'), `cmd=_notify-validate&${body.replace(/[\r\n]+$/, '')}`);
  assert.match(await page.textContent('#rules'), /receiver_mismatch/);
  mkdirSync(join(ROOT, 'target'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'target', 'inspector.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test('a malformed body shows the error code and its field, never the value', async () => {
  const { page, problems } = await open();
  await page.fill('#body', 'txn_id=1&mc_gross=1.00&mc_gross=100.00');
  await page.click('#inspect');
  const error = await page.textContent('#error');
  assert.match(error, /duplicate_key/);
  assert.match(error, /mc_gross/);
  assert.doesNotMatch(error, /100\.00/);
  await page.fill('#body', 'first_name=Jörg&txn_id=1');
  await page.click('#inspect');
  assert.match(await page.textContent('#not-ascii'), /not percent-encoded/);
  assert.deepEqual(problems, []);
});

test('a pasted webhook verifies at its time, and a re-formatted copy is refused: the body changed', async () => {
  const dir = resolve(process.env.IPNKIT_WEBHOOKS ?? join(ROOT, '..', 'shared', 'webhooks'));
  assert.ok(existsSync(join(dir, 'SOURCES.md')), `the webhook vectors are missing at ${dir} (set IPNKIT_WEBHOOKS)`);
  const name = 'paypal2_2024-07-30_payment-sale-refunded';
  const facts = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
  const body = readFileSync(join(dir, `${name}.body`), 'utf8');
  const headers = [
    'POST /webhook HTTP/1.1',
    `Paypal-Transmission-Id: ${facts.transmission_id}`,
    `Paypal-Transmission-Time: ${facts.transmission_time}`,
    `Paypal-Transmission-Sig: ${facts.transmission_sig}`,
    `Paypal-Cert-Url: ${facts.cert_url}`,
    `Paypal-Auth-Algo: ${facts.auth_algo}`,
  ].join('\n');
  const { page, problems } = await open();
  await page.fill('#wh-headers', headers);
  await page.fill('#wh-body', body);
  await page.fill('#wh-cert', readFileSync(join(dir, `${name}.pem`), 'utf8'));
  await page.fill('#wh-id', facts.webhook_id);
  await page.click('#wh-inspect');
  assert.match(await page.textContent('#wh-verdict'), /Verified/);
  assert.equal(await page.textContent('#wh-signed'), facts.python_check.signed_string);
  assert.match(await page.textContent('#wh-event'), /payment_refunded/);
  await page.fill('#wh-body', JSON.stringify(JSON.parse(body), null, 2));
  await page.click('#wh-inspect');
  const refused = await page.textContent('#wh-verdict');
  assert.match(refused, /signature_mismatch/);
  assert.match(refused, /the body changed/);
  await page.selectOption('#wh-environment', 'sandbox');
  await page.fill('#wh-body', body);
  await page.click('#wh-inspect');
  assert.match(await page.textContent('#wh-verdict'), /cert_url_host/);
  mkdirSync(join(ROOT, 'target'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'target', 'inspector-webhook.png'), fullPage: true });
  assert.deepEqual(problems, []);
});
