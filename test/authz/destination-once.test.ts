/**
 * One Check resolves its destination once: the pipeline's resolver parses the destination
 * principal (remembered in its memo), and the cache key, the tree and the result all take that
 * answer. Parses are counted on the one parser every resolution goes through.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Authorizer } from '../../src/authz/authorizer.js';
import { DecisionCache } from '../../src/authz/decision-cache.js';
import type { AccessRequest } from '../../src/domain/index.js';
import { tryParseSpiffeId } from '../../src/domain/parse-spiffe-id.js';
import { createIdentityResolver } from '../../src/identity/index.js';
import { BoundedMemo } from '../../src/lib/bounded-memo.js';
import { DestinationResolver } from '../../src/policy/engine/index.js';
import { CHECKOUT, snapshot } from './fixtures.js';

vi.mock('../../src/domain/parse-spiffe-id.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/domain/parse-spiffe-id.js')>();
  return { ...actual, tryParseSpiffeId: vi.fn(actual.tryParseSpiffeId) };
});

const PAYMENTS = 'spiffe://prod.example/ns/prod/sa/payments';

/** No context_extensions: the service is the destination ID's service account, not the host. */
function request(method: string): AccessRequest {
  return {
    kind: 'http', requestId: 'r', method, path: '/v1/charges', rawPath: '/v1/charges', query: '', host: 'gateway.example', scheme: 'http', protocol: 'HTTP/2',
    headers: new Map(), source: { principal: CHECKOUT }, destination: { principal: PAYMENTS }, contextExtensions: new Map(), sni: '', filterMetadata: {},
  };
}

const parses = vi.mocked(tryParseSpiffeId);

describe('a Check resolves its destination once', () => {
  beforeEach(() => parses.mockClear());

  it('for the cache key, the tree and the result, its principal parsed once and then remembered', async () => {
    const snapshots = { current: snapshot() };
    expect(snapshots.current.tree.reads).toContain('destination.service');
    const identity = await createIdentityResolver(undefined, { baseDir: '.' });
    const cache = new DecisionCache({ max: 10, ttlMs: 60_000 });
    const authorizer = new Authorizer({ snapshots, identity, cache, destinations: new DestinationResolver(new BoundedMemo(8)) });
    expect(authorizer.authorize(request('GET'))).toMatchObject({ decision: { verdict: 'allow' }, destination: 'payments' });
    expect(parses).toHaveBeenCalledTimes(1);
    // another request to the same destination, a cache miss: the key is built and the tree walked again
    expect(authorizer.authorize(request('POST'))).toMatchObject({ decision: { verdict: 'deny' }, destination: 'payments' });
    expect(parses).toHaveBeenCalledTimes(1);
    expect(cache.stats).toMatchObject({ hits: 0, misses: 2 });
  });
});
