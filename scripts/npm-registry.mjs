// A read-only npm registry on 127.0.0.1 serving the package tarballs of one directory (what
// `npm pack` wrote), so that the release's checks install ipnkit as a user does, with
// `npm install ipnkit`, and from those files only: never from the public registry, where the
// same names could one day hold someone else's code.
//
//   node scripts/npm-registry.mjs DIR      prints its URL as its first line, serves until killed
//
// It answers what npm asks for an install: a package's document (GET /NAME, every version with
// its tarball's URL and sha512 integrity) and the tarballs (GET /-/FILE). Anything else is a 404
// in npm's shape; every request is logged on stderr.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const [dir] = process.argv.slice(2);
if (dir === undefined) {
  console.error('usage: node scripts/npm-registry.mjs DIR');
  process.exit(2);
}

/** The `package/package.json` inside a tarball npm packed (a gzipped ustar archive). */
function manifestOf(tgz, file) {
  const tar = gunzipSync(tgz);
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = tar.subarray(at, at + 100).toString('utf8').replace(/\0.*$/s, '');
    if (name === '') break; // the archive's end
    const size = parseInt(tar.subarray(at + 124, at + 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    if (name === 'package/package.json') {
      return JSON.parse(tar.subarray(at + 512, at + 512 + size).toString('utf8'));
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${file}: no package/package.json`);
}

const tarballs = new Map(); // file name -> bytes
const packages = new Map(); // package name -> versions
for (const file of readdirSync(dir).filter((f) => f.endsWith('.tgz')).sort()) {
  const bytes = readFileSync(join(dir, file));
  let manifest;
  try {
    manifest = manifestOf(bytes, file);
  } catch {
    continue; // not an npm package (another registry's .tgz in the same directory)
  }
  tarballs.set(file, bytes);
  const versions = packages.get(manifest.name) ?? {};
  versions[manifest.version] = { ...manifest, file, bytes };
  packages.set(manifest.name, versions);
}
if (packages.size === 0) {
  console.error(`npm-registry: no npm package in ${dir}`);
  process.exit(1);
}

const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://registry');
  const path = decodeURIComponent(url.pathname);
  console.error(`npm-registry: ${request.method} ${path}`);
  const send = (status, body, type = 'application/json') => {
    response.writeHead(status, { 'content-type': type, 'content-length': body.length });
    response.end(body);
  };
  const notFound = () => {
    console.error(`npm-registry: 404 ${path}`);
    send(404, Buffer.from(JSON.stringify({ error: 'not_found' })));
  };
  if (request.method !== 'GET') return notFound();
  if (path.startsWith('/-/')) {
    const bytes = tarballs.get(path.slice(3));
    return bytes === undefined ? notFound() : send(200, bytes, 'application/octet-stream');
  }
  const versions = packages.get(path.slice(1));
  if (versions === undefined) return notFound();
  const base = `http://${request.headers.host}`;
  const document = {
    name: path.slice(1),
    'dist-tags': { latest: Object.keys(versions).sort().at(-1) },
    versions: Object.fromEntries(
      Object.entries(versions).map(([version, { file, bytes, ...manifest }]) => [
        version,
        {
          ...manifest,
          _id: `${manifest.name}@${version}`,
          dist: {
            tarball: `${base}/-/${encodeURIComponent(file)}`,
            integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
            shasum: createHash('sha1').update(bytes).digest('hex'),
          },
        },
      ]),
    ),
  };
  return send(200, Buffer.from(JSON.stringify(document)));
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`http://127.0.0.1:${port}/`);
  console.error(`npm-registry: serving ${[...packages.keys()].join(', ')} from ${dir}`);
});
