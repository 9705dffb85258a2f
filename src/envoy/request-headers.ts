/**
 * Reads the request headers of a CheckRequest into one lower-cased map, from whichever
 * form Envoy used: the `headers` map (values already joined) or, under
 * `encode_raw_headers`, the `header_map` list (one entry per header line, values possibly
 * in `raw_value` bytes).
 */
import { InvalidRequestError } from './invalid-request-error.js';
import type { HeaderValueMessage, HttpRequestMessage } from './wire-messages.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function readHeaders(http: HttpRequestMessage): Map<string, string> {
  const list = http.headerMap?.headers;
  if (list && list.length > 0) return fromHeaderMap(list);
  return fromHeadersObject(http.headers);
}

function fromHeadersObject(headers: HttpRequestMessage['headers']): Map<string, string> {
  const out = new Map<string, string>();
  if (!headers) return out;
  for (const name of Object.keys(headers)) {
    addHeader(out, checkedName(name), headers[name] ?? '');
  }
  return out;
}

function fromHeaderMap(list: readonly HeaderValueMessage[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of list) {
    const name = checkedName(entry.key ?? '');
    addHeader(out, name, valueOf(entry, name));
  }
  return out;
}

function checkedName(name: string): string {
  if (name.length === 0) {
    throw new InvalidRequestError('invalid_header', 'request.http.headers', 'header with an empty name');
  }
  return name.toLowerCase();
}

function valueOf(entry: HeaderValueMessage, name: string): string {
  if (entry.value) return entry.value;
  const raw = entry.rawValue;
  if (!raw || raw.length === 0) return '';
  try {
    return utf8.decode(raw);
  } catch {
    throw new InvalidRequestError('invalid_header', `header:${name}`, 'header value is not valid UTF-8');
  }
}

/** Repeated headers are joined as HTTP allows (RFC 9110 §5.3); cookies with "; " (RFC 9113 §8.2.3). */
function addHeader(out: Map<string, string>, name: string, value: string): void {
  const previous = out.get(name);
  if (previous === undefined) out.set(name, value);
  else out.set(name, previous + (name === 'cookie' ? '; ' : ',') + value);
}
