/**
 * The trust bundles the Workload API streams carry now. Each update replaces its stream's whole
 * set: a trust domain the latest update does not carry is no longer trusted through that
 * stream. The merged bundle per domain is built once per update, never per request.
 *
 * Which source answers for a domain (fail closed): the streams, for a domain either of them
 * carries now; a domain they carried once and dropped is untrusted, even if a bundle file is
 * configured for it (SPIRE withdrew it; a stale file must not bring it back); a domain they
 * never carried falls back to the file configuration.
 */
import type { X509Certificate } from 'node:crypto';
import type { SpiffeBundle } from '../parse-spiffe-bundle.js';
import type { BundleLookup } from '../lib/verified-token.js';
import type { BundleStream, JwtUpdate, X509Update } from './parse-bundle-update.js';

type BundleState = ReturnType<BundleLookup>;

const NO_JWT_KEYS: SpiffeBundle['jwtAuthorities'] = new Map();
const NO_X509_ROOTS: readonly X509Certificate[] = [];

export class WorkloadBundles {
  #x509: X509Update | undefined;
  #jwt: JwtUpdate | undefined;
  #merged = new Map<string, BundleState>();
  /** Every domain a stream carried since start: once carried, only the streams speak for it. */
  readonly #carried = new Set<string>();

  constructor(private readonly files: BundleLookup) {}

  /** Both streams delivered a first update: the bundles are complete. */
  get complete(): boolean {
    return this.#x509 !== undefined && this.#jwt !== undefined;
  }

  readonly lookup: BundleLookup = (trustDomain) => {
    const streamed = this.#merged.get(trustDomain);
    if (streamed !== undefined) return streamed;
    return this.#carried.has(trustDomain) ? undefined : this.files(trustDomain);
  };

  /** Replaces one stream's set; returns the domains it dropped (now untrusted). */
  replace(stream: BundleStream, update: X509Update | JwtUpdate): string[] {
    const before = new Set(this.#merged.keys());
    if (stream === 'x509') this.#x509 = update as X509Update;
    else this.#jwt = update as JwtUpdate;
    this.#merged = this.#merge();
    for (const domain of this.#merged.keys()) this.#carried.add(domain);
    return [...before].filter((domain) => !this.#merged.has(domain));
  }

  /** Domains the streams carry now, sorted (for logs and `/policy`). */
  get trustDomains(): string[] {
    return [...this.#merged.keys()].sort();
  }

  #merge(): Map<string, BundleState> {
    const domains = new Set([...(this.#x509?.keys() ?? []), ...(this.#jwt?.keys() ?? [])]);
    const merged = new Map<string, BundleState>();
    for (const domain of domains) merged.set(domain, Object.freeze({ bundle: this.#bundleOf(domain) }));
    return merged;
  }

  #bundleOf(domain: string): SpiffeBundle {
    const jwt = this.#jwt?.get(domain);
    return Object.freeze({
      ...(jwt?.sequence === undefined ? {} : { sequence: jwt.sequence }),
      x509Authorities: this.#x509?.get(domain) ?? NO_X509_ROOTS,
      jwtAuthorities: jwt?.jwtAuthorities ?? NO_JWT_KEYS,
      x509KeyIds: new Set<string>(),
      ignoredKeys: jwt?.ignoredKeys ?? 0,
    });
  }
}
