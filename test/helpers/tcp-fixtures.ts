/**
 * The TCP world of the connection suites (through Envoy to Redis, and the hostile corpus): the
 * trust domain a.test with its root, the two callers' X.509-SVIDs (orders, reporting) and
 * Envoy's serving SVID for Redis, made with openssl at test time.
 */
import { join } from 'node:path';
import { TestPki, type Issuer } from '../identity/helpers/pki.js';

export const ORDERS = 'spiffe://a.test/ns/shop/sa/orders';
export const REPORTING = 'spiffe://a.test/ns/shop/sa/reporting';
/** Envoy's own SVID on the Redis listener: the destination meshwarden names `redis`, namespace `data`. */
export const REDIS_ID = 'spiffe://a.test/ns/data/sa/redis';

export type Caller = 'orders' | 'reporting';

export interface TcpWorld {
  readonly pki: TestPki;
  readonly root: Issuer;
  /** PEM text of each caller's SVID. */
  readonly pem: Readonly<Record<Caller, string>>;
  /** Certificate and key file of an SVID made here (a caller, or `redis`). */
  files(name: Caller | 'redis'): { readonly cert: string; readonly key: string };
}

export function tcpWorld(): TcpWorld {
  const pki = new TestPki();
  const root = pki.root('root-a', 'a.test');
  pki.leaf('redis', root, { extra: [`subjectAltName=DNS:localhost,IP:127.0.0.1,URI:${REDIS_ID}`] });
  const pem = { orders: pki.leaf('orders', root, { uris: [ORDERS] }), reporting: pki.leaf('reporting', root, { uris: [REPORTING] }) };
  return { pki, root, pem, files: (name) => ({ cert: join(pki.dir, `${name}.pem`), key: join(pki.dir, `${name}.key`) }) };
}
