/**
 * Request attributes as the reference evaluator reads them: every attribute a list of
 * strings, undefined when absent. Deliberately naive: recomputed on every read.
 */
import { spiffeNamespace, assertNever, type AccessRequest, type Subject } from '../../../domain/index.js';
import { claimValues, type ConditionKey } from '../matchers/condition-key.js';

export type Fact =
  | 'source.principal'
  | 'source.namespace'
  | 'request.auth.principal'
  | 'source.ip'
  | 'host'
  | 'destination.port'
  | 'method'
  | 'path';

export interface Facts {
  readonly subject: Subject;
  readonly request: AccessRequest;
  /** EngineOptions.maxBodyBytes, as the tree is compiled with. */
  readonly maxBodyBytes?: number;
}

export function factValues(facts: Facts, fact: Fact): readonly string[] | undefined {
  const { subject, request } = facts;
  switch (fact) {
    case 'source.principal': return one(subject.workload?.uri);
    case 'source.namespace': return one(subject.workload && spiffeNamespace(subject.workload));
    case 'request.auth.principal': return one(subject.user?.principal);
    case 'source.ip': return one(request.source.address);
    case 'host': return one(request.host);
    case 'destination.port': return one(request.destination.port?.toString());
    case 'method': return [request.method];
    case 'path': return [request.path];
    default: return assertNever(fact, 'fact');
  }
}

/** Body fields are not values alone: checkBodyCondition reads them. */
export function conditionValues(facts: Facts, key: Exclude<ConditionKey, { kind: 'body' }>): readonly string[] | undefined {
  const { subject, request } = facts;
  switch (key.kind) {
    case 'header': {
      const value = request.headers.get(key.name);
      return value === undefined ? undefined : [value];
    }
    case 'claim': return subject.user && claimValues(subject.user.claims, key.path);
    case 'source.ip':
    case 'remote.ip': return factValues(facts, 'source.ip');
    case 'source.namespace':
    case 'source.principal':
    case 'request.auth.principal': return factValues(facts, key.kind);
    case 'request.auth.audiences': return subject.user?.audiences;
    case 'request.auth.presenter': return one(subject.user?.presenter);
    case 'destination.ip': return one(request.destination.address);
    case 'destination.port': return factValues(facts, 'destination.port');
    case 'connection.sni': return one(request.sni);
    default: return assertNever(key, 'condition key');
  }
}

/** An empty string counts as absent (an empty principal, host or SNI names nothing). */
function one(value: string | undefined): readonly string[] | undefined {
  return value === undefined || value === '' ? undefined : [value];
}
