/**
 * Which enforced policies apply to a destination, as the engine scopes them (services,
 * Istio namespace, selector with its safe side), and the destinations worth asking about:
 * every one a policy names, plus a stand-in for every service no policy names.
 * Policies are filed by exact service once, so asking for one destination of a
 * 100,000-rule set does not walk every policy.
 */
import type { EngineOptions, Policy } from '../model.js';
import { instances, patternMatches } from './pattern.js';
import type { ReachDestination } from './types.js';

/** The service name a witness uses for the stand-in destination. */
export const OTHER_SERVICE = 'reach-other-service';

export class ScopeIndex {
  readonly #byService = new Map<string, Policy[]>();
  readonly #general: Policy[] = [];

  constructor(
    readonly policies: readonly Policy[],
    readonly options: EngineOptions,
  ) {
    for (const policy of policies) {
      // Dry-run policies are never enforced; AUDIT only marks decisions.
      if (policy.mode !== 'enforce' || policy.action === 'AUDIT') continue;
      const services = policy.scope.services ?? [];
      if (services.length === 0 || services.some((s) => s.includes('*'))) this.#general.push(policy);
      else for (const service of new Set(services)) this.#filed(service).push(policy);
    }
  }

  /** The enforced ALLOW and DENY policies that apply to `destination`, in the engine's order (by id). */
  applicable(destination: ReachDestination): readonly Policy[] {
    const service = serviceOf(destination);
    const candidates = [...(this.#byService.get(service) ?? []), ...this.#general];
    return candidates.filter((p) => this.#applies(p, destination, service)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Every destination a policy names, then a stand-in per namespace and one for the rest. */
  knownDestinations(): readonly ReachDestination[] {
    const seen = new Map<string, ReachDestination>();
    const add = (d: ReachDestination) => seen.set(destinationKey(d), d);
    for (const policy of this.policies) {
      const namespace = this.#scopedNamespace(policy);
      const labels = policy.scope.selector;
      const base = { ...(namespace === undefined ? {} : { namespace }), ...(labels && Object.keys(labels).length > 0 ? { labels } : {}) };
      const services = policy.scope.services ?? [];
      for (const service of services.flatMap((s) => instances('string', s))) add({ ...base, service });
      if (services.length === 0) add({ ...base, other: true });
    }
    add({ other: true });
    return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
  }

  #filed(service: string): Policy[] {
    let list = this.#byService.get(service);
    if (list === undefined) this.#byService.set(service, (list = []));
    return list;
  }

  #scopedNamespace(policy: Policy): string | undefined {
    const namespace = policy.scope.namespace;
    return namespace === undefined || namespace === this.options.rootNamespace ? undefined : namespace;
  }

  #applies(policy: Policy, destination: ReachDestination, service: string): boolean {
    const services = policy.scope.services ?? [];
    if (services.length > 0 && !services.some((s) => patternMatches('string', s, service))) return false;
    const namespace = this.#scopedNamespace(policy);
    if (namespace !== undefined && destination.namespace !== namespace) return false;
    return selectorApplies(policy, destination.labels ?? {});
  }
}

/** As the engine: none of its labels on the request → only a DENY applies; some → all must be equal. */
function selectorApplies(policy: Policy, labels: Readonly<Record<string, string>>): boolean {
  const selector = Object.entries(policy.scope.selector ?? {});
  if (selector.length === 0) return true;
  if (!selector.some(([key]) => Object.hasOwn(labels, key))) return policy.action === 'DENY';
  return selector.every(([key, value]) => labels[key] === value);
}

export function serviceOf(destination: ReachDestination): string {
  return destination.service ?? OTHER_SERVICE;
}

export function destinationKey(d: ReachDestination): string {
  const labels = Object.entries(d.labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
  return `${d.namespace ?? ''}/${d.service ?? '*'}${labels === '' ? '' : `{${labels}}`}`;
}

/** How a destination reads in tables and graphs: `ns/service`, `ns/*` for the stand-in. */
export function destinationLabel(d: ReachDestination): string {
  const name = d.service ?? (d.other ? '(any other service)' : '*');
  const labels = Object.entries(d.labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
  return `${d.namespace === undefined ? '' : `${d.namespace}/`}${name}${labels === '' ? '' : ` {${labels}}`}`;
}
