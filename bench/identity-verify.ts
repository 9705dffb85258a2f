/**
 * Cost of one JWT-SVID verification through the identity resolver: cache miss (decode, route,
 * jose verify, cache insert), cache hit (hash + LRU lookup), and the raw node:crypto
 * `verify` of the same signature as the floor. ES256 and RS256.
 *
 * Node 20 has no --experimental-strip-types, so compile then run (see README note in the report):
 *   npx tsc --outDir node_modules/.cache/mw-bench --rootDir . --module nodenext --moduleResolution nodenext \
 *     --target es2022 --skipLibCheck --types node bench/identity-verify.ts
 *   node node_modules/.cache/mw-bench/bench/identity-verify.js
 */
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { createIdentityResolver, type IdentityResolver } from '../src/identity/index.js';
import type { AccessRequest } from '../src/domain/access-request.js';

type Alg = 'ES256' | 'RS256';
const MISSES = 3000;
const HITS = 200_000;
const RAW = 5000;

function keyPair(alg: Alg): { privateKey: KeyObject; publicKey: KeyObject } {
  return alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

function request(token: string): AccessRequest {
  return {
    requestId: 'r', method: 'GET', path: '/', rawPath: '/', query: '', host: 'h', scheme: 'https', protocol: 'HTTP/2',
    headers: new Map([['authorization', `Bearer ${token}`]]), source: {}, destination: {},
    contextExtensions: new Map(), sni: '', filterMetadata: {},
  };
}

async function setup(alg: Alg): Promise<{ resolver: IdentityResolver; sign: (jti: string) => Promise<string>; publicKey: KeyObject }> {
  const dir = mkdtempSync(join(tmpdir(), 'mw-bench-'));
  const { privateKey, publicKey } = keyPair(alg);
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'jwt-svid' };
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify({ keys: [jwk] }));
  const resolver = await createIdentityResolver(
    { trustDomains: { 'bench.test': { bundle: 'bundle.json' } }, jwtSvid: { audiences: ['mw'] }, tokenCache: { max: 100_000, maxTtlSeconds: 3600 } },
    { baseDir: dir, watch: false },
  );
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const sign = (jti: string): Promise<string> =>
    new SignJWT({ sub: 'spiffe://bench.test/ns/a/sa/b', aud: 'mw', exp, jti }).setProtectedHeader({ alg, kid: 'k1' }).sign(privateKey);
  return { resolver, sign, publicKey };
}

function report(alg: Alg, what: string, totalNs: number, n: number): void {
  const per = totalNs / n;
  console.log(`${alg}  ${what.padEnd(26)} ${(per / 1000).toFixed(2).padStart(9)} µs/op  ${Math.round(1e9 / per).toLocaleString('en').padStart(12)} op/s`);
}

async function benchMiss(alg: Alg, resolver: IdentityResolver, tokens: string[]): Promise<void> {
  for (const t of tokens.slice(0, 200)) await resolver.resolve(request(t)); // warm-up (distinct tokens)
  const rest = tokens.slice(200).map(request);
  const start = process.hrtime.bigint();
  for (const r of rest) await resolver.resolve(r);
  report(alg, 'resolve, cache miss', Number(process.hrtime.bigint() - start), rest.length);
}

/** Misses with 64 in flight: WebCrypto verifies on libuv's thread pool, so throughput beats 1/latency. */
async function benchMissConcurrent(alg: Alg, resolver: IdentityResolver, tokens: string[]): Promise<void> {
  const requests = tokens.map(request);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) await resolver.resolve(requests[next++] as AccessRequest);
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: 64 }, worker));
  report(alg, 'resolve, miss, 64 parallel', Number(process.hrtime.bigint() - start), requests.length);
}

function benchHit(alg: Alg, resolver: IdentityResolver, token: string): void {
  const r = request(token);
  for (let i = 0; i < 10_000; i++) resolver.resolve(r);
  const start = process.hrtime.bigint();
  for (let i = 0; i < HITS; i++) {
    if (resolver.resolve(r) instanceof Promise) throw new Error('hit path went async');
  }
  report(alg, 'resolve, cache hit (sync)', Number(process.hrtime.bigint() - start), HITS);
}

function benchRaw(alg: Alg, token: string, publicKey: KeyObject): void {
  const [h, p, s] = token.split('.') as [string, string, string];
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  const key = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const } : publicKey;
  for (let i = 0; i < 500; i++) verify('sha256', data, key, signature);
  const start = process.hrtime.bigint();
  for (let i = 0; i < RAW; i++) {
    if (!verify('sha256', data, key, signature)) throw new Error('bad signature');
  }
  report(alg, 'raw crypto.verify (sync)', Number(process.hrtime.bigint() - start), RAW);
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  for (const alg of ['ES256', 'RS256'] as const) {
    const { resolver, sign, publicKey } = await setup(alg);
    const tokens = await Promise.all(Array.from({ length: MISSES + 200 }, (_, i) => sign(String(i))));
    await benchMiss(alg, resolver, tokens);
    await benchMissConcurrent(alg, resolver, await Promise.all(Array.from({ length: MISSES }, (_, i) => sign(`c${i}`))));
    benchHit(alg, resolver, tokens[0] as string);
    benchRaw(alg, tokens[0] as string, publicKey);
    console.log(`${alg}  stats ${JSON.stringify(resolver.stats.tokenCache)}`);
    resolver.close();
  }
}

await main();
