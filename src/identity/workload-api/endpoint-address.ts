/**
 * The address of the SPIFFE Workload API as the Workload Endpoint spec writes it (section 4,
 * the form of SPIFFE_ENDPOINT_SOCKET): `unix:/path` or `unix:///path`, or `tcp://IP:PORT` with
 * an IP literal (v4, or v6 in brackets) and nothing else, since the agent would tell callers
 * apart by their source address and a DNS name could move it elsewhere. Parsed once at start
 * into the grpc-js target that dials it.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type WorkloadApiEndpoint =
  | { readonly transport: 'unix'; readonly target: string }
  | { readonly transport: 'tcp'; readonly ip: string; readonly port: number; readonly target: string };

export const WORKLOAD_API_ADDRESS_FORMS = 'unix:/path, unix:///path or tcp://IP:PORT';

/** Misused options: a TypeError naming `field` and the value (truncated), as every start-up check does. */
export function parseWorkloadApiEndpoint(address: string, field: string): WorkloadApiEndpoint {
  const refuse = (why: string): never => {
    throw new TypeError(`${field}: ${JSON.stringify(address.slice(0, 200))} is not a Workload API address (${why}); expected ${WORKLOAD_API_ADDRESS_FORMS}`);
  };
  if (address.startsWith('unix:')) return unixEndpoint(address, refuse);
  if (address.startsWith('tcp:')) return tcpEndpoint(address.slice('tcp:'.length), refuse);
  return refuse(address === '' ? 'it is empty' : 'the scheme must be unix or tcp');
}

/** The grpc-js target of an address parseWorkloadApiEndpoint accepted (the streams dial it). */
export function workloadApiTarget(address: string): string {
  return parseWorkloadApiEndpoint(address, 'identity.workloadApi.socket').target;
}

const UNIX_PATH = /^unix:(\/\/)?\/[^\0]+$/;

function unixEndpoint(address: string, refuse: (why: string) => never): WorkloadApiEndpoint {
  // unix://host/path has an authority, which the spec forbids (grpc-js would take it as the path's first segment)
  if (address.startsWith('unix://') && !address.startsWith('unix:///')) refuse('a unix address has no host');
  if (!UNIX_PATH.test(address)) refuse('a unix address is an absolute path');
  // grpc-js reads both spellings as they are
  return Object.freeze({ transport: 'unix', target: address });
}

const IP_AND_PORT = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/;

function tcpEndpoint(rest: string, refuse: (why: string) => never): WorkloadApiEndpoint {
  if (!rest.startsWith('//')) refuse('a tcp address is written tcp://IP:PORT');
  const authority = rest.slice(2);
  if (/[/?#]/.test(authority)) refuse('a tcp address has no path, query or fragment');
  if (authority.includes('@')) refuse('a tcp address has no user');
  const match = IP_AND_PORT.exec(authority);
  if (match === null) return refuse('a tcp address is an IP and a port, an IPv6 address in brackets');
  const [, v6, v4, portText] = match;
  const ip = v6 ?? v4!;
  if (v6 === undefined ? !isIPv4(ip) : !isIPv6(ip) || ip.includes('%')) refuse('the host must be an IP address, not a name');
  const port = Number(portText);
  if (port < 1 || port > 65_535) refuse('the port must be from 1 to 65535');
  const target = v6 === undefined ? `ipv4:${ip}:${port}` : `ipv6:[${ip}]:${port}`;
  return Object.freeze({ transport: 'tcp', ip, port, target });
}
