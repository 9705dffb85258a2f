/**
 * By property: any sequence of what a client can do to HTTP/2 streams and sessions
 * (HEADERS, DATA of any part of a message, END_STREAM, RST_STREAM of any code, GOAWAY, a
 * session torn down) leaves the server up, answering a legitimate Check, and, once the
 * client is gone, holding no connection and no buffered byte of it.
 */
import http2 from 'node:http2';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/domain/index.js';
import { createAuthorizationService } from '../../../src/check/index.js';
import { decidedBy } from '../../helpers/decided-by.js';
import { encodeCheckRequest } from '../../../src/envoy/index.js';
import { CHECK_METHOD_PATH, HEALTH_CHECK_PATH, HEALTH_WATCH_PATH, startGrpcServer, type RunningGrpcServer } from '../../../src/server/grpc/index.js';
import { answersACheck as answersACheckAt } from '../../helpers/check-client.js';
import { grpcFrame } from '../../helpers/grpc-frame.js';
import { TRANSPORTS } from '../../helpers/transports.js';

const ALLOW: Decision = { id: 'd', verdict: 'allow', reason: 'policy_allow', generation: 1 };
const CHECK = grpcFrame(encodeCheckRequest({ attributes: { request: { http: { method: 'GET', path: '/x', host: 'svc' } } } }));
const PATHS = [CHECK_METHOD_PATH, HEALTH_CHECK_PATH, HEALTH_WATCH_PATH, '/unknown/Method'];
const RST_CODES = [http2.constants.NGHTTP2_NO_ERROR, http2.constants.NGHTTP2_CANCEL, http2.constants.NGHTTP2_INTERNAL_ERROR];

type Action =
  | { readonly kind: 'open'; readonly path: number; readonly timeout: boolean }
  | { readonly kind: 'data'; readonly stream: number; readonly upTo: number }
  | { readonly kind: 'end'; readonly stream: number }
  | { readonly kind: 'reset'; readonly stream: number; readonly code: number }
  | { readonly kind: 'goaway' }
  | { readonly kind: 'destroySession' }
  | { readonly kind: 'newSession' };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('open' as const), path: fc.nat(PATHS.length - 1), timeout: fc.boolean() }),
  fc.record({ kind: fc.constant('data' as const), stream: fc.nat(7), upTo: fc.nat(CHECK.length + 8) }),
  fc.record({ kind: fc.constant('end' as const), stream: fc.nat(7) }),
  fc.record({ kind: fc.constant('reset' as const), stream: fc.nat(7), code: fc.constantFrom(...RST_CODES) }),
  fc.constant({ kind: 'goaway' as const }),
  fc.constant({ kind: 'destroySession' as const }),
  fc.constant({ kind: 'newSession' as const }),
);

/** Plays one sequence from one client; returns the sessions it opened. */
async function play(server: RunningGrpcServer, actions: readonly Action[]): Promise<http2.ClientHttp2Session[]> {
  const sessions: http2.ClientHttp2Session[] = [];
  const streams: http2.ClientHttp2Stream[] = [];
  const newSession = () => {
    const session = http2.connect(`http://${server.address}`);
    session.on('error', () => {});
    sessions.push(session);
    return session;
  };
  let session = newSession();
  const attempt = (step: () => void) => {
    try {
      step();
    } catch {
      // the client's own node:http2 refuses some steps on a closed stream or session: fine
    }
  };
  for (const next of actions) {
    const stream = 'stream' in next ? streams[next.stream % Math.max(streams.length, 1)] : undefined;
    switch (next.kind) {
      case 'open':
        attempt(() => {
          const headers = { ':method': 'POST', ':path': PATHS[next.path]!, 'content-type': 'application/grpc', ...(next.timeout ? { 'grpc-timeout': '200m' } : {}) };
          const opened = session.request(headers);
          opened.on('error', () => {});
          opened.resume();
          streams.push(opened);
        });
        break;
      case 'data':
        attempt(() => stream?.write(CHECK.subarray(0, next.upTo)));
        break;
      case 'end':
        attempt(() => stream?.end());
        break;
      case 'reset':
        attempt(() => stream?.close(next.code));
        break;
      case 'goaway':
        attempt(() => session.goaway(http2.constants.NGHTTP2_NO_ERROR));
        break;
      case 'destroySession':
        session.destroy();
        break;
      case 'newSession':
        session = newSession();
        break;
    }
    if (Math.random() < 0.3) await new Promise((resolve) => setImmediate(resolve));
  }
  return sessions;
}

const answersACheck = (server: RunningGrpcServer) => answersACheckAt(server.address, CHECK.subarray(5));

describe.each(TRANSPORTS)('the %s transport under any sequence of stream and session events', (transport) => {
  let server: RunningGrpcServer;
  beforeAll(async () => {
    server = await startGrpcServer({
      address: '127.0.0.1:0',
      transport,
      authorization: createAuthorizationService(decidedBy(() => ALLOW)),
      initiallyServing: true,
      limits: { deadlineMs: 300 },
    });
  });
  afterAll(() => server.close(100));

  it('stays up, answers a Check after each, and holds nothing once the client has gone', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 40 }), async (actions) => {
        const sessions = await play(server, actions);
        expect(await answersACheck(server)).toBe(true);
        for (const session of sessions) session.destroy();
        await expect.poll(() => server.load().bufferedBytes ?? 0, { timeout: 3_000 }).toBe(0);
        await expect.poll(() => server.load().connections ?? 0, { timeout: 3_000 }).toBe(0);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
