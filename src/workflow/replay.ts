/**
 * A decision log line → the request to evaluate again. The log keeps what the decision
 * turned on most often (caller, destination, method, path, host, chosen headers), not
 * everything: claims and unlogged headers are absent, so policies that read them may decide
 * differently on replay. The destination service is pinned with context_extensions.service,
 * as the server resolved it; the namespace is inferred from a Kubernetes host
 * (`svc.ns.svc…`), the only place a line carries it.
 */
import {
  tryParseSpiffeId,
  CanonicalizationError,
  canonicalizePath,
  type AccessRequest,
  type EndUser,
  type Subject,
} from '../domain/index.js';
import type { DecisionRecord } from './decision-log-reader.js';

export interface Replayed {
  readonly request: AccessRequest;
  readonly subject: Subject;
}

export function replayRequest(record: DecisionRecord): Replayed {
  const extensions = new Map([['service', record.destination]]);
  const namespace = kubernetesNamespace(record.host);
  if (namespace !== undefined) extensions.set('namespace', namespace);
  const request: AccessRequest = {
    kind: 'http',
    requestId: `replay-line-${record.line}`,
    method: record.method.toUpperCase(),
    path: canonical(record.path),
    rawPath: record.path,
    query: '',
    host: record.host ?? '',
    scheme: '',
    protocol: '',
    headers: new Map(Object.entries(record.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value])),
    source: record.sourcePrincipal === undefined ? {} : { principal: record.sourcePrincipal },
    destination: {},
    contextExtensions: extensions,
    sni: '',
    filterMetadata: {},
  };
  return { request, subject: subjectOf(record) };
}

function subjectOf(record: DecisionRecord): Subject {
  const workload = record.sourcePrincipal === undefined ? undefined : tryParseSpiffeId(record.sourcePrincipal);
  const user = record.requestPrincipal === undefined ? undefined : endUser(record.requestPrincipal);
  return { ...(workload ? { workload, workloadEvidence: 'mtls-principal' as const } : {}), ...(user ? { user } : {}) };
}

/** `iss/sub` as Istio writes it; the subject is the part after the last slash. */
function endUser(principal: string): EndUser {
  const slash = principal.lastIndexOf('/');
  const issuer = slash < 0 ? principal : principal.slice(0, slash);
  const subject = slash < 0 ? '' : principal.slice(slash + 1);
  return { principal, issuer, subject, audiences: [], claims: { iss: issuer, sub: subject } };
}

/** Logged paths are canonical already; a line edited by hand is canonicalized, never trusted. */
function canonical(path: string): string {
  try {
    return canonicalizePath(path);
  } catch (error) {
    if (error instanceof CanonicalizationError) return path;
    throw error;
  }
}

const KUBERNETES_HOST = /^[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.|$)/;

function kubernetesNamespace(host: string | undefined): string | undefined {
  return host === undefined ? undefined : KUBERNETES_HOST.exec(host)?.[1];
}
