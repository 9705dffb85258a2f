/**
 * Help, version and usage errors of the built `meshwarden`, as a newcomer meets them: every
 * command answers -h/--help with its usage and every option it takes, and a wrong flag says
 * what to write instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { CLI, REPO_ROOT } from '../helpers/server-process.js';

function meshwarden(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('meshwarden --help', () => {
  it.each([['--help'], ['-h'], ['help']])('%s lists every command', (flag) => {
    const run = meshwarden(flag);
    expect(run.status).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(run.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it.each(Object.keys(COMMANDS))('%s --help prints its usage and describes every option it takes', (name) => {
    const run = meshwarden(name, '--help');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`usage: meshwarden ${name}`);
    expect(run.stdout).toMatch(/^  -h, --help +show this help$/m);
    // every option the command parses is listed, and none without its description
    expect(run.stdout).not.toContain('no description yet');
  });

  it('lists the options a command parses, with their values and defaults', () => {
    const run = meshwarden('explain', '-h');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^  --policy PATH +a policy file or directory .*\(repeatable\)$/m);
    expect(run.stdout).toMatch(/^  --default-action ALLOW\|DENY +.*\(default DENY\)$/m);
  });

  it('answers `meshwarden help serve` as `meshwarden serve --help`', () => {
    expect(meshwarden('help', 'serve').stdout).toBe(meshwarden('serve', '--help').stdout);
  });
});

describe('meshwarden --version', () => {
  it.each([['--version'], ['-V']])('%s prints the package version and the Node.js running it', (flag) => {
    const run = meshwarden(flag);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`meshwarden ${VERSION} (node ${process.version})\n`);
  });
});

describe('a wrong flag says what to write instead', () => {
  it('suggests the close name of a misspelt option', () => {
    const run = meshwarden('explain', '--polcy', 'examples/policies');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('meshwarden explain: unknown option --polcy; did you mean --policy PATH?');
    expect(run.stderr).toContain('meshwarden explain --help');
  });

  it('answers `serve --port` with where a port goes', () => {
    const run = meshwarden('serve', '--port', '9191');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown option --port; did you mean --grpc HOST:PORT or --admin HOST:PORT?');
  });

  it('says an option needs a value, in balanced quotes', () => {
    const run = meshwarden('explain', '--policy');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--policy needs a value: --policy PATH');
    expect(run.stderr.split("'").length % 2).toBe(1);
  });

  it('refuses --workers that is not a number before reading any configuration', () => {
    const run = meshwarden('serve', '--workers', 'abc');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--workers takes a whole number of processes (1 to 256) or auto, not "abc"');
    expect(run.stderr).not.toContain('NaN');
  });

  it('names the commands when the command is unknown', () => {
    const run = meshwarden('serv');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown command "serv"; the commands are serve,');
  });
});
