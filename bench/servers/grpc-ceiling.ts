/**
 * The gRPC-shaped ceiling: node:http2 answering every Check as a gRPC server must, with
 * nothing else: the request body collected, response headers sent with `waitForTrailers`,
 * one constant framed CheckResponse, then `grpc-status: 0` in trailers (HEADERS, DATA,
 * HEADERS with END_STREAM). No decoding, no decision, no per-call bookkeeping: what the
 * transport itself costs per Check, the figure each gRPC transport is measured against.
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
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk)); // a real server holds the message
  stream.on('end', () => {
    if (stream.destroyed) return;
    stream.respond(HEADERS, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers(TRAILERS));
    stream.end(REPLY);
  });
});
server.listen(port, host, () => {
  const address = server.address();
  announce('grpc-ceiling', host, typeof address === 'object' && address !== null ? address.port : port);
});
process.once('SIGTERM', () => {
  server.close();
  setTimeout(() => process.exit(0), 200).unref();
});
