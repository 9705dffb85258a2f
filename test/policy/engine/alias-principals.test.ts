/**
 * Trust-domain aliases (identity.trustDomainAliases → EngineOptions.trustDomainAliases): a
 * principal written for cluster.local also matches the same path in old-td.example, in ALLOW
 * and DENY rules, principals, notPrincipals and source.principal conditions alike; only as
 * configured. Every decision goes through `decide`, which holds the tree to the reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineOptions, Policy, Rule } from '../../../src/policy/model.js';
import { widenPrincipals, withTrustDomainAliases } from '../../../src/policy/engine/trust-domain-aliases.js';
import { decide } from './check-both.js';
import { DENY_BY_DEFAULT, policy, request, subject } from './fixtures.js';

const CANONICAL = 'spiffe://cluster.local/ns/a/sa/b';
const TWIN = 'spiffe://old-td.example/ns/a/sa/b';
const OTHER_TWIN = 'spiffe://old-td.example/ns/a/sa/other';
const UNRELATED = 'spiffe://elsewhere.example/ns/a/sa/b';
const ALIASES = { 'cluster.local': ['old-td.example'] };
const WITH_ALIASES: EngineOptions = { ...DENY_BY_DEFAULT, trustDomainAliases: ALIASES };

const effect = (policies: readonly Policy[], options: EngineOptions, caller: string) =>
  decide(policies, options, subject(caller), request()).effect;
const allowing = (rule: Rule) => [policy({ id: 'allow', rules: [rule] })];

describe('a principal written for the key domain', () => {
  it('matches the same path in an aliased domain', () => {
    expect(effect(allowing({ from: [{ principals: [CANONICAL] }] }), WITH_ALIASES, TWIN)).toBe('allow');
    expect(effect(allowing({ from: [{ principals: ['cluster.local/ns/a/sa/b'] }] }), WITH_ALIASES, TWIN)).toBe('allow');
  });

  it('does not match it without aliases: never implicit', () => {
    expect(effect(allowing({ from: [{ principals: [CANONICAL] }] }), DENY_BY_DEFAULT, TWIN)).toBe('deny');
  });

  it('does not match another path, nor a domain that is not an alias', () => {
    const policies = allowing({ from: [{ principals: [CANONICAL] }] });
    expect(effect(policies, WITH_ALIASES, OTHER_TWIN)).toBe('deny');
    expect(effect(policies, WITH_ALIASES, UNRELATED)).toBe('deny');
  });

  it('reaches the aliased domain from the key domain only: a principal of the alias domain does not match the key domain', () => {
    expect(effect(allowing({ from: [{ principals: [TWIN] }] }), WITH_ALIASES, CANONICAL)).toBe('deny');
  });

  it('matches through prefixes and source.principal conditions too', () => {
    expect(effect(allowing({ from: [{ principals: ['spiffe://cluster.local/ns/a/*'] }] }), WITH_ALIASES, OTHER_TWIN)).toBe('allow');
    expect(effect(allowing({ when: [{ key: 'source.principal', values: [CANONICAL] }] }), WITH_ALIASES, TWIN)).toBe('allow');
  });
});

describe('a migration never opens a hole', () => {
  const denyThenAllowAll = (deny: Rule) => [policy({ id: 'deny', action: 'DENY', rules: [deny] }), policy({ id: 'allow-all', rules: [{}] })];

  it('a DENY written for the key domain denies the aliased twin', () => {
    const policies = denyThenAllowAll({ from: [{ principals: [CANONICAL] }] });
    expect(effect(policies, WITH_ALIASES, TWIN)).toBe('deny');
    expect(effect(policies, WITH_ALIASES, OTHER_TWIN)).toBe('allow');
  });

  it('a DENY condition on source.principal denies the twin', () => {
    const policies = denyThenAllowAll({ when: [{ key: 'source.principal', values: [CANONICAL] }] });
    expect(effect(policies, WITH_ALIASES, TWIN)).toBe('deny');
  });

  it('a DENY written for the alias domain itself still denies it', () => {
    const policies = denyThenAllowAll({ from: [{ principals: [TWIN] }] });
    expect(effect(policies, WITH_ALIASES, TWIN)).toBe('deny');
  });

  it('notPrincipals of an ALLOW exclude the twin as they exclude the key domain ID', () => {
    const policies = allowing({ from: [{ notPrincipals: [CANONICAL] }] });
    expect(effect(policies, WITH_ALIASES, TWIN)).toBe('deny');
    expect(effect(policies, WITH_ALIASES, OTHER_TWIN)).toBe('allow');
    expect(effect(policies, DENY_BY_DEFAULT, TWIN)).toBe('allow');
  });

  it('notPrincipals of a DENY exempt the twin as they exempt the key domain ID: one workload, two names', () => {
    const policies = denyThenAllowAll({ from: [{ notPrincipals: [CANONICAL] }] });
    expect(effect(policies, WITH_ALIASES, TWIN)).toBe('allow');
    expect(effect(policies, WITH_ALIASES, OTHER_TWIN)).toBe('deny');
  });
});

describe('widenPrincipals', () => {
  const table = new Map(Object.entries({ 'cluster.local': ['old-td.example', 'older.example'] }));
  it.each([
    ['an exact ID gains its twins', [CANONICAL], [TWIN, 'spiffe://older.example/ns/a/sa/b']],
    ['the Istio form gains full twins', ['cluster.local/ns/a/sa/b'], [TWIN, 'spiffe://older.example/ns/a/sa/b']],
    ['a path prefix keeps its path', ['spiffe://cluster.local/ns/*'], ['spiffe://old-td.example/ns/*', 'spiffe://older.example/ns/*']],
    ['a prefix within the domain name covers every ID of the aliases', ['spiffe://cluster.*'], ['spiffe://old-td.example/*', 'spiffe://older.example/*']],
    ['a suffix within the path already matches the twins', ['*/sa/b'], []],
    ['a suffix that reaches into the domain gains exact twins', ['*.local/ns/a/sa/b'], [TWIN, 'spiffe://older.example/ns/a/sa/b']],
    ['presence gains nothing', ['*'], []],
    ['another domain gains nothing', [UNRELATED], []],
  ])('%s', (_name, patterns, added) => {
    expect(widenPrincipals(patterns, table)).toEqual([...patterns, ...added]);
  });

  it('leaves the policies as they are without aliases', () => {
    const policies = allowing({ from: [{ principals: [CANONICAL] }] });
    expect(withTrustDomainAliases(policies, undefined)).toBe(policies);
    expect(withTrustDomainAliases(policies, {})).toBe(policies);
  });
});

