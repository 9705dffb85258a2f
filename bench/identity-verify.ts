/**
 * Cost of one JWT-SVID verification through the identity resolver, per call and sequentially:
 * cache miss (decode, route, signature, claims, cache insert) against the floor, a raw
 * node:crypto `verify` of the same signatures; and cache hit. ES256 and RS256, ~800-byte tokens.
 *
 * Method: the host is shared, so misses and raw verifies run in alternating blocks of the same
 * tokens and the ratio is taken on medians of per-call samples: load that comes and goes hits
 * both sides alike. A hit is timed on requests that each carry their own copy of the header
 * string (as each gRPC request decodes a new one), so no string hash is reused across calls;
 * hits are timed in blocks of 1000 calls (hrtime per call would dominate), median block.
 * Targets: miss ≤ 1.5 × raw verify; hit ≤ 1 µs. (The old "64 misses in flight" line is gone:
 * misses no longer leave the main thread, so it measured the sequential cost again; several
 * cores are used by the server's worker processes.) ALGS=RS256 picks algorithms.
 *
 * Node 20 has no --experimental-strip-types, so compile then run:
 *   npx tsc --ignoreConfig --outDir node_modules/.cache/mw-bench --rootDir . --module nodenext \
 *     --moduleResolution nodenext --target es2022 --skipLibCheck --types node bench/identity-verify.ts
 *   node node_modules/.cache/mw-bench/bench/identity-verify.js
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, verify, X509Certificate, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { createIdentityResolver, type IdentityResolver } from '../src/identity/index.js';
import type { AccessRequest } from '../src/domain/access-request.js';
import type { Subject } from '../src/domain/subject.js';

type Alg = 'ES256' | 'RS256';
const ROUNDS = 20;
const BLOCK = 150; // tokens per round: ROUNDS × BLOCK misses and as many raw verifies
const HIT_BLOCK = 1000;
const HIT_BLOCKS = 60;
const PAD = 'x'.repeat(480); // a `ctx` claim bringing tokens to about 800 bytes
const SUB = 'spiffe://bench.test/ns/a/sa/b';

function keyPair(alg: Alg): { privateKey: KeyObject; publicKey: KeyObject } {
  return alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** A request whose header value is a flat string of its own, like one decoded from the wire. */
function request(token: string, principal?: string): AccessRequest {
  const authorization = Buffer.from(`Bearer ${token}`, 'latin1').toString('latin1');
  return {
    kind: 'http', requestId: 'r', method: 'GET', path: '/', rawPath: '/', query: '', host: 'h', scheme: 'https', protocol: 'HTTP/2',
    headers: new Map([['authorization', authorization]]), source: principal === undefined ? {} : { principal }, destination: {},
    contextExtensions: new Map(), sni: '', filterMetadata: {},
  };
}

async function setup(alg: Alg): Promise<{ resolver: IdentityResolver; sign: (jti: string) => Promise<string>; publicKey: KeyObject }> {
  const dir = mkdtempSync(join(tmpdir(), 'mw-bench-'));
  const { privateKey, publicKey } = keyPair(alg);
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'jwt-svid' };
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify({ keys: [jwk, x509Authority(dir)] }));
  const resolver = await createIdentityResolver(
    { trustDomains: { 'bench.test': { bundle: 'bundle.json' } }, jwtSvid: { audiences: ['mw'] }, tokenCache: { max: 100_000, maxTtlSeconds: 3600 } },
    { baseDir: dir, watch: false },
  );
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const sign = (jti: string): Promise<string> =>
    new SignJWT({ sub: SUB, aud: 'mw', exp, jti, ctx: PAD }).setProtectedHeader({ alg, kid: 'k1', typ: 'JWT' }).sign(privateKey);
  return { resolver, sign, publicKey };
}

/** A root for the bundle, so that an mTLS principal of the trust domain is accepted (openssl, as the tests do). */
function x509Authority(dir: string): Record<string, unknown> {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=bench',
    '-days', '1', '-keyout', join(dir, 'root.key'), '-out', join(dir, 'root.pem')], { stdio: 'ignore' });
  const cert = new X509Certificate(readFileSync(join(dir, 'root.pem')));
  return { ...cert.publicKey.export({ format: 'jwk' }), use: 'x509-svid', x5c: [cert.raw.toString('base64')] };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const us = (ns: number): string => (ns / 1000).toFixed(2).padStart(8);

