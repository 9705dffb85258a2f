import { describe, expect, it } from 'vitest';
import { compactKeys, freshCopy } from '../../../../src/policy/engine/tree/compact-keys.js';

describe('compactKeys', () => {
  it.each(['', 'svc-1', 'spiffe://prod.example/ns/a/sa/b', 'caf\u00e9', '\ud83d\ude00', 'lone \ud800 surrogate'])(
    'copies %j to an equal string',
    (text) => {
      expect(freshCopy(text)).toBe(text);
    },
  );

  it('keeps every key and value, so lookups answer as on the original map', () => {
    const original = new Map([['a', 1], ['\udc00', 2], ['spiffe://td/ns/x/sa/y', 3]]);
    const compact = compactKeys(original);
    expect([...compact]).toStrictEqual([...original]);
    for (const [key, value] of original) expect(compact.get(`${key}`)).toBe(value);
  });
});
