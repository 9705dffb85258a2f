import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveSharedAddress } from '../../../src/server/cluster/shared-address.js';

describe('resolveSharedAddress', () => {
  it('turns host:0 into host:PORT with a port that is free to bind', async () => {
    const address = await resolveSharedAddress('127.0.0.1:0');
    const match = /^127\.0\.0\.1:(\d+)$/.exec(address);
    expect(Number(match?.[1])).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(match?.[1]), '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));
  it.skipIf(!hasIpv6Loopback)('keeps the brackets of an IPv6 host', async () => {
    expect(await resolveSharedAddress('[::1]:0')).toMatch(/^\[::1\]:[1-9]\d*$/);
  });

  it.each(['127.0.0.1:9191', 'unix:/tmp/meshwarden.sock', '0.0.0.0:10'])('leaves %s as it is', async (address) => {
    expect(await resolveSharedAddress(address)).toBe(address);
  });
});