function line(alg: Alg, what: string, ns: number, extra = ''): void {
  console.log(`${alg}  ${what.padEnd(34)} ${us(ns)} µs/op  ${Math.round(1e9 / ns).toLocaleString('en').padStart(10)} op/s  ${extra}`);
}

function rawInput(alg: Alg, token: string, publicKey: KeyObject): { data: Buffer; key: VerifyKeyObjectInput; signature: Buffer } {
  const dot = token.lastIndexOf('.');
  const key: VerifyKeyObjectInput = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : { key: publicKey };
  return { data: Buffer.from(token.slice(0, dot)), key, signature: Buffer.from(token.slice(dot + 1), 'base64url') };
}

/** Alternating blocks: BLOCK resolver misses, then raw verifies of the same BLOCK signatures. */
async function benchMiss(alg: Alg, resolver: IdentityResolver, tokens: string[], publicKey: KeyObject): Promise<void> {
  const miss: number[] = [];
  const raw: number[] = [];
  let asyncAnswers = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const block = tokens.slice(round * BLOCK, (round + 1) * BLOCK);
    const requests = block.map((t) => request(t));
    for (const r of requests) {
      const start = process.hrtime.bigint();
      let subject: Subject | Promise<Subject> = resolver.resolve(r);
      if (subject instanceof Promise) {
        asyncAnswers++;
        subject = await subject;
      }
      miss.push(Number(process.hrtime.bigint() - start));
    }
    const inputs = block.map((t) => rawInput(alg, t, publicKey));
    for (const { data, key, signature } of inputs) {
      const start = process.hrtime.bigint();
      if (!verify('sha256', data, key, signature)) throw new Error('bad signature');
      raw.push(Number(process.hrtime.bigint() - start));
    }
  }
  const [m, r] = [median(miss), median(raw)];
  line(alg, 'resolve, cache miss (median)', m, asyncAnswers === 0 ? '(all answered synchronously)' : `(${asyncAnswers} async)`);
  line(alg, 'raw crypto.verify, same sigs (median)', r);
  console.log(`${alg}  miss / raw verify = ${(m / r).toFixed(2)}×   (target ≤ 1.50×)`);
}

/** Hits on requests that each hold their own header string; one block of HIT_BLOCK calls per sample. */
function benchHit(alg: Alg, resolver: IdentityResolver, token: string, what: string, principal?: string): number {
  const sample = (requests: AccessRequest[]): number => {
    const start = process.hrtime.bigint();
    for (const r of requests) {
      if (resolver.resolve(r) instanceof Promise) throw new Error('hit path went async');
    }
    return Number(process.hrtime.bigint() - start) / requests.length;
  };
  for (let i = 0; i < 10; i++) sample(Array.from({ length: HIT_BLOCK }, () => request(token, principal))); // warm-up
  const blocks: number[] = [];
  for (let i = 0; i < HIT_BLOCKS; i++) blocks.push(sample(Array.from({ length: HIT_BLOCK }, () => request(token, principal))));
  const perCall = median(blocks);
  line(alg, what, perCall, perCall <= 1000 ? '(target ≤ 1 µs: met)' : '(target ≤ 1 µs: MISSED)');
  return perCall;
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  for (const alg of (process.env.ALGS ?? 'ES256,RS256').split(',') as Alg[]) {
    const { resolver, sign, publicKey } = await setup(alg);
    const warm = await Promise.all(Array.from({ length: 300 }, (_, i) => sign(`w${i}`)));
    for (const t of warm) await resolver.resolve(request(t));
    const tokens = await Promise.all(Array.from({ length: ROUNDS * BLOCK }, (_, i) => sign(String(i))));
    console.log(`${alg}  token length ${tokens[0]?.length} bytes`);
    await benchMiss(alg, resolver, tokens, publicKey);
    benchHit(alg, resolver, tokens[0] as string, 'resolve, cache hit, token only');
    benchHit(alg, resolver, tokens[0] as string, 'resolve, cache hit, + mTLS principal', SUB);
    console.log(`${alg}  stats ${JSON.stringify(resolver.stats.tokenCache)}`);
    resolver.close();
  }
}

await main();
