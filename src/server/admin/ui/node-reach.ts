/**
 * A node's reach for the live map: what the policy in service allows from a caller, or to a
 * destination, computed by `computeReach` (policy/reach) on the engine's semantics. The answer
 * keeps who may call whom, the methods and path patterns, and the rule names; it leaves out
 * condition values and witness requests (headers, claims and IPs a rule compares are policy
 * text that may hold secrets), saying only how many conditions are left.
 */
import { computeReach, destinationLabel, Reach, type CallerClass, type Clause, type PolicySnapshot, type ReachEntry, type ReachQuery } from '../../../policy/index.js';

export type ReachSide = 'caller' | 'destination';

export interface NodeReach {
  readonly node: string;
  readonly as: ReachSide;
  readonly generation: number;
  readonly entries: readonly PeerReach[];
  /** Entries no request was found the engine allows (several DENYs may cover them together). */
  readonly unproven: number;
}

export interface PeerReach {
  /** For a caller, the destination reached (a service, or `(any other service)`); for a destination, the caller class. */
  readonly peer: { readonly kind: 'service'; readonly service?: string; readonly label: string } | CallerClass;
  readonly methods?: readonly string[] | { readonly except: readonly string[] };
  readonly paths?: readonly string[] | { readonly except: readonly string[] };
  /** How many other constraints (headers, claims, IPs, body) the requests must meet. */
  readonly conditions: number;
  /** `payments-api rules[0]`, or `default action` when no ALLOW applies and the default allows. */
  readonly allowedBy: string;
  /** DENY rules that cut into this entry, by name. */
  readonly unless: readonly string[];
}

/** One Reach per snapshot: its scope index is built once, whatever number of clicks. */
const indexes = new WeakMap<PolicySnapshot, Reach>();

export function nodeReach(snapshot: PolicySnapshot, node: string, as: ReachSide): NodeReach {
  let reach = indexes.get(snapshot);
  if (reach === undefined) indexes.set(snapshot, (reach = new Reach(snapshot)));
  const report = computeReach(reach, queryFor(node, as));
  const entries = report.entries.map((entry) => peerReach(entry, as));
  return { node, as, generation: snapshot.generation, entries, unproven: report.unproven.length };
}

/** The flow graph names a caller with no identity `unknown`: reach asks for an unauthenticated caller then. */
function queryFor(node: string, as: ReachSide): ReachQuery {
  if (as === 'destination') return { destination: { service: node } };
  return node.startsWith('spiffe://') ? { caller: { principal: node } } : { caller: {} };
}

function peerReach(entry: ReachEntry, as: ReachSide): PeerReach {
  const destination = entry.destination;
  const peer: PeerReach['peer'] = as === 'caller'
    ? { kind: 'service', ...(destination.service === undefined ? {} : { service: destination.service }), label: destinationLabel(destination) }
    : entry.caller;
  const methods = operation(entry.methods);
  const paths = operation(entry.paths);
  return {
    peer,
    ...(methods === undefined ? {} : { methods }),
    ...(paths === undefined ? {} : { paths }),
    conditions: entry.conditions.length,
    allowedBy: entry.allowedBy === undefined ? 'default action' : `${entry.allowedBy.policy} rules[${entry.allowedBy.rule ?? '?'}]`,
    unless: entry.unless.map((unless) => `${unless.rule.policy} rules[${unless.rule.rule ?? '?'}]`),
  };
}

function operation(clause: Clause | undefined): PeerReach['methods'] {
  if (clause === undefined) return undefined;
  return clause.values ?? { except: clause.notValues ?? [] };
}
