/**
 * A trust world on disk for the e2e identity tests: SPIFFE bundles of two trust domains
 * (an X.509 root made with openssl and a JWT-SVID key, fresh every run, nothing committed),
 * a real loopback JWKS endpoint for an OIDC issuer, policies, and the config that serves them.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWTPayload } from 'jose';
import { TestPki, x509BundleKey, type Issuer } from '../identity/helpers/pki.js';
import { makeKey, publicJwk, signToken, type SigningKey } from '../identity/helpers/tokens.js';
import { httpCheck } from './check-client.js';
import { tempDir } from './server-process.js';

export const TD_A = 'a.test';
export const TD_B = 'b.test';
export const CART = 'spiffe://a.test/ns/shop/sa/cart';
export const BILLING = 'spiffe://a.test/ns/shop/sa/billing';
export const PAY_B = 'spiffe://b.test/ns/pay/sa/api';
export const IDP = 'https://idp.test';
export const SVID_AUDIENCE = 'meshwarden';
export const API_AUDIENCE = 'shop-api';

/** orders: the cart workload only; profile: end users by claim; status: anyone. */
export const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: orders-from-cart }
spec:
  target: { services: ["orders"] }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${CART}"] } }]
      to: [{ operation: { methods: ["GET"], paths: ["/orders/{*}"] } }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: profile-by-claims }
spec:
  target: { services: ["profile"] }
  action: ALLOW
  rules:
    - from: [{ source: { requestPrincipals: ["${IDP}/*"] } }]
      to: [{ operation: { methods: ["GET"], paths: ["/me"] } }]
      when: [{ key: "request.auth.claims[scope]", values: ["profile:read"] }]
    - from: [{ source: { requestPrincipals: ["${IDP}/*"] } }]
      to: [{ operation: { paths: ["/admin/{**}"] } }]
      when: [{ key: "request.auth.claims[org][role]", values: ["admin"] }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: status-for-anyone }
spec:
  target: { services: ["status"] }
  action: ALLOW
  rules:
    - to: [{ operation: { methods: ["GET"], paths: ["/healthz"] } }]
`;

/** A JWKS endpoint on 127.0.0.1 that counts its requests and can be taken down. */
export class JwksEndpoint {
  requests = 0;
  #keys: Record<string, unknown>[];
  readonly #server: Server;

  private constructor(keys: readonly SigningKey[]) {
    this.#keys = keys.map((key) => publicJwk(key, { use: 'sig', alg: key.alg }));
    this.#server = createServer((request, response) => {
      this.requests++;
      // no keep-alive: once closed, the endpoint must really be gone for the server's fetch
      const headers = { 'content-type': 'application/json', connection: 'close' };
      if (request.url !== '/jwks') return void response.writeHead(404, headers).end('{}');
      response.writeHead(200, headers).end(JSON.stringify({ keys: this.#keys }));
    });
  }

  static async start(keys: readonly SigningKey[]): Promise<JwksEndpoint> {
    const endpoint = new JwksEndpoint(keys);
    await new Promise<void>((resolve) => endpoint.#server.listen(0, '127.0.0.1', resolve));
    return endpoint;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/jwks`;
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }
}

export interface IdentityWorld {
  /** Config dir: bundles, policies and the config file live here. */
  readonly dir: string;
  readonly rootA: Issuer;
  readonly rootB: Issuer;
  /** JWT-SVID keys of a.test and b.test, and the OIDC issuer's key. */
  readonly keyA: SigningKey;
  readonly keyB: SigningKey;
  readonly idpKey: SigningKey;
  readonly jwks: JwksEndpoint;
  /** Replaces a.test's bundle on disk by rename, as SPIRE helpers and ConfigMaps do. */
  rotateBundleA(jwtKeys: readonly SigningKey[], sequence: number): void;
  /** The config file text; `issuer` adds keys to the issuer entry (e.g. `maxAge: 0s`). */
  configText(issuer?: Record<string, string>): string;
  close(): Promise<void>;
}

export async function createIdentityWorld(): Promise<IdentityWorld> {
  const dir = tempDir('meshwarden-identity-');
  const pki = new TestPki();
  const rootA = pki.root('root-a', TD_A);
  const rootB = pki.root('root-b', TD_B);
  const keyA = makeKey('a1');
  const keyB = makeKey('b1');
  const idpKey = makeKey('idp-1', 'RS256');
  const writeBundle = (name: string, root: Issuer, jwtKeys: readonly SigningKey[], sequence: number) => {
    const keys = [x509BundleKey(root.pem), ...jwtKeys.map((key) => publicJwk(key, { use: 'jwt-svid' }))];
    const staging = join(dir, `.${name}.${randomUUID()}`);
    writeFileSync(staging, JSON.stringify({ spiffe_sequence: sequence, spiffe_refresh_hint: 300, keys }));
    renameSync(staging, join(dir, `${name}.json`));
  };
  writeBundle(TD_A, rootA, [keyA], 1);
  writeBundle(TD_B, rootB, [keyB], 1);
  writeFileSync(join(dir, 'policies.yaml'), POLICIES);
  const jwks = await JwksEndpoint.start([idpKey]);
  return {
    dir, rootA, rootB, keyA, keyB, idpKey, jwks,
    rotateBundleA: (jwtKeys, sequence) => writeBundle(TD_A, rootA, jwtKeys, sequence),
    configText: (issuer = {}) => configText(jwks.url, issuer),
    close: () => jwks.close(),
  };
}

function configText(jwksUri: string, issuer: Record<string, string>): string {
  const extra = Object.entries(issuer).map(([key, value]) => `, ${key}: ${value}`).join('');
  return `
policies: [./policies.yaml]
defaultAction: DENY
decisionLog: { output: stdout, allowSampleRate: 1 }
identity:
  trustDomains:
    ${TD_A}: { bundle: ./${TD_A}.json }
    ${TD_B}: { bundle: ./${TD_B}.json }
  jwtSvid: { audiences: [${SVID_AUDIENCE}] }
  issuers:
    - { issuer: "${IDP}", audiences: [${API_AUDIENCE}], jwksUri: "${jwksUri}", timeout: 2s${extra} }
`;
}

const nowS = () => Math.floor(Date.now() / 1000);

/** A JWT-SVID for `sub` (default: the cart workload), valid for 10 minutes unless overridden. */
export function svid(key: SigningKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  return signToken(key, { sub: CART, aud: [SVID_AUDIENCE], iat: nowS(), exp: nowS() + 600, jti: randomUUID(), ...claims }, { typ: 'JWT', ...header });
}

/** An end-user access token of the OIDC issuer, valid for 10 minutes unless overridden. */
export function userToken(key: SigningKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  return signToken(key, { iss: IDP, sub: 'alice', aud: API_AUDIENCE, iat: nowS(), exp: nowS() + 600, jti: randomUUID(), ...claims }, header);
}

/** A Check for `service` with the given credentials (bearer token, mTLS principal). */
export function checkWith(options: { service: string; path: string; method?: string; token?: string; principal?: string }) {
  return httpCheck({
    service: options.service,
    path: options.path,
    method: options.method ?? 'GET',
    ...(options.principal === undefined ? {} : { principal: options.principal }),
    headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
  });
}
