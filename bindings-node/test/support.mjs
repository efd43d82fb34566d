// What every test file shares: the package under test and the shared test data.
//
// The suite is written against the API only: IPNKIT_JS_PACKAGE names the package directory to
// test (default: this package), so the same tests run against another build of the same API.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..');
export const PACKAGE_DIR = resolve(process.env.IPNKIT_JS_PACKAGE ?? join(here, '..', 'package'));
export const VECTORS = join(ROOT, 'tests', 'vectors');
export const CORPUS = resolve(process.env.IPNKIT_CORPUS ?? join(ROOT, '..', 'shared', 'corpus'));

if (!existsSync(join(PACKAGE_DIR, 'package.json'))) {
  throw new Error(`no package to test at ${PACKAGE_DIR}: run scripts/build node (or set IPNKIT_JS_PACKAGE)`);
}
if (!existsSync(join(CORPUS, 'SOURCES.md'))) {
  throw new Error(`the IPN corpus is missing: expected ${CORPUS} (set IPNKIT_CORPUS to its path)`);
}

/** The package, loaded as ES module (`import(dir)` resolves its `exports`). */
export const ipnkit = await import(pathToFileURL(join(PACKAGE_DIR, 'ipnkit.mjs')).href);
/** The same package through `require`. */
export const required = createRequire(join(PACKAGE_DIR, 'package.json'))(`${PACKAGE_DIR}/`);

/** The files of `dir` ending with `suffix`, sorted; fails when there is none. */
export function filesIn(dir, suffix) {
  const names = readdirSync(dir).filter((n) => n.endsWith(suffix)).sort();
  if (names.length === 0) throw new Error(`no *${suffix} file in ${dir}`);
  return names.map((n) => join(dir, n));
}

export const read = (path) => readFileSync(path);
