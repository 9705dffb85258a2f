/**
 * Which service and namespace a request is for (DESIGN: context_extensions, then the
 * destination SPIFFE ID, then the host). Pure; shared by the tree, the reference
 * evaluator and decision keys so all three see one destination.
 */
import type { AccessRequest } from '../../domain/access-request.js';
import { spiffeNamespace, type SpiffeId } from '../../domain/spiffe-id.js';
import { tryParseSpiffeId } from '../../domain/parse-spiffe-id.js';

export interface Destination {
  readonly service?: string;
  readonly namespace?: string;
}

export function resolveDestination(request: AccessRequest): Destination {
  const { service, namespace } = resolveDestinationInto(request, { service: undefined, namespace: undefined });
  if (service === undefined) return namespace === undefined ? NOWHERE : { namespace };
  return namespace === undefined ? { service } : { service, namespace };
}

/** The same resolution written into `target`, for the tree's reused context (no allocation). */
export function resolveDestinationInto<T extends { service: string | undefined; namespace: string | undefined }>(
  request: AccessRequest,
  target: T,
): T {
  const extensions = request.contextExtensions;
  const service = nonEmpty(extensions.get('service'));
  const namespace = nonEmpty(extensions.get('namespace'));
  // The destination ID is parsed only when context_extensions leave something to find.
  const id = service === undefined || namespace === undefined ? destinationId(request) : undefined;
  target.service = service ?? serviceAccount(id) ?? nonEmpty(request.host);
  target.namespace = namespace ?? (id && spiffeNamespace(id));
  return target;
}

const NOWHERE: Destination = Object.freeze({});

/** Parsed destination principals (null: not a SPIFFE ID); a mesh has few, so bounded and restarted when full. */
const destinationIds = new Map<string, SpiffeId | null>();
const MAX_DESTINATION_IDS = 4096;

function destinationId(request: AccessRequest): SpiffeId | undefined {
  const principal = request.destination.principal;
  if (!principal) return undefined;
  if (principal.length > 2048) return tryParseSpiffeId(principal); // longer than any SPIFFE ID: never kept
  let id = destinationIds.get(principal);
  if (id === undefined) {
    id = tryParseSpiffeId(principal) ?? null;
    if (destinationIds.size >= MAX_DESTINATION_IDS) destinationIds.clear();
    destinationIds.set(principal, id);
  }
  return id ?? undefined;
}

/**
 * Istio's IDs are `/ns/NS/sa/SA`, and a Kubernetes service is usually run by the service
 * account of the same name: SA is the service. Other ID shapes say nothing about it.
 */
function serviceAccount(id: SpiffeId | undefined): string | undefined {
  if (id === undefined) return undefined;
  const segments = id.path.split('/');
  return segments.length === 5 && segments[1] === 'ns' && segments[3] === 'sa' ? segments[4] : undefined;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}
