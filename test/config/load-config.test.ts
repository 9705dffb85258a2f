/**
 * Loading the server configuration from a real file: every problem says file:line:col and the
 * field, flags win over the file key by key, every key has a default, and relative paths are
 * read from the config file's directory (flags' paths come resolved from the working dir).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/server-process.js';

/** Writes `text` as `meshwarden.yaml` in a fresh temp dir (or `dir`) and returns its path. */
function configFile(text: string, dir = tempDir('meshwarden-config-')): string {
  const file = join(dir, 'meshwarden.yaml');
  writeFileSync(file, text);
  return file;
}

/** The problems of a config that must not load. */
async function problemsOf(text: string): Promise<{ file: string; problems: readonly string[] }> {
  const file = configFile(text);
  const error = await loadConfig(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return { file, problems: error.problems };
}

describe('a config file that does not load', () => {
  it.each([
    [
      'an unknown key, with the closest known one',
      'grpc:\n  adress: "127.0.0.1:9191"\n',
      ':2:3: unknown field "adress"; did you mean "address"? (grpc.adress)',
    ],
    ['a misspelt top-level key, which must never fall back to a default', 'defaultActoin: ALLOW\n', ':1:1: unknown field "defaultActoin"; did you mean "defaultAction"? (defaultActoin)'],
    ['a value of the wrong type', 'policies: ./policies\n', ':1:11: must be a list, not "./policies" (policies)'],
    ['a nested value of the wrong type', 'cache:\n  decisions:\n    max: lots\n', ':3:10: must be an integer, not "lots" (cache.decisions.max)'],
    [
      'a gRPC address without a port',
      'grpc: { address: localhost }\n',
      ':1:18: "localhost" is not valid: `host:port`, `[v6]:port`, or `unix:/path/to/socket`. (grpc.address)',
    ],
    [
      'an admin address that is neither an address nor "off"',
      'admin:\n  address: "9901"\n',
      ':2:12: "9901" is not valid: `host:port`, `[v6]:port`, `unix:/path/to/socket`, or "off". (admin.address)',
    ],
    ['a value outside the enum', 'defaultAction: deny\n', ':1:16: "deny" is not one of "ALLOW", "DENY" (defaultAction)'],
    [
      'a duration that is not one, reported once',
      'reload:\n  debounce: 5 minutes\n',
      ':2:13: "5 minutes" is not valid: Milliseconds as a number, or a string such as "250ms", "10s", "5m", "1h". (reload.debounce)',
    ],
    [
      'allowedClientIds without clientCa',
      'grpc:\n  tls:\n    cert: c.pem\n    key: k.pem\n    allowedClientIds: ["spiffe://mesh.test/ns/a/sa/b"]\n',
      ':5:5: "allowedClientIds" needs "clientCa" alongside it (grpc.tls.allowedClientIds)',
    ],
    [
      'an allowed client ID that is not a SPIFFE ID',
      'grpc:\n  tls: { cert: c.pem, key: k.pem, clientCa: ca.pem, allowedClientIds: [cluster.local/ns/a/sa/b] }\n',
      ':2:72: "cluster.local/ns/a/sa/b" is not valid: A client SPIFFE ID, spiffe://trust-domain/path. (grpc.tls.allowedClientIds[0])',
    ],
    ['an unknown transport', 'grpc: { transport: grpcjs }\n', ':1:20: "grpcjs" is not one of "native", "grpc-js" (grpc.transport)'],
    ['a limit below its floor', 'grpc:\n  limits: { messageBytes: 10 }\n', ':2:27: number 10 is not valid: must be >= 1024 (grpc.limits.messageBytes)'],
    ['TLS without a key', 'grpc:\n  tls: { cert: c.pem }\n', ':2:8: missing required field "key" (grpc.tls.key)'],
    ['YAML that does not parse', 'policies: [a, b\n', ':2:1: '],
    ['a key given twice', 'admin: {}\nadmin: {}\n', ':2:1: Map keys must be unique'],
  ])('reports %s at its line and column', async (_, text, expected) => {
    const { file, problems } = await problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(`${file}${expected}`), `${problems[0]} should start with ${file}${expected}`).toBe(true);
  });

  it('reports every problem of the file, not only the first', async () => {
    const { file, problems } = await problemsOf('grpc: { adress: x }\ndefaultAction: deny\nworkers: 0\n');
    expect(problems).toEqual([
      `${file}:1:9: unknown field "adress"; did you mean "address"? (grpc.adress)`,
      `${file}:2:16: "deny" is not one of "ALLOW", "DENY" (defaultAction)`,
      `${file}:3:10: number 0 is not valid: A number of worker processes from 1 to 256, or "auto" (one per CPU). (workers)`,
    ]);
  });

  it('names a file it cannot read', async () => {
    const missing = join(tempDir('meshwarden-config-'), 'absent.yaml');
    await expect(loadConfig(missing)).rejects.toThrow(`${missing}: cannot read`);
  });

  it('puts every problem in the error message, one per line', async () => {
    const file = configFile('defaultAction: deny\n');
    await expect(loadConfig(file)).rejects.toThrow(`invalid configuration:\n  ${file}:1:16: "deny" is not one of`);
  });
});

