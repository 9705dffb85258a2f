/** `--grpc host:port` for the reference servers, and the "listening" line meshwarden also prints. */

export function grpcAddressArg(argv: readonly string[]): { host: string; port: number } {
  const at = argv.indexOf('--grpc');
  const value = at >= 0 ? argv[at + 1] : '127.0.0.1:0';
  const match = /^(.*):(\d+)$/.exec(value ?? '');
  if (!match) throw new TypeError(`--grpc: expected host:port, got "${value}"`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

export function announce(name: string, host: string, port: number): void {
  process.stderr.write(`${JSON.stringify({ msg: 'listening', server: name, grpc: `${host}:${port}`, pid: process.pid })}\n`);
}
