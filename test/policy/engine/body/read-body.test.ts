/**
 * How a body is read for `request.body.json[...]` conditions: why one is not trusted, how the
 * scan finds depth and repeated names, and that a Check parses its body once at most, and not
 * at all for policies that read none.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bodyPathsOf } from '../../../../src/policy/engine/body/body-paths.js';
import { isJsonContentType, readBody, type BodyLimits } from '../../../../src/policy/engine/body/read-body.js';
import { scanJson } from '../../../../src/policy/engine/body/scan-json.js';
import { compileTree, decisionKeyBuilder } from '../../../../src/policy/engine/index.js';
import { DENY_BY_DEFAULT, policy, request, subject } from '../fixtures.js';

afterEach(() => vi.restoreAllMocks());

const LIMITS: BodyLimits = { maxBytes: 1024, maxDepth: 4 };
const JSON_TYPE = { 'content-type': 'application/json' };

function read(body: string | Uint8Array | undefined, headers: Record<string, string> = JSON_TYPE) {
  const paths = bodyPathsOf([['a', 'b']]);
  return readBody(request({ headers, ...(body === undefined ? {} : { body }) }), LIMITS, paths);
}

describe('readBody', () => {
  it.each([
    ['no_body', undefined, JSON_TYPE],
    ['partial_body', '{}', { ...JSON_TYPE, 'x-envoy-auth-partial-body': 'true' }],
    ['body_too_large', `{"a":"${'x'.repeat(1024)}"}`, JSON_TYPE],
    ['not_json_content_type', '{}', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['encoded_body', '{}', { ...JSON_TYPE, 'content-encoding': 'br' }],
    ['invalid_utf8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), JSON_TYPE],
    ['invalid_json', "{'a':1}", JSON_TYPE],
    ['too_deep', '[[[[[1]]]]]', JSON_TYPE],
  ] as const)('says %s, before parsing anything it need not', (reason, body, headers) => {
    const parse = vi.spyOn(JSON, 'parse');
    expect(read(body, headers)).toBe(reason);
    if (reason !== 'invalid_json' && reason !== 'too_deep') expect(parse).not.toHaveBeenCalled();
  });

  it('gives the parsed document of a body within every bound', () => {
    expect(read('{"a":{"b":[1]}}', { ...JSON_TYPE, 'content-encoding': 'identity' })).toEqual({ root: { a: { b: [1] } }, repeated: undefined });
  });
});

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    [' application/json ; charset=UTF-8', true],
    ['application/json; charset="utf-8"; q=1', true],
    ['application/json; charset', false],
    ['application/json; charset=utf-16', false],
    ['application/problem+json', false],
    ['application/json, application/json', false],
    ['text/json', false],
    ['', false],
  ])('%j → %s', (type, json) => {
    expect(isJsonContentType(type)).toBe(json);
  });
});

describe('scanJson', () => {
  const paths = bodyPathsOf([['a', 'b'], ['c']]);
  const repeatedNodes = (text: string) => {
    const found = scanJson(text, 8, paths);
    return found === undefined || typeof found === 'string' ? found : [...found.keys()].filter((id) => found[id] === 1);
  };

  it('finds no repeat where none is', () => {
    expect(repeatedNodes('{"a":{"b":1,"x":2},"c":[1,{"c":2}],"x":"{\\"c\\":1,\\"c\\":2}"}')).toBeUndefined();
  });

  it('notes a name repeated in an object on a read path, plainly or under an escape', () => {
    const [a, b, c] = [1, 2, 3];
    expect(repeatedNodes('{"c":1,"c":2}')).toEqual([c]);
    expect(repeatedNodes('{"a":{"b":1,"\\u0062":2}}')).toEqual([b]);
    expect(repeatedNodes('{"a":{},"a":{"b":1}}')).toEqual([a]);
  });

  it('compares names without case, as decoders that bind AMOUNT to amount do', () => {
    expect(repeatedNodes('{"C":1,"c":2}')).toEqual([3]);
    expect(repeatedNodes('{"a":{"B":1,"\\u0062":2}}')).toEqual([2]);
    expect(repeatedNodes('{"a":{"B":1},"c":1}')).toBeUndefined();
    const both = bodyPathsOf([['k'], ['K']]);
    const found = scanJson('{"k":1,"\u212a":2}', 8, both);
    expect(found === undefined || found === 'too_deep' ? found : [...found]).toEqual([0, 1, 1]);
  });

  it('does not look for repeats off the read paths: inside lists, under other names', () => {
    expect(repeatedNodes('{"x":{"c":1,"c":2},"l":[{"c":1,"c":2}],"a":{"b":{"b":1,"b":2}}}')).toBeUndefined();
  });

  it('counts nesting in objects and lists alike, and not in strings', () => {
    expect(scanJson('{"a":[{"b":[1]}]}', 4, paths)).toBeUndefined();
    expect(scanJson('{"a":[{"b":[[1]]}]}', 4, paths)).toBe('too_deep');
    expect(scanJson(`{"s":"${'['.repeat(50)}\\"${'{'.repeat(50)}"}`, 2, paths)).toBeUndefined();
  });
});

describe('a Check against policies that read the body', () => {
  const reading = [
    policy({ id: 'a', rules: [{ when: [{ key: 'request.body.json[amount]', values: ['10'] }] }] }),
    policy({ id: 'b', action: 'DENY', rules: [{ when: [{ key: 'request.body.json[order][id]', values: ['x'] }] }] }),
  ];
  const body = request({ method: 'POST', headers: JSON_TYPE, body: '{"amount":10,"order":{"id":"o"}}' });

  it('parses the body once, for the cache key and the tree together', () => {
    const tree = compileTree(reading, DENY_BY_DEFAULT);
    const key = decisionKeyBuilder(tree.reads);
    const parse = vi.spyOn(JSON, 'parse');
    key(subject(), body);
    expect(tree.evaluate(subject(), body).effect).toBe('allow');
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('parses each new request afresh', () => {
    const tree = compileTree(reading, DENY_BY_DEFAULT);
    const parse = vi.spyOn(JSON, 'parse');
    tree.evaluate(subject(), body);
    tree.evaluate(subject(), request({ method: 'POST', headers: JSON_TYPE, body: '{"amount":11}' }));
    expect(parse).toHaveBeenCalledTimes(2);
  });

  it('never parses it for policies that read no body', () => {
    const tree = compileTree([policy({ id: 'c', rules: [{ when: [{ key: 'request.headers[x-a]', values: ['1'] }] }] })], DENY_BY_DEFAULT);
    const parse = vi.spyOn(JSON, 'parse');
    decisionKeyBuilder(tree.reads)(subject(), body);
    tree.evaluate(subject(), body);
    expect(parse).not.toHaveBeenCalled();
  });
});