describe('flags', () => {
  it('win over the file key by key, keeping the rest of the section', async () => {
    const file = configFile(['grpc:', '  address: "0.0.0.0:7000"', '  principalHeader: x-caller', 'admin: { address: "127.0.0.1:7001" }', 'policies: [from-file]'].join('\n'));
    const config = await loadConfig(file, { grpc: { address: '127.0.0.1:0' }, policies: ['/abs/from-flag'] });
    expect(config.grpc).toMatchObject({ address: '127.0.0.1:0', principalHeader: 'x-caller' });
    expect(config.admin.address).toBe('127.0.0.1:7001');
    expect(config.policies).toEqual(['/abs/from-flag']);
  });

  it('keep the file\'s TLS settings when only the address is overridden', async () => {
    const dir = tempDir('meshwarden-config-');
    const file = configFile('grpc:\n  address: "0.0.0.0:9191"\n  tls: { cert: c.pem, key: k.pem }\n', dir);
    const config = await loadConfig(file, { grpc: { address: '127.0.0.1:0' } });
    expect(config.grpc.tls).toEqual({ cert: join(dir, 'c.pem'), key: join(dir, 'k.pem'), allowedClientIds: [] });
  });

  it('are validated like the file, and named as flags', async () => {
    await expect(loadConfig(undefined, { grpc: { address: 'localhost' } })).rejects.toThrow(/<flags>: "localhost" is not valid: .* \(grpc\.address\)/);
    const file = configFile('defaultAction: DENY\n');
    await expect(loadConfig(file, { admin: { address: 'nowhere' } })).rejects.toThrow(/<flags>: "nowhere" is not valid/);
  });
});

describe('defaults', () => {
  it('fill every key of an empty file: deny by default, loopback admin, a watched reload, a bounded cache', async () => {
    const dir = tempDir('meshwarden-config-');
    const config = await loadConfig(configFile('', dir));
    expect(config).toMatchObject({
      baseDir: dir,
      grpc: { address: '0.0.0.0:9191', principalHeader: 'x-meshwarden-principal', decodeEncodedSlashes: false },
      admin: { address: '127.0.0.1:9901' },
      policies: [],
      shadowPolicies: [],
      defaultAction: 'DENY',
      rootNamespace: 'istio-system',
      cache: { decisions: { enabled: true, max: 100_000, ttlMs: 60_000 }, principals: { max: 4096 } },
      decisionLog: { output: 'stdout', allowSampleRate: 0.01, maxLinesPerSecond: 1000, headers: [] },
      metrics: { perPolicy: false, flows: { enabled: false, maxSeries: 1000 } },
      reload: { watch: true, debounceMs: 200 },
      shutdown: { drainMs: 10_000 },
      workers: 1,
    });
    expect(config.grpc.tls).toBeUndefined();
    expect(config.identity).toBeUndefined();
  });

  it('bound every gRPC listener resource: connections, streams, messages, buffers, deadlines and request sizes', async () => {
    const config = await loadConfig(configFile(''));
    expect(config.grpc).toMatchObject({
      transport: 'native',
      connections: { keepaliveTimeMs: 7_200_000, keepaliveTimeoutMs: 20_000, maxConnectionIdleMs: 300_000 },
      limits: {
        connections: 1024,
        streamsPerConnection: 1000,
        messageBytes: 4 * 1024 * 1024,
        bufferedBytes: 64 * 1024 * 1024,
        deadlineMs: 30_000,
        headers: 1000,
        headerBytes: 256 * 1024,
        pathBytes: 64 * 1024,
        attributeBytes: 512 * 1024,
        contextEntries: 128,
        attributeFields: 256,
      },
    });
    expect(config.grpc.connections.maxConnectionAgeMs).toBeUndefined();
  });

  it('read the listener keys as written: transport, durations, and any one limit without losing the others', async () => {
    const config = await loadConfig(
      configFile('grpc:\n  transport: grpc-js\n  maxConnectionAge: 30m\n  maxConnectionAgeGrace: 1m\n  keepalive: { time: 30s }\n  limits: { deadline: 5s, headers: 200 }\n'),
    );
    expect(config.grpc.transport).toBe('grpc-js');
    expect(config.grpc.connections).toMatchObject({ maxConnectionAgeMs: 1_800_000, maxConnectionAgeGraceMs: 60_000, keepaliveTimeMs: 30_000, keepaliveTimeoutMs: 20_000 });
    expect(config.grpc.limits).toMatchObject({ deadlineMs: 5_000, headers: 200, headerBytes: 256 * 1024 });
  });

  it('are the same with no file at all, paths then resolving from the working directory', async () => {
    const config = await loadConfig(undefined);
    expect(config.baseDir).toBe(process.cwd());
    expect(config.defaultAction).toBe('DENY');
    expect(config.reload).toEqual({ watch: true, debounceMs: 200 });
  });

  it('give a frozen config that nothing can change after loading', async () => {
    const config = await loadConfig(configFile('policies: [p]\n'));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.policies)).toBe(true);
    expect(Object.isFrozen(config.cache.decisions)).toBe(true);
  });
});

