/**
 * DOT → SVG through Graphviz's `dot`, when it is installed; a clear error when it is not.
 * The command is injectable so tests never depend on Graphviz being present.
 */
import { spawn } from 'node:child_process';
import { WorkflowError } from './workflow-error.js';

export async function renderSvg(dot: string, command = 'dot'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, ['-Tsvg'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new WorkflowError('graphviz_missing', `SVG needs Graphviz, and "${command}" was not found on PATH: install graphviz, or use --format dot or mermaid`)
          : new WorkflowError('graphviz_failed', `${command} failed: ${error.message}`),
      );
    });
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new WorkflowError('graphviz_failed', `${command} -Tsvg exited with ${code}: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    child.stdin.on('error', () => undefined); // a missing command closes stdin; the 'error' above reports it
    child.stdin.end(dot);
  });
}
