/**
 * CheckResponse → the answer of Envoy's HTTP ext_authz service. The one CheckResponse the
 * pipeline made (`toCheckResponse`) is re-encoded the way Envoy's HTTP client reads it back:
 * 200 is OK, and its headers go upstream where `allowed_upstream_headers` names them, the
 * headers to remove listed in `x-envoy-auth-headers-to-remove`; any other status is the denied
 * response, handed to the client with its body and the headers `allowed_client_headers` names.
 * So the denied body and headers are the gRPC service's, byte for byte. Dynamic metadata has no
 * place in this protocol that a client could not read, and is left out.
 */
import type { CheckResponseMessage, HeaderValueOptionMessage } from './wire-messages.js';

export interface HttpServiceAnswer {
  readonly status: number;
  /** Lower-case header names and their values, for `writeHead`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Envoy's HTTP client reads this response header as a comma-separated list of request headers to remove. */
export const HEADERS_TO_REMOVE_HEADER = 'x-envoy-auth-headers-to-remove';

const OK = 0;
const FORBIDDEN = 403;

export function toHttpServiceAnswer(response: CheckResponseMessage): HttpServiceAnswer {
  if (response.status.code === OK && response.okResponse !== undefined) {
    const headers = headerRecord(response.okResponse.headers);
    const remove = response.okResponse.headersToRemove;
    if (remove.length > 0) headers[HEADERS_TO_REMOVE_HEADER] = remove.join(',');
    return { status: 200, headers, body: '' };
  }
  const denied = response.deniedResponse;
  return { status: deniedStatus(denied?.status.code), headers: headerRecord(denied?.headers ?? []), body: denied?.body ?? '' };
}

/**
 * Envoy lets the request through on 200 only, and treats a 5xx as a failure of the service
 * (answered by `status_on_error`, our body lost): a denial is always a 4xx, 403 when it says
 * nothing else.
 */
function deniedStatus(code: number | undefined): number {
  return code !== undefined && code >= 400 && code < 500 ? code : FORBIDDEN;
}

function headerRecord(options: readonly HeaderValueOptionMessage[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const { header } of options) out[header.key] = header.value;
  return out;
}
