/**
 * The attributes of one request as matchers read them: built once per evaluation, with
 * the derived values (source namespace, parsed IPs) computed at most once, on first use.
 */
import type { AccessRequest } from '../../../domain/access-request.js';
import { spiffeNamespace } from '../../../domain/spiffe-id.js';
import type { Subject } from '../../../domain/subject.js';
import type { Destination } from '../destination.js';
import { parseRequestAddress, type IpAddress } from './cidr-match.js';

const UNSET = Symbol('unset');

export class MatchContext {
  /** The calling workload's SPIFFE ID URI; undefined without one. */
  readonly sourcePrincipal: string | undefined;
  /** `iss/sub` of the end user; undefined without a verified JWT. */
  readonly requestPrincipal: string | undefined;
  #sourceNamespace: string | undefined | typeof UNSET = UNSET;
  #sourceIp: IpAddress | undefined | typeof UNSET = UNSET;
  #destinationIp: IpAddress | undefined | typeof UNSET = UNSET;

  constructor(
    readonly subject: Subject,
    readonly request: AccessRequest,
    readonly destination: Destination,
  ) {
    this.sourcePrincipal = subject.workload?.uri;
    this.requestPrincipal = subject.user?.principal || undefined;
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

  get destinationIp(): IpAddress | undefined {
    if (this.#destinationIp === UNSET) this.#destinationIp = parseRequestAddress(this.request.destination.address);
    return this.#destinationIp;
  }
}
