import { describe, expect, test } from 'vitest';
import { generalizePaths, type GeneralizeOptions } from '../../src/workflow/path-generalizer.js';

const OFF: GeneralizeOptions = { minDistinct: 0, templates: [] };

function templates(paths: readonly string[], options: Partial<GeneralizeOptions> = {}): string[] {
  const result = generalizePaths(new Map([['svc', new Set(paths)]]), { ...OFF, ...options });
  return paths.map((p) => result.templateOf('svc', p));
}

function reasons(paths: readonly string[], options: Partial<GeneralizeOptions> = {}): string[] {
  return generalizePaths(new Map([['svc', new Set(paths)]]), { ...OFF, ...options }).generalizations.map(
    (g) => `${g.template}: ${g.reason} (${g.values}: ${g.examples.join(' ')})`,
  );
}

const USERS = ['alice', 'bob', 'carol', 'dave'].map((u) => `/v1/users/${u}`);

describe('generalizing learned paths', () => {
  test.each([
    { path: '/v1/charges/ch_1234', template: '/v1/charges/{*}', reason: 'prefixed ids' },
    { path: '/v1/items/sku-0001', template: '/v1/items/{*}', reason: 'prefixed ids' },
    { path: '/v1/entries/e_1', template: '/v1/entries/{*}', reason: 'prefixed ids' },
    { path: '/v1/orders/42', template: '/v1/orders/{*}', reason: 'numbers' },
  ])('$path becomes $template by its shape ($reason), even seen once', ({ path, template, reason }) => {
    expect(templates([path])).toEqual([template]);
    expect(reasons([path])).toEqual([`${template}: ${reason} (1: ${path.split('/').pop()})`]);
  });

  test('user names become {*} when at least --min-distinct of them share a position under one parent', () => {
    expect(templates(USERS, { minDistinct: 4 })).toEqual(Array(4).fill('/v1/users/{*}'));
    expect(reasons(USERS, { minDistinct: 4 })).toEqual(['/v1/users/{*}: 4 distinct values under /v1/users/ (--min-distinct 4) (4: alice bob carol)']);
  });

  test('fewer distinct values than --min-distinct, or --min-distinct 0, stay literal', () => {
    expect(templates(USERS, { minDistinct: 5 })).toEqual(USERS);
    expect(templates(USERS, { minDistinct: 0 })).toEqual(USERS);
  });

  test('values are counted under one parent only: two collections of two names each stay literal', () => {
    const paths = ['/v1/users/alice', '/v1/users/bob', '/v1/teams/red', '/v1/teams/blue'];
    expect(templates(paths, { minDistinct: 3 })).toEqual(paths);
  });

  test('a parent generalized first groups its children: orders of different users share one parent', () => {
    const paths = [...USERS.map((u) => `${u}/orders/first`), '/v1/users/erin/orders/second', '/v1/users/erin/orders/third'];
    expect(new Set(templates(paths, { minDistinct: 3 }))).toEqual(new Set(['/v1/users/{*}/orders/{*}']));
  });

  test('names followed by ids are collections, never counted as ids: /v1/{*} is not learned from routes', () => {
    const paths = ['/v1/charges/ch_1', '/v1/items/sku-1', '/v1/entries/e_1', '/v1/teams/t_1', ...USERS];
    expect(templates(paths, { minDistinct: 4 })).toEqual([
      '/v1/charges/{*}',
      '/v1/items/{*}',
      '/v1/entries/{*}',
      '/v1/teams/{*}',
      ...Array(4).fill('/v1/users/{*}'),
    ]);
  });

  test('ids already generalized by shape do not make literal routes beside them {*}', () => {
    expect(templates(['/v1/charges/1', '/v1/charges/2', '/v1/charges/3', '/v1/charges/export'], { minDistinct: 2 })).toEqual([
      '/v1/charges/{*}',
      '/v1/charges/{*}',
      '/v1/charges/{*}',
      '/v1/charges/export',
    ]);
  });

  test('an operator template generalizes what it names, also as a prefix of longer paths, and says so', () => {
    const paths = ['/v1/users/alice', '/v1/users/bob/orders', '/v1/teams/red'];
    expect(templates(paths, { templates: ['/v1/users/{*}'] })).toEqual(['/v1/users/{*}', '/v1/users/{*}/orders', '/v1/teams/red']);
    expect(reasons(paths, { templates: ['/v1/users/{*}'] })).toEqual(['/v1/users/{*}: --path-template /v1/users/{*} (2: alice bob)']);
  });

  test('a template ending in {**} covers the rest of the path', () => {
    expect(templates(['/static/css/site.css', '/static/app.js', '/api/x'], { templates: ['/static/{**}'] })).toEqual(['/static/{**}', '/static/{**}', '/api/x']);
  });

  test('services are generalized apart: values of one never count for another', () => {
    const result = generalizePaths(new Map([['a', new Set(['/u/x', '/u/y'])], ['b', new Set(['/u/z'])]]), { minDistinct: 3, templates: [] });
    expect([result.templateOf('a', '/u/x'), result.templateOf('b', '/u/z')]).toEqual(['/u/x', '/u/z']);
  });
});
