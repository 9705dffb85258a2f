/**
 * The attributes of one request as matchers read them, with the derived values (source
 * namespace, parsed IPs) computed at most once, on first use. A tree owns one instance
 * and resets it per evaluation (evaluation is synchronous), so evaluating allocates
 * nothing here.
 */
import { spiffeNamespace, ANONYMOUS, type AccessRequest, type Subject } from '../../../domain/index.js';
import type { BodyReader } from '../body/body-reader.js';
import type { BodyRead } from '../body/read-body.js';
import { resolveDestinationInto, type Destination } from '../destination.js';
import { parseRequestAddress, type IpAddress } from './cidr-match.js';

const UNSET = Symbol('unset');

export class MatchContext {
  subject: Subject = ANONYMOUS;
  request: AccessRequest = NO_REQUEST;
  /** The calling workload's SPIFFE ID URI; undefined without one. */
  sourcePrincipal: string | undefined = undefined;
  /** `iss/sub` of the end user; undefined without a verified JWT. */
  requestPrincipal: string | undefined = undefined;
  /** The destination, as resolveDestination resolves it. */
  service: string | undefined = undefined;
  namespace: string | undefined = undefined;
  #sourceNamespace: string | undefined | typeof UNSET = UNSET;
  #sourceIp: IpAddress | undefined | typeof UNSET = UNSET;
  #destinationIp: IpAddress | undefined | typeof UNSET = UNSET;

  /** Set once by a tree whose policies read the body; it reads each request's body once. */
  constructor(readonly bodyReader?: BodyReader) {}

  /** `destination`: the one the Check already resolved; absent, it is resolved here. */
  reset(subject: Subject, request: AccessRequest, destination?: Destination): void {
    this.subject = subject;
    this.request = request;
    this.sourcePrincipal = subject.workload?.uri;
    this.requestPrincipal = subject.user?.principal || undefined;
    if (destination === undefined) resolveDestinationInto(request, this);
    else {
      this.service = destination.service;
      this.namespace = destination.namespace;
    }
    this.#sourceNamespace = this.#sourceIp = this.#destinationIp = UNSET;
  }

  get sourceNamespace(): string | undefined {
    if (this.#sourceNamespace === UNSET) {
      const workload = this.subject.workload;
      this.#sourceNamespace = workload === undefined ? undefined : spiffeNamespace(workload);
    }
    return this.#sourceNamespace;
  }

  /** Also `remote.ip`: meshwarden sees no original client address beyond the peer. */
  get sourceIp(): IpAddress | undefined {
    if (this.#sourceIp === UNSET) this.#sourceIp = parseRequestAddress(this.request.source.address);
    return this.#sourceIp;
  }

  /** The body as `request.body.json[...]` conditions see it; parsed on the first call for a request. */
  body(): BodyRead {
    return this.bodyReader === undefined ? 'no_body' : this.bodyReader.read(this.request);
  }

  get destinationIp(): IpAddress | undefined {
    if (this.#destinationIp === UNSET) this.#destinationIp = parseRequestAddress(this.request.destination.address);
    return this.#destinationIp;
  }
}

// Only until the first reset: a context never matches before it has a request.
const NO_REQUEST: AccessRequest = Object.freeze({
  kind: 'http', requestId: '', method: '', path: '', rawPath: '', query: '', host: '', scheme: '', protocol: '',
  headers: new Map(), source: {}, destination: {}, contextExtensions: new Map(), sni: '', filterMetadata: {},
});
