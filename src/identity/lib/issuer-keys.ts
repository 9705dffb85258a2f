/**
 * Keys of one OIDC issuer. Remote sets use jose's createRemoteJWKSet for the fetching (one
 * fetch in flight, timeout, cooldown, an unknown kid refetches at most once per cooldown) with
 * two additions: the last good key set keeps serving when the endpoint fails or answers
 * garbage, and after a failure no fetch is tried again for a cooldown, so an IdP outage costs
 * one fetch per cooldown. Each fetched set is imported once, as it arrives; a token whose key
 * is in a fresh set is answered synchronously, and only a fetch makes the answer a Promise.
 */
import { createRemoteJWKSet, customFetch, type FetchImplementation, type JWSHeaderParameters } from 'jose';
import { IdentityError } from '../errors.js';
import type { NormalizedIssuer } from '../options.js';
import type { DecodedJwt } from './decode-jwt.js';
import { findJwk, keyNotFound, parseJwkSet, type JwkSet } from './jwk-set.js';
import type { JwksFetchStats } from './stats.js';
import type { VerificationKey } from './verification-key.js';

export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

export interface IssuerKeys {
  /** The key for this token: synchronous when the keys at hand decide, a Promise when a fetch must come first. */
  keyFor(jwt: DecodedJwt): VerificationKey | Promise<VerificationKey>;
}

export interface RemoteKeysDeps {
  readonly fetch: FetchFn;
  readonly now: () => number;
  readonly stats: JwksFetchStats;
}

export function remoteIssuerKeys(issuer: NormalizedIssuer, uri: URL, deps: RemoteKeysDeps): IssuerKeys {
  let lastGood: JwkSet | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  const failed = (counter: keyof JwksFetchStats): void => {
    deps.stats[counter]++;
    failedAt = deps.now();
  };
  const fetchImpl: FetchImplementation = async (url, init) => {
    let response: Response;
    try {
      response = await deps.fetch(url, init);
    } catch (error) {
      failed('error');
      throw error;
    }
    if (response.status !== 200) failed('httpError');
    else lastGood = (await usableKeySet(response)) ?? lastGood;
    return response;
  };
  const usableKeySet = async (response: Response): Promise<JwkSet | undefined> => {
    try {
      const set = parseJwkSet(JSON.parse(await response.clone().text()));
      deps.stats.ok++;
      return set;
    } catch {
      failed('invalid');
      return undefined;
    }
  };
  const remote = createRemoteJWKSet(uri, {
    timeoutDuration: issuer.timeoutMs,
    cooldownDuration: issuer.cooldownMs,
    cacheMaxAge: issuer.maxAgeMs,
    [customFetch]: fetchImpl,
  });
  const fromLastGood = (jwt: DecodedJwt): VerificationKey => {
    if (lastGood === undefined) throw new IdentityError('ERR_JWKS_UNAVAILABLE', 'token', `no keys ever loaded for ${issuer.issuer}`);
    return findJwk(lastGood, jwt) ?? keyNotFound();
  };
  const afterFetch = async (jwt: DecodedJwt): Promise<VerificationKey> => {
    try {
      // jose decides whether to fetch (stale set, or unknown kid past the cooldown); fetchImpl keeps what arrives
      await remote(jwt.header as JWSHeaderParameters);
    } catch {
      // the fetch failed, or no key matched: the last good set decides, with our own codes
    }
    return fromLastGood(jwt);
  };
  return {
    keyFor(jwt) {
      if (deps.now() - failedAt < issuer.cooldownMs) return fromLastGood(jwt);
      const key = lastGood !== undefined && remote.fresh ? findJwk(lastGood, jwt) : undefined;
      return key ?? afterFetch(jwt);
    },
  };
}

/** A JWKS file, loaded and reloaded by the caller; undefined until the first good load. */
export function fileIssuerKeys(issuer: NormalizedIssuer, current: () => JwkSet | undefined): IssuerKeys {
  return {
    keyFor(jwt) {
      const set = current();
      if (set === undefined) throw new IdentityError('ERR_JWKS_UNAVAILABLE', 'token', `keys of ${issuer.issuer} never loaded`);
      return findJwk(set, jwt) ?? keyNotFound();
    },
  };
}

export function parseJwksFile(text: string): JwkSet {
  return parseJwkSet(JSON.parse(text));
}
