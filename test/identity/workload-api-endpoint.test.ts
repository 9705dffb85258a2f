/**
 * The Workload API's address as the SPIFFE Workload Endpoint spec writes it (section 4):
 * unix:/path, unix:///path, or tcp://IP:PORT with an IP literal, each turned into the grpc-js
 * target that dials it; anything else refused at start, naming the field and the value.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { parseWorkloadApiEndpoint } from '../../src/identity/index.js';
import { accessRequest, bearer } from './helpers/request.js';
import { publicJwk, signToken } from './helpers/tokens.js';
import { WorkloadApiDouble } from './helpers/workload-api-double.js';
import { A, WORKLOAD_A, buildWorld, outcome } from './helpers/world.js';

const FIELD = 'identity.workloadApi.socket';
const parse = (address: string) => parseWorkloadApiEndpoint(address, FIELD);

describe('a Workload API address', () => {
  it.each([
    ['unix:/run/spire/agent.sock', 'unix:/run/spire/agent.sock'],
    ['unix:///run/spire/agent.sock', 'unix:///run/spire/agent.sock'],
  ])('dials %s over its unix socket', (address, target) => {
    expect(parse(address)).toEqual({ transport: 'unix', target });
  });

  it.each([
    ['tcp://127.0.0.1:8081', { ip: '127.0.0.1', port: 8081, target: 'ipv4:127.0.0.1:8081' }],
    ['tcp://169.254.1.1:65535', { ip: '169.254.1.1', port: 65535, target: 'ipv4:169.254.1.1:65535' }],
    ['tcp://[::1]:8081', { ip: '::1', port: 8081, target: 'ipv6:[::1]:8081' }],
    ['tcp://[fe80::1]:1', { ip: 'fe80::1', port: 1, target: 'ipv6:[fe80::1]:1' }],
  ])('dials %s over TCP to that IP and port, with no name to resolve', (address, expected) => {
    expect(parse(address)).toEqual({ transport: 'tcp', ...expected });
  });

  it.each([
    ['tcp://localhost:8081', 'the host must be an IP address, not a name'],
    ['tcp://spire-agent.spire.svc:8081', 'the host must be an IP address, not a name'],
    ['tcp://127.1:8081', 'the host must be an IP address, not a name'],
    ['tcp://[localhost]:8081', 'the host must be an IP address, not a name'],
    ['tcp://[fe80::1%eth0]:8081', 'the host must be an IP address, not a name'],
    ['tcp://127.0.0.1:8081/agent', 'a tcp address has no path, query or fragment'],
    ['tcp://127.0.0.1:8081/', 'a tcp address has no path, query or fragment'],
    ['tcp://127.0.0.1:8081?x=1', 'a tcp address has no path, query or fragment'],
    ['tcp://127.0.0.1:8081#x', 'a tcp address has no path, query or fragment'],
    ['tcp://spire:secret@127.0.0.1:8081', 'a tcp address has no user'],
    ['tcp:127.0.0.1:8081', 'a tcp address is written tcp://IP:PORT'],
    ['tcp://127.0.0.1', 'a tcp address is an IP and a port, an IPv6 address in brackets'],
    ['tcp://::1:8081', 'a tcp address is an IP and a port, an IPv6 address in brackets'],
    ['tcp://127.0.0.1:0', 'the port must be from 1 to 65535'],
    ['tcp://127.0.0.1:65536', 'the port must be from 1 to 65535'],
    ['unix://agent/run/spire.sock', 'a unix address has no host'],
    ['unix:run/spire/agent.sock', 'a unix address is an absolute path'],
    ['unix:', 'a unix address is an absolute path'],
    ['/run/spire/agent.sock', 'the scheme must be unix or tcp'],
    ['http://127.0.0.1:8081', 'the scheme must be unix or tcp'],
    ['', 'it is empty'],
  ])('refuses %j: %s', (address, why) => {
    expect(() => parse(address)).toThrow(TypeError);
    expect(() => parse(address)).toThrow(`${FIELD}: ${JSON.stringify(address)} is not a Workload API address (${why}); expected unix:/path, unix:///path or tcp://IP:PORT`);
  });

  it('names at most 200 characters of a refused value, control characters escaped', () => {
    const long = `tcp://${'a'.repeat(500)}\n:1`;
    let message = '';
    try {
      parse(long);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`"tcp://${'a'.repeat(194)}"`);
    expect(message).not.toContain('a'.repeat(195));
    expect(message).not.toContain('\n');
  });
});

describe('a Workload API on tcp://[::1]:PORT', () => {
  it('streams the trust bundles that verify JWT-SVIDs, over IPv6 loopback', async () => {
    const world = buildWorld();
    const agent = new WorkloadApiDouble({ tcpHost: '::1' });
    await agent.start();
    agent.send('x509', { [`spiffe://${A}`]: new X509Certificate(world.rootA.pem).raw });
    agent.send('jwt', { [`spiffe://${A}`]: Buffer.from(JSON.stringify({ keys: [publicJwk(world.keyA)] })) });
    const resolver = await world.resolver({ trustDomains: {}, workloadApi: { socket: agent.target } });
    try {
      expect(agent.target).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
      await vi.waitUntil(() => resolver.ready, { timeout: 5000, interval: 10 });
      const token = await signToken(world.keyA, { sub: WORKLOAD_A, aud: 'meshwarden', exp: world.nowS + 300 });
      expect(await outcome(resolver, accessRequest({ headers: bearer(token) }))).toBe('OK');
    } finally {
      resolver.close();
      await agent.stop();
    }
  });
});
