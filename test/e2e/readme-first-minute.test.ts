/**
 * The README's first screen stays true: its two opening commands, and the allow and the deny
 * it shows from `npm start`'s server are what `meshwarden call` prints against a real server
 * serving examples/config.yaml (only the decision id, new on every Check, differs).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT, startServer, type ServerProcess } from '../helpers/server-process.js';

const run = promisify(execFile);
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
/** Where `npm start` serves gRPC, as the README's commands address it. */
const NPM_START_ADDRESS = '127.0.0.1:9191';

interface Shown {
  readonly command: string;
  readonly output: string;
}

/** The `npx meshwarden call` commands of the first screen, each with the output block that follows it. */
function shownCalls(): Shown[] {
  const screen = README.slice(0, README.indexOf('\n## '));
  const pairs = [...screen.matchAll(/```sh\n(npx meshwarden call [^\n]+)\n```\n```\n([\s\S]*?)```/g)];
  return pairs.map(([, command, output]) => ({ command: command!, output: output! }));
}

const withoutDecisionIds = (text: string) => text.replace(/^( {2}decision_id: ).+$/m, '$1…');

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({ args: ['--config', 'examples/config.yaml'] });
});
afterAll(async () => {
  await server.stop();
});

describe("the README's first screen", () => {
  it('opens with npm ci && npm start and npm ci && npm test, and npm start serves examples/config.yaml on 9191', () => {
    const opening = /```sh\n(.*)\n(.*)\n```/.exec(README)!;
    expect(opening[1]).toMatch(/^npm ci && npm start +#/);
    expect(opening[2]).toMatch(/^npm ci && npm test +#/);
    const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(packageJson.scripts['start']).toContain('serve --config examples/config.yaml');
    expect(readFileSync(join(REPO_ROOT, 'examples/config.yaml'), 'utf8')).toMatch(/address: "0\.0\.0\.0:9191"/);
  });

  it('shows one allowed and one denied call', () => {
    const calls = shownCalls();
    expect(calls.map((call) => call.output.split(':')[0])).toEqual(['allow', 'deny']);
    for (const { command } of calls) expect(command).toContain(`--server ${NPM_START_ADDRESS} `);
  });

  it.each(shownCalls().map((call) => [call.command, call]))('%s prints what the README shows', async (_command, { command, output }) => {
    const args = command.replace('npx meshwarden ', '').replace(NPM_START_ADDRESS, server.grpc).split(' ');
    const answered = await run(process.execPath, [CLI, ...args], { cwd: REPO_ROOT }).catch((error: { stdout: string }) => error);
    expect(withoutDecisionIds(answered.stdout)).toBe(withoutDecisionIds(output));
  });
});
