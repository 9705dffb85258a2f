/**
 * How a bundle endpoint and trust-domain aliases are written: the config file's keys (durations
 * as strings), and identity's start-up checks, each a TypeError naming the key.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/build.js';
import { engineOptionsOf } from '../../src/config/engine-options.js';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { createIdentityResolver, type IdentityOptions } from '../../src/identity/index.js';
import { normalizeTrustDomainAliases } from '../../src/identity/index.js';

const build = (yaml: string) => buildConfig(parseConfigText(yaml, 'meshwarden.yaml'), '/etc/meshwarden');
const ENDPOINT = { url: 'https://bundles.b.example/bundle', profile: 'https_web' as const };

function configProblems(yaml: string): string {
  try {
    build(yaml);
    return '';
  } catch (error) {
    return error instanceof ConfigError ? error.problems.join('\n') : String(error);
  }
}

async function startProblem(options: Partial<IdentityOptions>): Promise<string> {
  try {
    const resolver = await createIdentityResolver({ trustDomains: {}, ...options }, { baseDir: '/nonexistent', watch: false });
    resolver.close();
    return 'started';
  } catch (error) {
    return error instanceof TypeError ? error.message : `not a TypeError: ${String(error)}`;
  }
}

describe('identity.trustDomains.<td>.bundleEndpoint in the config file', () => {
  it('maps onto BundleEndpointOptions, durations in milliseconds', () => {
    const identity = build(`
identity:
  trustDomains:
    b.example:
      bundleEndpoint: { url: "https://bundles.b.example/bundle", profile: https_web, caFile: ca.pem, refreshHint: 2m, timeout: 1.5s, maxBytes: 65536 }
`).identity;
    expect(identity?.trustDomains['b.example']).toEqual({
      bundleEndpoint: { url: 'https://bundles.b.example/bundle', profile: 'https_web', caFile: 'ca.pem', refreshHintMs: 120_000, timeoutMs: 1500, maxBytes: 65536 },
    });
  });

  it.each([
    ['a plain http URL', '{ url: "http://bundles.b.example/bundle", profile: https_web }', 'url'],
    ['another profile', '{ url: "https://bundles.b.example/bundle", profile: https_spiffe }', 'profile'],
    ['no profile', '{ url: "https://bundles.b.example/bundle" }', 'profile'],
    ['a key it does not know', '{ url: "https://bundles.b.example/bundle", profile: https_web, endpointSpiffeId: x }', 'endpointSpiffeId'],
  ])('refuses %s at its line', (_name, endpoint, field) => {
    const problems = configProblems(`identity:\n  trustDomains:\n    b.example:\n      bundleEndpoint: ${endpoint}\n`);
    expect(problems).toMatch(/^meshwarden\.yaml:\d+:\d+: /);
    expect(problems).toContain(field);
  });

  it('takes one source per trust domain: a bundle file beside an endpoint is refused, naming both', async () => {
    expect(await startProblem({ trustDomains: { 'b.example': { bundle: 'b.json', bundleEndpoint: ENDPOINT } } })).toBe(
      'identity.trustDomains["b.example"]: set exactly one of "bundle", "roots" and "bundleEndpoint" (found "bundle" and "bundleEndpoint")',
    );
    expect(await startProblem({ trustDomains: { 'b.example': {} } })).toContain('(found none)');
  });

  it.each([
    ['a plain http URL', { url: 'http://bundles.b.example/' }, 'bundleEndpoint.url: must be an https URL'],
    ['a URL with userinfo', { url: 'https://user:secret@bundles.b.example/' }, 'bundleEndpoint.url: must not hold userinfo'],
    ['another profile', { profile: 'https_spiffe' }, 'bundleEndpoint.profile: must be "https_web"'],
    ['a timeout of 0', { timeoutMs: 0 }, 'bundleEndpoint.timeout: must be a positive integer'],
  ])('refuses %s at start-up (options given in code)', async (_name, override, message) => {
    const bundleEndpoint = { ...ENDPOINT, ...override } as IdentityOptions['trustDomains'][string]['bundleEndpoint'];
    expect(await startProblem({ trustDomains: { 'b.example': { bundleEndpoint } } })).toContain(message);
  });
});

describe('identity.trustDomainAliases', () => {
  it('is written as domain → list of aliased domains', () => {
    const identity = build('identity:\n  trustDomainAliases:\n    cluster.local: [old-td.example, older.example]\n').identity;
    expect(identity?.trustDomainAliases).toEqual({ 'cluster.local': ['old-td.example', 'older.example'] });
  });

  it('refuses an alias that is not a trust domain name at its line', () => {
    expect(configProblems('identity:\n  trustDomainAliases:\n    cluster.local: ["spiffe://old"]\n')).toMatch(/^meshwarden\.yaml:3:\d+: .*pattern/);
  });

  it.each([
    ['a domain aliased to itself', { 'cluster.local': ['cluster.local'] }, 'cannot be its own alias'],
    ['an alias under two domains', { 'a.example': ['old.example'], 'b.example': ['old.example'] }, '"old.example" is already an alias of "a.example"'],
    ['a chain', { 'a.example': ['b.example'], 'b.example': ['c.example'] }, '"b.example" is itself an alias of "a.example" (aliases do not chain)'],
    ['an empty list', { 'a.example': [] }, 'must be a non-empty array'],
  ])('refuses %s at start-up', async (_name, aliases, message) => {
    expect(() => normalizeTrustDomainAliases(aliases)).toThrow(message);
    expect(await startProblem({ trustDomainAliases: aliases })).toContain(message);
  });

  it('is refused by the engine options too: a cluster primary compiles policies before any worker starts identity', () => {
    const config = build('identity:\n  trustDomainAliases:\n    a.example: [b.example]\n    b.example: [c.example]\n');
    expect(() => engineOptionsOf(config)).toThrow('aliases do not chain');
    expect(engineOptionsOf(build('identity:\n  trustDomainAliases:\n    a.example: [b.example]\n')).trustDomainAliases).toEqual({ 'a.example': ['b.example'] });
  });
});
