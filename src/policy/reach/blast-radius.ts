/**
 * What a compromised workload can call, transitively: the destinations its identity reaches,
 * then what each of those workloads reaches in turn, to `depth` hops. A destination's own
 * identity is taken as the mesh names it: a principal some policy writes for that service
 * account (`.../sa/SERVICE`), else `spiffe://TD/ns/NS/sa/SERVICE` when its namespace is known
 * (Istio: a service runs as the service account of its name); a destination with neither ends
 * the walk there (`unknownIdentity`).
 */
import { tryParseSpiffeId } from '../../domain/index.js';
import { callerClauses } from './caller.js';
import type { Reach } from './compute-reach.js';
import { destinationKey } from './scope.js';
import type { ReachDestination, ReachEntry } from './types.js';

export interface BlastHop {
  /** The calling identity. */
  readonly from: string;
  readonly to: ReachDestination;
  /** 1 for what the compromised workload calls itself. */
  readonly depth: number;
  /** The identity the destination runs as, when known: where the next hop starts. */
  readonly toIdentity?: string;
  readonly entries: readonly ReachEntry[];
}

export interface BlastRadius {
  readonly start: string;
  readonly depth: number;
  readonly hops: readonly BlastHop[];
  /** Destinations reached whose identity could not be told: the walk stopped there. */
  readonly unknownIdentity: readonly ReachDestination[];
}

export function blastRadius(reach: Reach, start: string, depth: number): BlastRadius {
  const identities = principalsBySa(reach);
  const trustDomain = tryParseSpiffeId(start)?.trustDomain ?? 'cluster.local';
  const hops: BlastHop[] = [];
  const unknown = new Map<string, ReachDestination>();
  const visited = new Set([start]);
  let frontier = [start];
  for (let level = 1; level <= depth && frontier.length > 0; level += 1) {
    const next: string[] = [];
    for (const from of frontier) {
      for (const destination of reach.destinations()) {
        const { entries } = reach.entries(destination, callerClauses(from));
        if (entries.length === 0) continue;
        const toIdentity = identityOf(destination, identities, trustDomain);
        hops.push({ from, to: destination, depth: level, ...(toIdentity ? { toIdentity } : {}), entries });
        if (toIdentity === undefined) unknown.set(destinationKey(destination), destination);
        else if (!visited.has(toIdentity)) {
          visited.add(toIdentity);
          next.push(toIdentity);
        }
      }
    }
    frontier = next;
  }
  return { start, depth, hops, unknownIdentity: [...unknown.values()] };
}

/** Exact principals written in any policy, by service account name. */
function principalsBySa(reach: Reach): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const visit = (p: string) => {
    const id = p.includes('*') ? undefined : tryParseSpiffeId(p.startsWith('spiffe://') ? p : `spiffe://${p}`);
    const sa = id?.path.match(/\/sa\/([^/]+)$/)?.[1];
    if (id === undefined || sa === undefined) return;
    const list = out.get(sa) ?? [];
    if (!list.includes(id.uri)) list.push(id.uri);
    out.set(sa, list);
  };
  for (const policy of reach.input.policies) {
    for (const rule of policy.rules) for (const source of rule.from ?? []) for (const p of [...(source.principals ?? []), ...(source.notPrincipals ?? [])]) visit(p);
  }
  return out;
}

function identityOf(destination: ReachDestination, identities: Map<string, string[]>, trustDomain: string): string | undefined {
  if (destination.service === undefined) return undefined;
  const written = identities.get(destination.service) ?? [];
  const inNamespace = written.find((p) => destination.namespace === undefined || p.includes(`/ns/${destination.namespace}/`));
  if (inNamespace !== undefined) return inNamespace;
  return destination.namespace === undefined ? undefined : `spiffe://${trustDomain}/ns/${destination.namespace}/sa/${destination.service}`;
}
