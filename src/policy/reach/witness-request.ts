/**
 * The values a witness search chose, as a request: the request file form (`explain`, test
 * cases) and the AccessRequest and Subject the engine sees, built alike so the two agree.
 */
import { tryParseSpiffeId, type AccessRequest, type EndUser, type Subject } from '../../domain/index.js';
import { serviceOf } from './scope.js';
import type { ReachDestination, WitnessRequest, WitnessUser } from './types.js';

type Value = string | undefined;

interface Built {
  readonly spec: WitnessRequest;
  readonly user?: WitnessUser;
  readonly subject: Subject;
  readonly request: AccessRequest;
}

const HEADER = /^request\.headers\[(.+)\]$/;
const CLAIM = 'request.auth.claims';
const BODY = 'request.body.json';

/** The chosen values as a request file (spec) and as the engine sees it; undefined when they cannot make one. */
export function buildRequest(draft: ReadonlyMap<string, Value>, destination: ReachDestination): Built | undefined {
  const get = (attribute: string) => draft.get(attribute);
  const principal = get('source.principal');
  const workload = principal === undefined ? undefined : tryParseSpiffeId(principal);
  const headers: Record<string, string> = {};
  const claims: Record<string, unknown> = {};
  const body: Record<string, unknown> = {};
  for (const [attribute, value] of draft) {
    if (value === undefined) continue;
    const header = HEADER.exec(attribute);
    if (header) headers[header[1]!] = value;
    else if (attribute.startsWith(CLAIM)) setPath(claims, bracketPath(attribute, CLAIM), value);
    else if (attribute.startsWith(BODY)) setPath(body, bracketPath(attribute, BODY), value);
  }
  const hasBody = Object.keys(body).length > 0;
  if (hasBody && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  const user = endUser(get('request.auth.principal'), get('request.auth.audiences'), claims);
  const port = get('destination.port');
  const contextExtensions = { service: serviceOf(destination), ...(destination.namespace ? { namespace: destination.namespace } : {}), ...(destination.labels ?? {}) };
  const spec: WitnessRequest = {
    method: get('method')!,
    path: get('path')!,
    host: (get('host') ?? serviceOf(destination)).toLowerCase(),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(hasBody ? { body } : {}),
    source: { ...(principal ? { principal } : {}), ...(get('source.ip') ? { address: get('source.ip')! } : {}) },
    ...(port !== undefined || get('destination.ip') !== undefined
      ? { destination: { ...(get('destination.ip') ? { address: get('destination.ip')! } : {}), ...(port !== undefined ? { port: Number(port) } : {}) } }
      : {}),
    contextExtensions,
    ...(get('connection.sni') ? { sni: get('connection.sni')! } : {}),
  };
  if (principal !== undefined && workload === undefined) return undefined;
  const subject: Subject = { ...(workload ? { workload, workloadEvidence: 'mtls-principal' as const } : {}), ...(user ? { user: user.engine } : {}) };
  return { spec, ...(user ? { user: user.spec } : {}), subject, request: accessRequest(spec, hasBody ? JSON.stringify(body) : undefined) };
}

function endUser(principal: Value, audience: Value, claims: Record<string, unknown>): { spec: WitnessUser; engine: EndUser } | undefined {
  if (principal === undefined && audience === undefined && Object.keys(claims).length === 0) return undefined;
  const full = principal ?? 'https://witness.example/witness';
  const slash = full.lastIndexOf('/');
  const [issuer, subject] = slash > 0 ? [full.slice(0, slash), full.slice(slash + 1)] : [full, ''];
  const audiences = audience === undefined ? [] : [audience];
  const spec: WitnessUser = { issuer, subject, ...(audiences.length ? { audiences } : {}), ...(Object.keys(claims).length ? { claims } : {}) };
  return { spec, engine: { principal: full, issuer, subject, audiences, claims: { iss: issuer, sub: subject, ...claims } } };
}

function accessRequest(spec: WitnessRequest, body: string | undefined): AccessRequest {
  return {
    kind: 'http',
    requestId: 'reach-witness',
    method: spec.method,
    path: spec.path,
    rawPath: spec.path,
    query: '',
    host: spec.host ?? '',
    scheme: 'http',
    protocol: 'HTTP/1.1',
    headers: new Map(Object.entries(spec.headers ?? {})),
    source: { ...(spec.source?.address ? { address: spec.source.address } : {}), ...(spec.source?.principal ? { principal: spec.source.principal } : {}) },
    destination: { ...(spec.destination?.address ? { address: spec.destination.address } : {}), ...(spec.destination?.port !== undefined ? { port: spec.destination.port } : {}) },
    contextExtensions: new Map(Object.entries(spec.contextExtensions ?? {})),
    sni: spec.sni ?? '',
    filterMetadata: {},
    ...(body === undefined ? {} : { body: new TextEncoder().encode(body) }),
  };
}

function bracketPath(attribute: string, prefix: string): string[] {
  return attribute.slice(prefix.length + 1, -1).split('][');
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: string): void {
  let at = target;
  for (const name of path.slice(0, -1)) {
    const next = at[name];
    at = (typeof next === 'object' && next !== null ? next : (at[name] = {})) as Record<string, unknown>;
  }
  at[path.at(-1)!] = value;
}
