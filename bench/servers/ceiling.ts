/**
 * The raw ceiling: a node:http2 server answering every Check with one constant, pre-encoded
 * OK CheckResponse in the cheapest exchange HTTP/2 allows: one HEADERS (`grpc-status` among
 * them) and one DATA frame that ends the stream. No trailers, no gRPC library, no decoding:
 * what Node's HTTP/2 stack alone costs per request. Not a valid gRPC answer (a message must
 * be followed by trailers); `grpc-ceiling.ts` is the gRPC-shaped one.
 */
import http2 from 'node:http2';
import { encodeOfficial } from '../../test/helpers/official-protos.js';
import { grpcFrame } from '../lib/grpc-frame.js';
import { announce, grpcAddressArg } from './listen-args.js';

const REPLY = grpcFrame(encodeOfficial('envoy.service.auth.v3.CheckResponse', { status: { code: 0 }, okResponse: {} }));
const HEADERS = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' };

const { host, port } = grpcAddressArg(process.argv.slice(2));
const server = http2.createServer();
server.on('stream', (stream) => {
  stream.on('error', () => {});
  stream.resume(); // the request body is read and dropped
  stream.on('end', () => {
    if (stream.destroyed) return;
    stream.respond(HEADERS);
    stream.end(REPLY);
  });
});
server.listen(port, host, () => {
  const address = server.address();
  announce('ceiling', host, typeof address === 'object' && address !== null ? address.port : port);
});
process.once('SIGTERM', () => {
  server.close();
  setTimeout(() => process.exit(0), 200).unref();
});
