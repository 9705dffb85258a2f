// Every package npm installs accepts the Node.js the project runs on (the Dockerfile's Node 20),
// so `npm ci` on Node 20 prints no EBADENGINE warning and no dependency quietly needs a newer Node.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The Node 20 the toolchain needs at least (vite, under vitest, asks for ^20.19.0). */
const NODE_20 = '20.19.0';

type Version = readonly [number, number, number];

function version(text: string): Version {
  const [major = 0, minor = 0, patch = 0] = text.replace(/^v/, '').split('.').map((n) => Number.parseInt(n, 10) || 0);
  return [major, minor, patch];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** One comparator of an npm range: `>=22`, `^20.19.0`, `20`, `6.x`, `<21`, `*`. */
function satisfiesComparator(v: Version, comparator: string): boolean {
  if (comparator === '*' || comparator === '' || comparator === 'x') return true;
  const m = /^(>=|<=|>|<|\^|~|=)?v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(comparator);
  if (m === null) throw new Error(`an engines range this test cannot read: ${comparator}`);
  const [, op = '', major = '0', rawMinor, rawPatch] = m;
  const minor = rawMinor === undefined || rawMinor === 'x' || rawMinor === '*' ? undefined : rawMinor;
  const patch = minor === undefined || rawPatch === undefined || rawPatch === 'x' || rawPatch === '*' ? undefined : rawPatch;
  const bound = version(`${major}.${minor ?? 0}.${patch ?? 0}`);
  const c = compare(v, bound);
  switch (op) {
    case '>=': return c >= 0;
    case '>': return c > 0;
    case '<=': return c <= 0;
    case '<': return c < 0;
    case '^': return c >= 0 && v[0] === bound[0];
    case '~': return c >= 0 && v[0] === bound[0] && v[1] === bound[1];
    default: return minor === undefined ? v[0] === bound[0] : patch === undefined ? v[0] === bound[0] && v[1] === bound[1] : c === 0;
  }
}

export function satisfies(text: string, range: string): boolean {
  const v = version(text);
  return range.split('||').some((set) => set.trim().replace(/(>=|<=|>|<|\^|~|=)\s+/g, '$1').split(/\s+/).every((comparator) => satisfiesComparator(v, comparator)));
}

interface LockedPackage {
  readonly engines?: { readonly node?: string };
}

describe('the Node.js engines of the locked packages', () => {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockedPackage> };

  it('all accept Node 20, the Node of the Dockerfile and the README', () => {
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/^FROM node:20-slim /m);
    expect(readFileSync('README.md', 'utf8')).toContain(`Node.js ${NODE_20.replace(/\.0$/, '')} or later`);
    const refusing = Object.entries(lock.packages)
      .filter(([, p]) => p.engines?.node !== undefined && !satisfies(NODE_20, p.engines.node))
      .map(([name, p]) => `${name} wants node ${p.engines!.node}`);
    expect(refusing).toEqual([]);
  });

  it.each([
    { range: '>=22', ok: false },
    { range: '>=14', ok: true },
    { range: '^20.19.0 || >=22.12.0', ok: true },
    { range: '^20.20.0 || >=22.12.0', ok: false },
    { range: '20 || >=22', ok: true },
    { range: '>=18 <20', ok: false },
    { range: '>= 8', ok: true },
    { range: '6.* || 8.* || >=10', ok: true },
    { range: '22.x', ok: false },
  ])('reads the range $range as ok=$ok for Node 20.19', ({ range, ok }) => {
    expect(satisfies(NODE_20, range)).toBe(ok);
  });
});
