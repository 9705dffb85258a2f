/** What a verified bearer token establishes (this is what the token cache holds). */
import type { SpiffeId, EndUser, Subject } from '../../domain/index.js';
import type { SpiffeBundle } from '../parse-spiffe-bundle.js';

export type TokenIdentity =
  | { readonly kind: 'jwt-svid'; readonly workload: SpiffeId; readonly expiresAt: number }
  | { readonly kind: 'oidc'; readonly user: EndUser; readonly expiresAt: number };

/** `subject`: the Subject of a request that carries this token and no other credential, built once. */
export type VerifiedToken = TokenIdentity & { readonly subject: Subject };

/** Per trust domain: undefined when not configured, `bundle` undefined until a first load. */
export type BundleLookup = (trustDomain: string) => { readonly bundle: SpiffeBundle | undefined } | undefined;
