/**
 * A parsed, validated SPIFFE ID. Only parseSpiffeId (parse-spiffe-id.ts) creates one, so
 * holding a SpiffeId means the text obeyed the SPIFFE-ID standard.
 */
export interface SpiffeId {
  /** Lower-case trust domain name, e.g. `prod.example`. */
  readonly trustDomain: string;
  /** Path with its leading slash, e.g. `/ns/checkout/sa/checkout`; empty for the trust domain itself. */
  readonly path: string;
  /** The full ID, `spiffe://` + trust domain + path. */
  readonly uri: string;
}

/**
 * The Kubernetes namespace of an Istio-style ID (`/ns/NS/...`), or undefined. The one
 * reading of it: the decision cache key and the matchers must agree on it. No split, it is
 * on the hot path.
 */
export function spiffeNamespace(id: SpiffeId): string | undefined {
  const path = id.path;
  if (!path.startsWith('/ns/')) return undefined;
  const end = path.indexOf('/', 4);
  const namespace = end === -1 ? path.slice(4) : path.slice(4, end);
  return namespace === '' ? undefined : namespace;
}
