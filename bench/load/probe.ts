/** Sends one frame and decodes the CheckResponse: each contender is checked to answer as expected before it is loaded. */
import http2 from 'node:http2';
import { CHECK_PATH, checkResponseCode } from '../lib/grpc-frame.js';

export interface ProbeAnswer {
  readonly grpcStatus: string;
  /** CheckResponse status.code; -1 when there was no message. */
  readonly checkCode: number;
}

export function probe(target: string, frame: Buffer): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${target}`);
    const timer = setTimeout(() => done(new Error('probe: no answer within 10 s')), 10_000);
    const done = (error?: Error, answer?: ProbeAnswer) => {
      clearTimeout(timer);
      session.close();
      if (error) reject(error);
      else resolve(answer!);
    };
    session.once('error', (error) => done(error));
    const stream = session.request({ ':method': 'POST', ':path': CHECK_PATH, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let grpcStatus = '';
    stream.on('response', (h) => (grpcStatus = String(h['grpc-status'] ?? '')));
    stream.on('trailers', (h) => (grpcStatus = String(h['grpc-status'] ?? '')));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error) => done(error));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        done(undefined, { grpcStatus, checkCode: body.length >= 5 ? checkResponseCode(body) : -1 });
      } catch (error) {
        done(error as Error);
      }
    });
    stream.end(frame);
  });
}
