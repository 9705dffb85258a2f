/**
 * The ceiling: a raw node:http2 server answering every Check with one constant, pre-encoded
 * OK CheckResponse. No gRPC library, no decoding: what Node's HTTP/2 stack alone costs.
 */
import http2 from 'node:http2';
import { encodeOfficial } from '../../test/helpers/official-protos.js';
import { grpcFrame } from '../lib/grpc-frame.js';
import { announce, grpcAddressArg } from './listen-args.js';

const REPLY = grpcFrame(encodeOfficial('envoy.service.auth.v3.CheckResponse', { status: { code: 0 }, okResponse: {} }));
const HEADERS = { ':status': 200, 'content-type': 'application/grpc' };
const TRAILERS = { 'grpc-status': '0' };

const { host, port } = grpcAddressArg(process.argv.slice(2));
const server = http2.createServer();
server.on('stream', (stream) => {
  stream.on('error', () => {});
  stream.resume(); // the request body is read and dropped
  stream.on('end', () => {
    if (stream.destroyed) return;
    stream.respond(HEADERS, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers(TRAILERS));
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
