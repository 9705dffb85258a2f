/**
 * `http:`, the HTTP ext_authz listener (Envoy's http_service): off unless an address is given,
 * every bound on by default, and a bad value refused where it is written.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/server-process.js';

function configFile(text: string): string {
  const file = join(tempDir('meshwarden-config-'), 'meshwarden.yaml');
  writeFileSync(file, text);
  return file;
}

describe('the http listener section', () => {
  it('is off, with no path prefix and every bound set, when the file says nothing', async () => {
    const { http } = await loadConfig(configFile(''));
    expect(http).toEqual({
      address: 'off',
      pathPrefix: '',
      maxConnectionIdleMs: 300_000,
      limits: { connections: 1024, headers: 1000, headerBytes: 256 * 1024, bodyBytes: 4 * 1024 * 1024, bufferedBytes: 64 * 1024 * 1024, deadlineMs: 30_000 },
    });
  });

  it('takes the address, prefix, idle time and limits as written, durations in milliseconds', async () => {
    const { http } = await loadConfig(configFile([
      'http:',
      '  address: "127.0.0.1:9192"',
      '  pathPrefix: /ext-authz',
      '  maxConnectionIdle: 90s',
      '  limits: { connections: 10, headers: 50, headerBytes: 8192, bodyBytes: 65536, bufferedBytes: 1048576, deadline: 2s }',
    ].join('\n')));
    expect(http).toEqual({
      address: '127.0.0.1:9192',
      pathPrefix: '/ext-authz',
      maxConnectionIdleMs: 90_000,
      limits: { connections: 10, headers: 50, headerBytes: 8192, bodyBytes: 65536, bufferedBytes: 1048576, deadlineMs: 2000 },
    });
  });

  it('lets --http on the command line win over the file', async () => {
    const { http } = await loadConfig(configFile('http: { address: "127.0.0.1:9192", pathPrefix: /authz }'), { http: { address: 'unix:/tmp/authz.sock' } });
    expect(http).toMatchObject({ address: 'unix:/tmp/authz.sock', pathPrefix: '/authz' });
  });

  it.each([
    ['a path prefix with a trailing slash', 'http: { pathPrefix: /authz/ }', '(http.pathPrefix)'],
    ['a path prefix without its leading slash', 'http: { pathPrefix: authz }', '(http.pathPrefix)'],
    ['an address that is no address', 'http: { address: "everywhere" }', '(http.address)'],
    ['a key the listener does not have', 'http: { adress: "127.0.0.1:9192" }', '(http'],
    ['a body bound under 1 KiB', 'http: { limits: { bodyBytes: 10 } }', '(http.limits.bodyBytes)'],
  ])('refuses %s, naming the line and the key', async (_what, text, field) => {
    const file = configFile(`defaultAction: DENY\n${text}\n`);
    const error = await loadConfig(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join('\n')).toContain(`${file}:2:`);
    expect((error as ConfigError).problems.join('\n')).toContain(field);
  });
});
