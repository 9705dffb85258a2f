/**
 * `identity.workloadApi` in the config file: the socket as written, or SPIFFE_ENDPOINT_SOCKET
 * when it is omitted (the SPIFFE Workload Endpoint spec); anything but a unix socket or a
 * tcp://IP:PORT is refused at start with the key named.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/build.js';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { createIdentityResolver } from '../../src/identity/index.js';

const build = (yaml: string, env: NodeJS.ProcessEnv = {}) => buildConfig(parseConfigText(yaml, 'meshwarden.yaml'), '/etc/meshwarden', env);

describe('identity.workloadApi in the config file', () => {
  it('takes the socket as written, over SPIFFE_ENDPOINT_SOCKET', () => {
    const config = build('identity: { workloadApi: { socket: "unix:/run/spire/agent.sock" } }', { SPIFFE_ENDPOINT_SOCKET: 'unix:///other.sock' });
    expect(config.identity?.workloadApi).toEqual({ socket: 'unix:/run/spire/agent.sock' });
  });

  it('takes SPIFFE_ENDPOINT_SOCKET when the socket is omitted', () => {
    const config = build('identity: { workloadApi: {} }', { SPIFFE_ENDPOINT_SOCKET: 'unix:///run/spire/agent.sock' });
    expect(config.identity?.workloadApi).toEqual({ socket: 'unix:///run/spire/agent.sock' });
  });

  it('takes a tcp://IP:PORT socket, as the spec allows', () => {
    const config = build('identity: { workloadApi: { socket: "tcp://127.0.0.1:8081" } }');
    expect(config.identity?.workloadApi).toEqual({ socket: 'tcp://127.0.0.1:8081' });
  });

  it('refuses a socket that is neither unix: nor tcp: in the file, naming the key', () => {
    expect(() => build('identity: { workloadApi: { socket: "http://127.0.0.1:8081" } }')).toThrow(ConfigError);
    expect(() => build('identity: { workloadApi: { socket: "http://127.0.0.1:8081" } }')).toThrow(/workloadApi/);
  });

  it('refuses to start without a socket from either, naming both', async () => {
    const config = build('identity: { workloadApi: {} }');
    await expect(createIdentityResolver(config.identity, { baseDir: '/', watch: false })).rejects.toThrow(
      'identity.workloadApi.socket (or SPIFFE_ENDPOINT_SOCKET): must be a non-empty string',
    );
  });

  it('refuses a tcp SPIFFE_ENDPOINT_SOCKET with a host name at start, naming the key and the variable', async () => {
    const config = build('identity: { workloadApi: {} }', { SPIFFE_ENDPOINT_SOCKET: 'tcp://spire-agent:8081' });
    await expect(createIdentityResolver(config.identity, { baseDir: '/', watch: false })).rejects.toThrow(
      /^identity\.workloadApi\.socket \(or SPIFFE_ENDPOINT_SOCKET\): "tcp:\/\/spire-agent:8081" is not a Workload API address \(the host must be an IP address, not a name\)/,
    );
  });
});
