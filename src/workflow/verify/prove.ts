/**
 * Proving segment invariants with reach: each invariant is a question reach answers for every
 * destination it concerns, with the invariant's own clauses added (the caller is in guest; the
 * caller is none of the allowed ones and the request is a POST on /v1/charges/*). No entry left:
 * proven. An entry with a witness: refuted, and the witness is the counterexample, a request the
 * enforcing engine allows. Only unproven entries left: undecided (reported as a failure).
 */
import { callerClauses, destinationLabel, normalizeCaller, OTHER_SERVICE, type Clause, type Reach, type ReachDestination, type ReachEntry, type WitnessRequest } from '../../policy/index.js';
import type { CallerSelector, DestinationSelector, Invariant } from './invariants-file.js';

export type Verdict = 'proven' | 'refuted' | 'undecided';

export interface InvariantResult {
  readonly invariant: Invariant;
  readonly verdict: Verdict;
  /** How many destinations were examined. */
  readonly destinations: number;
  /** What refutes it: an allowed entry with its witness, or (everyDestinationCovered) a destination. */
  readonly counterexample?: Counterexample;
  /** For undecided: entries no request was found for. */
  readonly unproven?: readonly ReachEntry[];
}

export interface Counterexample {
  readonly destination: ReachDestination;
  /** The allowed entry (its witness is the request); absent for everyDestinationCovered. */
  readonly entry?: ReachEntry;
  /** The request that shows it, as `explain` and test cases read one. */
  readonly request: WitnessRequest;
  readonly why: string;
}

export function proveInvariants(reach: Reach, invariants: readonly Invariant[]): InvariantResult[] {
  return invariants.map((invariant) => prove(reach, invariant));
}

function prove(reach: Reach, invariant: Invariant): InvariantResult {
  switch (invariant.kind) {
    case 'isolate':
      return search(reach, invariant, destinationsIn(reach, invariant.to), callerIs(invariant.from), (who, to, call) => `${who} reaches ${to}: ${call} is allowed`);
    case 'only':
      return search(reach, invariant, invariant.on ? [invariant.on] : reach.destinations(), [...notCallers(invariant.callers), ...operation(invariant.methods, invariant.paths)], (who, to, call) => `${who}, none of the callers named, may ${call} on ${to}`);
    case 'noUnauthenticated':
      return search(reach, invariant, destinationsIn(reach, invariant.to), callerClauses(undefined), (who, to, call) => `${who} may ${call} on ${to}`);
    case 'everyDestinationCovered':
      return covered(reach, invariant, destinationsIn(reach, invariant.to));
  }
}

/** How a counterexample reads: who, the destination, and the call (`GET /metrics`). */
type Why = (who: string, destination: string, call: string) => string;

function search(reach: Reach, invariant: Invariant, destinations: readonly ReachDestination[], extra: readonly Clause[], why: Why): InvariantResult {
  const unproven: ReachEntry[] = [];
  for (const destination of destinations) {
    const lists = reach.entries(destination, extra);
    const entry = lists.entries[0];
    if (entry !== undefined) {
      const request = entry.witness!.request;
      const who = request.source?.principal ?? 'a caller without any identity';
      const counterexample = { destination, entry, request, why: why(who, destinationLabel(destination), `${request.method} ${request.path}`) };
      return { invariant, verdict: 'refuted', destinations: destinations.length, counterexample };
    }
    unproven.push(...lists.unproven);
  }
  if (unproven.length > 0) return { invariant, verdict: 'undecided', destinations: destinations.length, unproven };
  return { invariant, verdict: 'proven', destinations: destinations.length };
}

function covered(reach: Reach, invariant: Invariant, destinations: readonly ReachDestination[]): InvariantResult {
  for (const destination of destinations) {
    if (reach.applicable(destination).some((p) => p.action === 'ALLOW')) continue;
    const why = `no enforced ALLOW policy applies to ${destinationLabel(destination)}: the default action decides every request to it`;
    return { invariant, verdict: 'refuted', destinations: destinations.length, counterexample: { destination, request: plainRequest(destination), why } };
  }
  return { invariant, verdict: 'proven', destinations: destinations.length };
}

/** Any request to the destination: explain shows that no ALLOW policy applies to it. */
function plainRequest(destination: ReachDestination): WitnessRequest {
  const service = destination.service ?? OTHER_SERVICE;
  return { method: 'GET', path: '/', host: service, contextExtensions: { service, ...(destination.namespace ? { namespace: destination.namespace } : {}), ...(destination.labels ?? {}) } };
}

/**
 * The destinations a selector means: every service a policy names, and a stand-in for every
 * service none names, placed in the selector's namespace (a native policy's service can run in
 * any namespace), with the selector labels policies there use.
 */
export function destinationsIn(reach: Reach, selector: DestinationSelector): ReachDestination[] {
  const { namespace, service } = selector;
  const known = reach.destinations().filter((d) => (namespace === undefined || d.namespace === undefined || d.namespace === namespace) && (service === undefined || d.service === service));
  const placed = known.map((d) => withNamespace(d, namespace));
  if (service === undefined) placed.push({ ...(namespace ? { namespace } : {}), other: true });
  else placed.push({ service, ...(namespace ? { namespace } : {}) });
  const seen = new Map(placed.map((d) => [JSON.stringify(d), d]));
  return [...seen.values()];
}

function withNamespace(d: ReachDestination, namespace: string | undefined): ReachDestination {
  return namespace === undefined || d.namespace !== undefined ? d : { ...d, namespace };
}

function callerIs(selector: CallerSelector): Clause[] {
  if (selector.principal !== undefined) return [{ attribute: 'source.principal', values: [normalizeCaller(selector.principal) ?? selector.principal] }];
  return [{ attribute: 'source.namespace', values: [selector.namespace!] }];
}

/** Not one of the callers: no principal among theirs, and no namespace among theirs (an absent identity is neither). */
function notCallers(callers: readonly CallerSelector[]): Clause[] {
  const principals = callers.flatMap((c) => (c.principal === undefined ? [] : [normalizeCaller(c.principal) ?? c.principal]));
  const namespaces = callers.flatMap((c) => (c.namespace === undefined ? [] : [c.namespace]));
  return [
    ...(principals.length > 0 ? [{ attribute: 'source.principal', notValues: principals }] : []),
    ...(namespaces.length > 0 ? [{ attribute: 'source.namespace', notValues: namespaces }] : []),
  ];
}

function operation(methods: readonly string[] | undefined, paths: readonly string[] | undefined): Clause[] {
  return [...(methods ? [{ attribute: 'method', values: methods }] : []), ...(paths ? [{ attribute: 'path', values: paths }] : [])];
}
