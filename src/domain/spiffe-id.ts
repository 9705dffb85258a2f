/**
 * A parsed, validated SPIFFE ID. Only identity/parseSpiffeId creates one, so holding a
 * SpiffeId means the text obeyed the SPIFFE-ID standard.
 */
export interface SpiffeId {
  /** Lower-case trust domain name, e.g. `prod.example`. */
  readonly trustDomain: string;
  /** Path with its leading slash, e.g. `/ns/checkout/sa/checkout`; empty for the trust domain itself. */
  readonly path: string;
  /** The full ID, `spiffe://` + trust domain + path. */
  readonly uri: string;
}

/** The Kubernetes namespace of an Istio-style ID (`/ns/NS/sa/SA`), or undefined. */
export function spiffeNamespace(id: SpiffeId): string | undefined {
  const segments = id.path.split('/');
  return segments[1] === 'ns' && segments.length >= 3 ? segments[2] : undefined;
}
