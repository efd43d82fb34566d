// The size of the built module, gzipped (level 9), whole and split into code, data and the rest.
// Run by scripts/test after scripts/build wasm; exits non-zero above the ceiling.
//
//   node bindings-wasm/size.mjs [PACKAGE_DIR]
//
// Since issue 39 the module is built for speed (Cloudflare's Workers have one 64 MiB limit on the
// uncompressed module, and no compressed-size limit): the ceiling is a regression guard, just
// above what is measured, moved only with a reason in BENCHMARKS.md.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const CEILING = 356_000;

const here = dirname(fileURLToPath(import.meta.url));
const file = join(resolve(process.argv[2] ?? join(here, 'package')), 'web', 'ipnkit_wasm_bg.wasm');
const bytes = readFileSync(file);
const gz = (b) => gzipSync(b, { level: 9 }).length;

/** The module's sections, by kind: code (10), data (11), everything else. */
function sections(b) {
  if (b.readUInt32LE(0) !== 0x6d736100) throw new Error(`${file} is not a wasm module`);
  const parts = { code: [], data: [], other: [] };
  let i = 8;
  const leb = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = b[i++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) return value;
    }
  };
  while (i < b.length) {
    const id = b[i++];
    const size = leb();
    const body = b.subarray(i, i + size);
    (id === 10 ? parts.code : id === 11 ? parts.data : parts.other).push(body);
    i += size;
  }
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Buffer.concat(v)]));
}

const whole = gz(bytes);
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
console.log(`wasm module: ${kb(bytes.length)} raw, ${kb(whole)} gzipped (-9): ${whole} bytes`);
for (const [name, body] of Object.entries(sections(bytes))) {
  console.log(`  ${name.padEnd(6)} ${kb(body.length).padStart(9)} raw ${kb(gz(body)).padStart(9)} gzipped alone`);
}
console.log(`ceiling (a regression guard, BENCHMARKS.md): ${kb(CEILING)}`);
if (whole > CEILING) {
  console.error(`size: FAILED: the module grew to ${whole} bytes gzipped, above the ceiling of ${CEILING}`);
  process.exit(1);
}
