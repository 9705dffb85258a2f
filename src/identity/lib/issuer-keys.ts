/**
 * Keys of one OIDC issuer. Remote sets use jose's createRemoteJWKSet (one fetch in flight,
 * timeout, cooldown, an unknown kid refetches at most once per cooldown) with two additions:
 * the last good key set keeps serving when the endpoint fails or answers garbage, and after a
 * failure no fetch is tried again for a cooldown, so an IdP outage costs one fetch per cooldown.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  type JWTVerifyGetKey,
} from 'jose';
import { IdentityError } from '../errors.js';
import type { NormalizedIssuer } from '../options.js';
import type { JwksFetchStats } from './stats.js';

export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

export interface IssuerKeys {
  readonly getKey: JWTVerifyGetKey;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

export interface RemoteKeysDeps {
  readonly fetch: FetchFn;
  readonly now: () => number;
  readonly stats: JwksFetchStats;
}

export function remoteIssuerKeys(issuer: NormalizedIssuer, uri: URL, deps: RemoteKeysDeps): IssuerKeys {
  let lastGood: LocalSet | undefined;
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
  const usableKeySet = async (response: Response): Promise<LocalSet | undefined> => {
    try {
      const set = createLocalJWKSet(JSON.parse(await response.clone().text()));
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
  const fromLastGood: JWTVerifyGetKey = (header, token) => {
    if (lastGood === undefined) throw new IdentityError('ERR_JWKS_UNAVAILABLE', 'token', `no keys ever loaded for ${issuer.issuer}`);
    return lastGood(header, token);
  };
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (deps.now() - failedAt < issuer.cooldownMs) return fromLastGood(header, token);
    try {
      return await remote(header, token);
    } catch (error) {
      if (isLookupError(error)) throw error;
      return fromLastGood(header, token);
    }
  };
  return { getKey };
}

/** Errors about the token's header against a good key set, as opposed to failures to get one. */
function isLookupError(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported
  );
}

/** A JWKS file, loaded and reloaded by the caller; undefined until the first good load. */
export function fileIssuerKeys(issuer: NormalizedIssuer, current: () => LocalSet | undefined): IssuerKeys {
  return {
    getKey: (header, token) => {
      const set = current();
      if (set === undefined) throw new IdentityError('ERR_JWKS_UNAVAILABLE', 'token', `keys of ${issuer.issuer} never loaded`);
      return set(header, token);
    },
  };
}

export function parseJwksFile(text: string): LocalSet {
  return createLocalJWKSet(JSON.parse(text));
}
