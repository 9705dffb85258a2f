/**
 * What the log says as trust material changes: a load is "loaded", and a trust domain the
 * Workload API withdrew is said to be withdrawn and untrusted, not "loaded".
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { IdentityResolver } from '../../src/identity/index.js';
import { logTrustMaterial } from '../../src/server/readiness.js';

function capturedLog(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({}, sink), lines };
}

describe('the trust material log', () => {
  it('says a withdrawn trust domain is untrusted from now on, as a warning, and a load is loaded', async () => {
    const identity = Object.assign(new EventEmitter(), { failures: [] }) as unknown as IdentityResolver;
    const { logger, lines } = capturedLog();
    logTrustMaterial(identity, logger);
    (identity as unknown as EventEmitter).emit('reload', { source: 'trust-domain', name: 'partner.example', path: '/run/spire/agent.sock', withdrawn: true });
    (identity as unknown as EventEmitter).emit('reload', { source: 'trust-domain', name: 'prod.example', path: '/run/spire/agent.sock' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => [line['level'], line['msg']])).toEqual([
      [40, 'trust domain partner.example withdrawn by the Workload API: untrusted from now on'],
      [30, 'trust material loaded'],
    ]);
  });
});
