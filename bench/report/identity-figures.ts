/**
 * Reads the figures that bench/identity-verify.ts prints (it is run as it is, in a process of
 * its own): per algorithm, token verification on miss and on hit, and raw crypto.verify.
 */

export interface IdentityFigures {
  readonly missUs?: number;
  readonly rawUs?: number;
  readonly hitUs?: number;
  readonly missParallelUs?: number;
}

const LINE = /^(ES256|RS256)\s+(.+?)\s+(\d+(?:\.\d+)?) µs\/op/;

export function parseIdentityOutput(stdout: string): Record<string, IdentityFigures> {
  const out: Record<string, Record<string, number>> = {};
  for (const text of stdout.split('\n')) {
    const match = LINE.exec(text.trim());
    if (!match) continue;
    const [, alg, what, value] = match as unknown as [string, string, string, string];
    const figures = (out[alg] ??= {});
    const key = what.includes('raw') ? 'rawUs' : what.includes('hit') ? 'hitUs' : what.includes('64') ? 'missParallelUs' : what.includes('miss') ? 'missUs' : undefined;
    if (key !== undefined && figures[key] === undefined) figures[key] = Number(value);
  }
  return out;
}