describe('relative paths', () => {
  it('are resolved from the directory of the config file, not the working directory', async () => {
    const dir = tempDir('meshwarden-config-');
    mkdirSync(join(dir, 'etc'));
    const file = configFile(
      [
        'policies: [./policies, ../shared/base.yaml, /abs/policies]',
        'shadowPolicies: [shadow]',
        'grpc:',
        '  tls: { cert: tls/cert.pem, key: tls/key.pem, clientCa: /etc/ca.pem }',
        'decisionLog: { output: logs/decisions.jsonl }',
      ].join('\n'),
      join(dir, 'etc'),
    );
    const config = await loadConfig(file);
    expect(config.baseDir).toBe(join(dir, 'etc'));
    expect(config.policies).toEqual([join(dir, 'etc/policies'), join(dir, 'shared/base.yaml'), '/abs/policies']);
    expect(config.shadowPolicies).toEqual([join(dir, 'etc/shadow')]);
    expect(config.grpc.tls).toMatchObject({ cert: join(dir, 'etc/tls/cert.pem'), key: join(dir, 'etc/tls/key.pem'), clientCa: '/etc/ca.pem' });
    expect(config.decisionLog.output).toBe(join(dir, 'etc/logs/decisions.jsonl'));
  });

  it('leave the decision log outputs that are not files alone', async () => {
    for (const output of ['stdout', 'off']) {
      const config = await loadConfig(configFile(`decisionLog: { output: ${output} }\n`));
      expect(config.decisionLog.output).toBe(output);
    }
  });

  it('are resolved the same whatever the working directory of the process', async () => {
    const dir = tempDir('meshwarden-config-');
    const file = configFile('policies: [p]\n', dir);
    const before = process.cwd();
    try {
      process.chdir('/');
      expect((await loadConfig(file)).policies).toEqual([join(dir, 'p')]);
    } finally {
      process.chdir(before);
    }
  });
});

describe('the memo of parsed principals', () => {
  it('is sized by cache.principals.max', async () => {
    expect((await loadConfig(configFile('cache: { principals: { max: 64 } }\n'))).cache.principals.max).toBe(64);
  });

  it('refuses a size that would hold nothing', async () => {
    await expect(loadConfig(configFile('cache: { principals: { max: 0 } }\n'))).rejects.toThrow(/cache\.principals\.max/);
  });
});

describe('durations and units', () => {
  it('read strings and numbers (milliseconds) alike', async () => {
    const config = await loadConfig(configFile('reload: { debounce: 1.5s }\nshutdown: { drainTimeout: 2500 }\ncache: { decisions: { ttl: 5m } }\n'));
    expect(config.reload.debounceMs).toBe(1500);
    expect(config.shutdown.drainMs).toBe(2500);
    expect(config.cache.decisions.ttlMs).toBe(300_000);
  });
});
