// No Docker engine runs here, so the Dockerfile's structure is checked instead: stages,
// the non-root user, no dev dependencies in the final image, the entry point, and a
// build context (.dockerignore) that holds every file the Dockerfile copies.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Instruction {
  readonly op: string;
  readonly args: string;
}
interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ base: m?.[1] ?? args, name: m?.[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

/** Problems with a Dockerfile's shape, as sentences. */
function dockerfileProblems(text: string): string[] {
  const problems: string[] = [];
  const stages = parseDockerfile(text);
  const final = stages.at(-1);
  if (stages.length < 2 || !final) return ['not a multi-stage build'];
  const runs = (s: Stage): string[] => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
  const build = stages.find((s) => runs(s).some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev')) && runs(s).some((r) => r.includes('npm run build')));
  if (!build) problems.push('no stage runs npm ci and npm run build');
  if (!/^(node:20(\.\d+)*-slim|gcr\.io\/distroless\/nodejs20[\w.-]*(:\S+)?)/.test(final.base)) problems.push(`final image ${final.base} is not node:20-slim or distroless nodejs20`);
  const user = final.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
  const distrolessNonRoot = final.base.endsWith(':nonroot');
  if (user === undefined ? !distrolessNonRoot : /^(root|0)(:|$)/.test(user)) problems.push('the final stage runs as root');
  for (const i of final.instructions) {
    if (i.op === 'RUN' && /\bnpm (ci|install)\b/.test(i.args) && !i.args.includes('--omit=dev')) problems.push('the final stage installs dev dependencies');
    const from = /--from=(\S+)/.exec(i.args)?.[1];
    if (i.op === 'COPY' && from && i.args.includes('node_modules')) {
      const source = stages.find((s) => s.name === from);
      if (!source || !runs(source).some((r) => /\bnpm ci\b.*--omit=dev/.test(r))) problems.push(`node_modules copied from ${from}, which does not omit dev dependencies`);
    }
  }
  const entry = final.instructions.filter((i) => i.op === 'ENTRYPOINT').at(-1)?.args;
  let argv: unknown;
  try {
    argv = entry === undefined ? undefined : JSON.parse(entry);
  } catch {
    argv = undefined;
  }
  const want = ['dist/cli/main.js', 'serve', '--config', '/etc/meshwarden/config.yaml'];
  if (!Array.isArray(argv) || !/(^|\/)node$/.test(String(argv[0])) || JSON.stringify(argv.slice(1)) !== JSON.stringify(want)) {
    problems.push('the entry point is not exec-form `node dist/cli/main.js serve --config /etc/meshwarden/config.yaml`');
  }
  return problems;
}

/** Sources of COPY instructions that read the build context (not another stage). */
function contextSources(text: string): string[] {
  return parseDockerfile(text)
    .flatMap((s) => s.instructions)
    .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
}

/** Whether .dockerignore (the "exclude all, re-include" form used here) keeps `source`. */
function kept(dockerignore: string, source: string): boolean {
  let keep = true;
  for (const raw of dockerignore.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const negate = raw.startsWith('!');
    const pattern = negate ? raw.slice(1) : raw;
    const matches = pattern === '**' || pattern === source || pattern === `${source}/**`;
    if (matches) keep = negate;
  }
  return keep;
}

describe('the Dockerfile', () => {
  const text = readFileSync('Dockerfile', 'utf8');
  const dockerignore = readFileSync('.dockerignore', 'utf8');

  it('is multi-stage, non-root, without dev dependencies, and serves with the k8s config path', () => {
    expect(dockerfileProblems(text)).toEqual([]);
  });

  it('copies only files that exist and that .dockerignore keeps in the context', () => {
    const sources = contextSources(text);
    expect(sources).toEqual(expect.arrayContaining(['package-lock.json', 'src', 'proto', 'schema']));
    for (const source of sources) {
      expect(existsSync(source), source).toBe(true);
      expect(kept(dockerignore, source), source).toBe(true);
    }
  });

  it('keeps node_modules, .git and tests out of the build context', () => {
    for (const path of ['node_modules', '.git', 'test', 'dist', 'k8s']) expect(kept(dockerignore, path), path).toBe(false);
  });

  it('is caught running as root', () => {
    expect(dockerfileProblems(text.replace('USER 65532:65532', 'USER root'))).toContain('the final stage runs as root');
  });

  it('is caught shipping dev dependencies', () => {
    const broken = text.replace('npm ci --omit=dev', 'npm ci');
    expect(dockerfileProblems(broken)).toContain('node_modules copied from deps, which does not omit dev dependencies');
  });

  it('is caught as a single-stage build', () => {
    expect(dockerfileProblems('FROM node:20-slim\nRUN npm ci && npm run build\nUSER node\n')).toEqual(['not a multi-stage build']);
  });

  it('is caught with a shell-form entry point', () => {
    const broken = text.replace(/ENTRYPOINT .*/, 'ENTRYPOINT node dist/cli/main.js serve');
    expect(dockerfileProblems(broken)).toContainEqual(expect.stringContaining('entry point'));
  });
});
