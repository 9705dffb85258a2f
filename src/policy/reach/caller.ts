/** Callers as questions name them, and the trust domain made-up callers are given. */
import { tryParseSpiffeId } from '../../domain/index.js';
import type { Policy } from '../model.js';
import type { Conjunction } from './clause.js';

/** The clauses that pin a caller: a SPIFFE ID, or no workload identity and no end user at all. */
export function callerClauses(principal: string | undefined): Conjunction {
  if (principal !== undefined) return [{ attribute: 'source.principal', values: [principal] }];
  return [
    { attribute: 'source.principal', notValues: ['*'] },
    { attribute: 'request.auth.principal', notValues: ['*'] },
  ];
}

/**
 * A caller as people write it: a SPIFFE ID (Istio's form without `spiffe://` too), or
 * `anonymous` / `unauthenticated` for no identity (undefined). A TypeError for anything else.
 */
export function normalizeCaller(text: string): string | undefined {
  if (text === 'anonymous' || text === 'unauthenticated') return undefined;
  const id = tryParseSpiffeId(text.startsWith('spiffe://') ? text : `spiffe://${text}`);
  if (id === undefined || text.includes('*')) throw new TypeError(`"${text}" is not a SPIFFE ID (spiffe://trust-domain/path), nor "anonymous"`);
  return id.uri;
}

/** The trust domain of the first SPIFFE ID a policy names exactly: the mesh's, for made-up callers. */
export function meshTrustDomain(policies: readonly Policy[]): string {
  for (const policy of policies) {
    for (const rule of policy.rules) {
      for (const source of rule.from ?? []) {
        for (const principal of source.principals ?? []) {
          const id = principal.includes('*') ? undefined : tryParseSpiffeId(principal.startsWith('spiffe://') ? principal : `spiffe://${principal}`);
          if (id !== undefined) return id.trustDomain;
        }
      }
    }
  }
  return 'witness.example';
}
