/**
 * What identity tells tracing (telemetry/ implements it): a verification on a token-cache
 * miss, and a fetch of a remote key set, each as it begins. Absent, nothing is told; the
 * hook never sees a token, only the kind of verification and the URL of a key set.
 */
import type { FetchFn } from './issuer-keys.js';

/** Ends what began: with the failure when it failed. Never throws. */
export type SpanEnd = (failure?: unknown) => void;

export interface IdentityTracing {
  verification(kind: 'oidc' | 'jwt-svid'): SpanEnd | undefined;
  keySetFetch(url: string): SpanEnd | undefined;
}

/** The fetch of remote key sets, each one told to tracing when it begins and when it settles. */
export function tracedFetch(fetch: FetchFn, tracing: IdentityTracing | undefined): FetchFn {
  if (tracing === undefined) return fetch;
  return async (url, init) => {
    const end = tracing.keySetFetch(url);
    try {
      const response = await fetch(url, init);
      end?.(response.status === 200 ? undefined : `HTTP ${response.status}`);
      return response;
    } catch (error) {
      end?.(error);
      throw error;
    }
  };
}

/** Ends `end` when `outcome` settles, and hands the outcome on unchanged. */
export function endWith<T>(end: SpanEnd | undefined, outcome: () => T | Promise<T>): T | Promise<T> {
  if (end === undefined) return outcome();
  let result: T | Promise<T>;
  try {
    result = outcome();
  } catch (error) {
    end(error);
    throw error;
  }
  if (!(result instanceof Promise)) {
    end();
    return result;
  }
  return result.then(
    (value) => {
      end();
      return value;
    },
    (error: unknown) => {
      end(error);
      return Promise.reject(error);
    },
  );
}
