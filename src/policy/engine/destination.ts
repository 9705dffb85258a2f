/**
 * Which service and namespace a request is for (DESIGN: context_extensions, then the
 * destination SPIFFE ID, then the host). A connection has no host, and Envoy's network filter
 * sends no context_extensions: its service is the destination SPIFFE ID's service account,
 * else its destination port (as text, e.g. `6379`), else its SNI. Pure; shared by the tree,
 * the reference evaluator, decision keys and telemetry so all of them see one destination.
 *
 * A Check resolves its destination once: the pipeline asks its DestinationResolver (built with
 * a memo of parsed destination principals, sized by whoever builds the pipeline) and hands
 * the answer to the decision key, the tree and telemetry. Whoever is not handed one (explain,
 * the reference evaluator, offline tools) resolves it afresh with resolveDestination, without
 * a memo.
 */
import { spiffeNamespace, tryParseSpiffeId, type AccessRequest, type SpiffeId } from '../../domain/index.js';
import { BoundedMemo, DEFAULT_MEMO_SIZE } from '../../lib/index.js';

export interface Destination {
  readonly service?: string;
  readonly namespace?: string;
}

/** Remembered parses of destination principals; `false`: not a SPIFFE ID (remembered too). */
export type DestinationIdMemo = BoundedMemo<SpiffeId | false>;

interface DestinationSlots {
  service: string | undefined;
  namespace: string | undefined;
}

type IdOf = (principal: string) => SpiffeId | undefined;

const NOWHERE: Destination = Object.freeze({});

/** The pipeline's resolver: one resolution per Check, its principal parses remembered in `ids`. */
export class DestinationResolver {
  readonly #idOf: IdOf;

  constructor(ids: DestinationIdMemo = new BoundedMemo(DEFAULT_MEMO_SIZE)) {
    this.#idOf = (principal) => (principal.length > MAX_ID_LENGTH ? undefined : ids.get(principal, parsedOrFalse) || undefined);
  }

  resolve(request: AccessRequest): Destination {
    return frozen(resolveWith(request, { service: undefined, namespace: undefined }, this.#idOf));
  }
}

export function resolveDestination(request: AccessRequest): Destination {
  return frozen(resolveWith(request, { service: undefined, namespace: undefined }, tryParseSpiffeId));
}

/** The same resolution written into `target`, for the tree's reused context (no allocation). */
export function resolveDestinationInto<T extends DestinationSlots>(request: AccessRequest, target: T): T {
  return resolveWith(request, target, tryParseSpiffeId);
}

function resolveWith<T extends DestinationSlots>(request: AccessRequest, target: T, idOf: IdOf): T {
  const extensions = request.contextExtensions;
  const service = nonEmpty(extensions.get('service'));
  const namespace = nonEmpty(extensions.get('namespace'));
  // The destination ID is parsed only when context_extensions leave something to find.
  const principal = service === undefined || namespace === undefined ? request.destination.principal : undefined;
  const id = principal ? idOf(principal) : undefined;
  target.service = service ?? serviceAccount(id) ?? (request.kind === 'connection' ? connectionName(request) : nonEmpty(request.host));
  target.namespace = namespace ?? (id && spiffeNamespace(id));
  return target;
}

/** Where a connection goes when its destination has no SPIFFE ID to name it: the port, else the SNI. */
function connectionName(request: AccessRequest): string | undefined {
  const port = request.destination.port;
  return port === undefined ? nonEmpty(request.sni) : String(port);
}

function frozen({ service, namespace }: DestinationSlots): Destination {
  if (service === undefined) return namespace === undefined ? NOWHERE : Object.freeze({ namespace });
  return Object.freeze(namespace === undefined ? { service } : { service, namespace });
}

/** Longer than any SPIFFE ID: never parsed into the memo, so no client can fill it with big keys. */
const MAX_ID_LENGTH = 2048;

function parsedOrFalse(principal: string): SpiffeId | false {
  return tryParseSpiffeId(principal) ?? false;
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
