/** The shared vocabulary, imported by every layer; it imports nothing. */
export type { AccessRequest, ConnectionAttributes, Peer, RequestKind } from './access-request.js';
export { CONNECTION_METHOD, connectionRequest } from './access-request.js';
export type { SpiffeId } from './spiffe-id.js';
export { spiffeNamespace } from './spiffe-id.js';
export { isTrustDomainName, parseSpiffeId, tryParseSpiffeId, SpiffeIdError, type SpiffeIdErrorCode } from './parse-spiffe-id.js';
export { canonicalizeHost, canonicalizePath, queryOf, CanonicalizationError } from './canonical-path.js';
export type { Subject, EndUser, WorkloadEvidence } from './subject.js';
export { ANONYMOUS } from './subject.js';
export type { Decision, Verdict, ReasonCode, PolicyRef, DryRunOutcome } from './decision.js';
export { REASON_CODES } from './decision.js';
export type { Authorization, TraceIds } from './authorization.js';
export { assertNever } from './assert-never.js';