/**
 * Exactness, for any policy set that names only cluster.local (and patterns for any domain):
 * with the alias, the twin in old-td.example is decided exactly as the cluster.local ID is.
 */
describe('the twin is decided as the key domain ID, for any policies', () => {
  const PATHS = ['/ns/a/sa/b', '/ns/a/sa/c', '/ns/d/sa/b'];
  const patternArb = fc.oneof(
    fc.constantFrom(...PATHS).map((path) => `spiffe://cluster.local${path}`),
    fc.constantFrom(...PATHS).map((path) => `cluster.local${path}`),
    fc.constantFrom('spiffe://cluster.local/ns/a/*', 'spiffe://cluster.local/*', 'spiffe://clu*', 'cluster.local/ns/d*'),
    fc.constantFrom('*', '*/sa/b', '*/ns/a/sa/c', '*local/ns/a/sa/b', '*r.local/ns/d/sa/b', '*://cluster.local/ns/a/sa/c'),
  );
  const patterns = fc.array(patternArb, { minLength: 1, maxLength: 3 });
  const ruleArb: fc.Arbitrary<Rule> = fc.oneof(
    patterns.map((principals) => ({ from: [{ principals }] })),
    patterns.map((notPrincipals) => ({ from: [{ notPrincipals }] })),
    patterns.map((values) => ({ when: [{ key: 'source.principal', values }] })),
    patterns.map((notValues) => ({ when: [{ key: 'source.principal', notValues }] })),
  );
  const policiesArb = fc.array(
    fc.tuple(fc.constantFrom('ALLOW' as const, 'DENY' as const), fc.array(ruleArb, { minLength: 1, maxLength: 2 })),
    { minLength: 1, maxLength: 4 },
  ).map((list) => list.map(([action, rules], i) => policy({ id: `p${i}`, action, rules })));

  it('holds for ALLOW and DENY, principals, notPrincipals and conditions', () => {
    fc.assert(
      fc.property(policiesArb, fc.constantFrom(...PATHS), (policies, path) => {
        const canonical = effect(policies, WITH_ALIASES, `spiffe://cluster.local${path}`);
        expect(effect(policies, WITH_ALIASES, `spiffe://old-td.example${path}`)).toBe(canonical);
        expect(effect(policies, DENY_BY_DEFAULT, `spiffe://cluster.local${path}`)).toBe(canonical);
      }),
      { numRuns: 300 },
    );
  });
});
