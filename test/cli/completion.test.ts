/**
 * `meshwarden completion bash|zsh`, loaded into a real bash: bash's own completion machinery
 * (`complete`, the function it registers, `compgen`) answers what a user's Tab would get.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../helpers/server-process.js';

let bashScript: string;
let zshScript: string;

beforeAll(() => {
  bashScript = execFileSync(process.execPath, [CLI, 'completion', 'bash'], { cwd: REPO_ROOT, encoding: 'utf8' });
  zshScript = execFileSync(process.execPath, [CLI, 'completion', 'zsh'], { cwd: REPO_ROOT, encoding: 'utf8' });
});

/** What Tab completes after `line` (the word being typed is its last, possibly empty), in `cwd`. */
function complete(line: string, cwd = REPO_ROOT): string[] {
  const words = line.split(' ');
  const program = [
    bashScript,
    // the function bash would call, found the way bash finds it
    'spec=$(complete -p meshwarden)',
    'fn=${spec#*-F }; fn=${fn%% *}',
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE='${line}'`,
    'COMP_POINT=${#COMP_LINE}',
    '"$fn" meshwarden "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { cwd, encoding: 'utf8', timeout: 10_000 });
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter((word) => word !== '');
}

describe('bash completion', () => {
  it('registers a completion function for meshwarden', () => {
    const run = spawnSync('bash', ['--norc', '-c', `${bashScript}\ncomplete -p meshwarden`], { encoding: 'utf8' });
    expect(run.stdout).toMatch(/^complete .*-F _meshwarden meshwarden$/m);
  });

  it('completes the command names', () => {
    expect(complete('meshwarden se')).toEqual(['serve']);
    expect(complete('meshwarden c')).toEqual(expect.arrayContaining(['check', 'completion']));
    expect(complete('meshwarden c')).not.toContain('serve');
  });

  it("completes a command's options, the ones it parses", () => {
    expect(complete('meshwarden serve --')).toEqual(expect.arrayContaining(['--config', '--policy', '--grpc', '--admin', '--workers', '--help']));
    expect(complete('meshwarden explain --r').sort()).toEqual(['--request', '--root-namespace']);
  });

  it('offers the fixed values an option takes', () => {
    expect(complete('meshwarden graph --format ')).toEqual(['dot', 'mermaid', 'svg']);
    expect(complete('meshwarden explain --default-action A')).toEqual(['ALLOW']);
    expect(complete('meshwarden completion ')).toEqual(['bash', 'zsh']);
  });

  it('offers file names where a file or path is wanted, and nothing where an address is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshwarden-completion-'));
    writeFileSync(join(dir, 'payments.yaml'), '');
    mkdirSync(join(dir, 'policies'));
    expect(complete('meshwarden explain --request pay', dir)).toEqual(['payments.yaml']);
    expect(complete('meshwarden check pol', dir)).toEqual(['policies']);
    expect(complete('meshwarden serve --grpc ', dir)).toEqual([]);
  });
});

describe('zsh completion', () => {
  it('is the same completion function, run through zsh bashcompinit', () => {
    expect(zshScript.startsWith('#compdef meshwarden\n')).toBe(true);
    expect(zshScript).toContain('autoload -U +X bashcompinit && bashcompinit');
    const body = (script: string) => script.slice(script.indexOf('_meshwarden() {'));
    expect(body(zshScript)).toBe(body(bashScript));
  });
});

describe('meshwarden completion', () => {
  it('asks which shell, and exits 2 without one', () => {
    const run = spawnSync(process.execPath, [CLI, 'completion', 'fish'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('say which shell: meshwarden completion bash, or meshwarden completion zsh');
  });
});
