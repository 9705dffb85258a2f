/** Listen addresses of both servers (gRPC and admin): `host:port`, `[v6]:port`, or `unix:/path`. */

export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** Makes the error a server reports for a bad address; each server has its own error type. */
export type AddressErrorFactory = (text: string, message: string) => Error;

const PORT = /^\d{1,5}$/;

const typeError: AddressErrorFactory = (text, message) => new TypeError(`listen address "${text}": ${message}`);

export function parseListenAddress(text: string, invalid: AddressErrorFactory = typeError): ListenAddress {
  if (text.startsWith('unix:')) return unixAddress(text, invalid);
  const colon = text.lastIndexOf(':');
  if (colon <= 0) throw invalid(text, 'expected host:port or unix:/path');
  const host = unbracket(text.slice(0, colon));
  const port = text.slice(colon + 1);
  if (host === '' || (host.includes(':') && !text.startsWith('['))) throw invalid(text, 'write IPv6 hosts in brackets, e.g. [::1]:9901');
  if (!PORT.test(port) || Number(port) > 65535) throw invalid(text, `port must be 0..65535, got ${JSON.stringify(port)}`);
  return { kind: 'tcp', host, port: Number(port) };
}

/** The address as text again, e.g. with the port the OS picked for `:0`. */
export function formatListenAddress(address: ListenAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function unixAddress(text: string, invalid: AddressErrorFactory): ListenAddress {
  const path = text.slice('unix:'.length);
  if (!path.startsWith('/')) throw invalid(text, 'unix socket path must be absolute');
  return { kind: 'unix', path };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
