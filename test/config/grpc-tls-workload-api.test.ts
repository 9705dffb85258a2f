/**
 * `grpc.tls.fromWorkloadApi` in the config file: the listener's certificate, key and client CA
 * from the Workload API, on the socket of identity.workloadApi (or SPIFFE_ENDPOINT_SOCKET); off
 * by default; never beside certificate files, which the config names at their line.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/build.js';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { grpcListenerSecurity } from '../../src/server/grpc-credentials.js';

const build = (yaml: string, env: NodeJS.ProcessEnv = {}) => buildConfig(parseConfigText(yaml, 'meshwarden.yaml'), '/etc/meshwarden', env);

function problemsOf(yaml: string): readonly string[] {
  try {
    parseConfigText(yaml, 'meshwarden.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the config loaded, but should not have');
}

describe('grpc.tls.fromWorkloadApi in the config file', () => {
  it('takes the socket of identity.workloadApi, over SPIFFE_ENDPOINT_SOCKET', () => {
    const config = build('grpc: { tls: { fromWorkloadApi: true } }\nidentity: { workloadApi: { socket: "unix:/run/spire/agent.sock" } }', {
      SPIFFE_ENDPOINT_SOCKET: 'unix:/other.sock',
    });
    expect(config.grpc.tls).toEqual({ workloadApi: { socket: 'unix:/run/spire/agent.sock' }, allowedClientIds: [] });
  });

  it('takes SPIFFE_ENDPOINT_SOCKET when identity names no socket, and keeps the allowed client IDs', () => {
    const config = build('grpc: { tls: { fromWorkloadApi: true, allowedClientIds: ["spiffe://mesh.test/ns/a/sa/envoy"] } }', {
      SPIFFE_ENDPOINT_SOCKET: 'unix:///run/spire/agent.sock',
    });
    expect(config.grpc.tls).toEqual({ workloadApi: { socket: 'unix:///run/spire/agent.sock' }, allowedClientIds: ['spiffe://mesh.test/ns/a/sa/envoy'] });
  });

  it('is off by default and when false: files as before', () => {
    expect(build('grpc: { tls: { fromWorkloadApi: false, cert: c.pem, key: k.pem } }').grpc.tls).toEqual({
      cert: '/etc/meshwarden/c.pem',
      key: '/etc/meshwarden/k.pem',
      allowedClientIds: [],
    });
    expect(problemsOf('grpc:\n  tls: { fromWorkloadApi: false }\n')[0]).toMatch(/missing required field "cert" \(grpc\.tls\.cert\)/);
  });

  it.each(['cert: c.pem', 'key: k.pem', 'clientCa: ca.pem'])('refuses %s beside it, at its line, once', (file) => {
    const problems = problemsOf(`grpc:\n  tls:\n    fromWorkloadApi: true\n    ${file}\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(`^meshwarden\\.yaml:4:\\d+: .* is not valid: fromWorkloadApi takes the certificate, key and client CA from the Workload API: leave out cert, key and clientCa \\(grpc\\.tls\\.${file.split(':')[0]}\\)`),
    );
  });

  it('does not start without an agent address from either, naming both', async () => {
    const config = build('grpc: { tls: { fromWorkloadApi: true } }');
    await expect(grpcListenerSecurity(config.grpc.tls)).rejects.toThrow(/identity\.workloadApi\.socket or SPIFFE_ENDPOINT_SOCKET\): "" is not a Workload API address \(it is empty\)/);
    const named = build('grpc: { tls: { fromWorkloadApi: true } }', { SPIFFE_ENDPOINT_SOCKET: 'tcp://spire-agent:8081' });
    await expect(grpcListenerSecurity(named.grpc.tls)).rejects.toThrow(/^grpc\.tls\.fromWorkloadApi .*: "tcp:\/\/spire-agent:8081" is not a Workload API address \(the host must be an IP address, not a name\)/);
  });
});
