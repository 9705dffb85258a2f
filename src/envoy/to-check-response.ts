/**
 * Decision → CheckResponse: what Envoy does with the request, what the caller is told, and
 * the dynamic metadata Envoy's access log shows (under `envoy.filters.http.ext_authz`, or
 * `envoy.filters.network.ext_authz` for a connection, which is only let on or closed).
 * The caller learns the verdict and its request id only: policy names, rules and reasons
 * go to the metadata and logs, never into the body.
 */
import { assertNever, type AccessRequest, type Decision } from '../domain/index.js';
import { flatJsonToStruct, type FlatJson } from './struct-json.js';
import { VERDICT_STATUS } from './verdict-status.js';
import {
  OVERWRITE_IF_EXISTS_OR_ADD,
  type CheckResponseMessage,
  type HeaderValueOptionMessage,
  type OkHttpResponseMessage,
} from './wire-messages.js';

export const DEFAULT_PRINCIPAL_HEADER = 'x-meshwarden-principal';

export interface ResponseContext {
  readonly request?: AccessRequest;
  /** Used when `request` is absent (a request that could not be read). */
  readonly requestId?: string;
  /** Lower-case name of the upstream header that carries the caller's identity. */
  readonly principalHeader: string;
  /** The caller's SPIFFE ID, when known. */
  readonly subjectPrincipal?: string;
}

export function toCheckResponse(decision: Decision, ctx: ResponseContext): CheckResponseMessage {
  const dynamicMetadata = flatJsonToStruct(decisionMetadata(decision));
  const verdict = decision.verdict;
  // The network filter lets the connection on, or closes it: it has no headers to set and no one to answer.
  if (ctx.request?.kind === 'connection') return { status: { code: VERDICT_STATUS[verdict].grpc }, dynamicMetadata };
  switch (verdict) {
    case 'allow':
      return { status: { code: 0 }, okResponse: okResponse(ctx), dynamicMetadata };
    case 'deny':
    case 'invalid_request':
    case 'unauthenticated':
      return { status: { code: VERDICT_STATUS[verdict].grpc }, deniedResponse: deniedResponse(decision, ctx), dynamicMetadata };
    default:
      return assertNever(verdict, 'verdict');
  }
}

/**
 * Envoy applies `headers` before `headers_to_remove`, so the principal header is either
 * set (overwriting any copy the client sent) or removed (no identity: a client-sent copy
 * must not reach the upstream) — never both, which would remove our own value.
 */
function okResponse(ctx: ResponseContext): OkHttpResponseMessage {
  if (ctx.subjectPrincipal) {
    return { headers: [overwrite(ctx.principalHeader, ctx.subjectPrincipal)], headersToRemove: [] };
  }
  return { headers: [], headersToRemove: [ctx.principalHeader] };
}

/**
 * `append: false` is what every Envoy version honours in ext_authz answers (newer ones
 * read it before `append_action`); `append_action` states the same for newer tooling.
 */
function overwrite(key: string, value: string): HeaderValueOptionMessage {
  return { header: { key, value }, append: { value: false }, appendAction: OVERWRITE_IF_EXISTS_OR_ADD };
}

const JSON_CONTENT_TYPE = overwrite('content-type', 'application/json');
const BEARER_CHALLENGE = overwrite('www-authenticate', 'Bearer error="invalid_token"');

function deniedResponse(decision: Decision, ctx: ResponseContext): CheckResponseMessage['deniedResponse'] {
  const status = VERDICT_STATUS[decision.verdict];
  const requestId = ctx.request?.requestId ?? ctx.requestId ?? '';
  // The Bearer challenge tells a client its token failed; a refused certificate or
  // principal is a transport matter that no Authorization header could fix.
  const headers = decision.reason === 'invalid_token' ? [JSON_CONTENT_TYPE, BEARER_CHALLENGE] : [JSON_CONTENT_TYPE];
  // JSON.stringify escapes the request id, which comes from a client-controlled header.
  const body = JSON.stringify({ error: status.error, request_id: requestId });
  return { status: { code: status.http }, headers, body };
}

/** Flat, so Envoy's `%DYNAMIC_METADATA(envoy.filters.http.ext_authz:policy)%` can read each. */
export function decisionMetadata(decision: Decision): FlatJson {
  return {
    decision: decision.verdict,
    reason: decision.reason,
    policy: decision.by?.policy,
    rule: decision.by?.rule,
    dry_run: decision.dryRun?.verdict,
    dry_run_policy: decision.dryRun?.by?.policy,
    audit: decision.audit !== undefined,
    audit_policy: decision.audit?.policy,
    decision_id: decision.id,
    generation: decision.generation,
  };
}
