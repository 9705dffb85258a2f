/**
 * `meshwarden reach POLICY... (--to DEST | --from CALLER | --blast-radius SPIFFE_ID)`: who can
 * get which requests allowed, computed from the policies (not from traffic) with the engine's
 * semantics, each entry shown real by a witness request the enforcing engine allows. As a
 * table, JSON, or a graph (DOT, Mermaid, SVG). `--config` takes the server's defaultAction,
 * rootNamespace and trust-domain aliases. Exit 0 when computed, 1 on a broken input, 2 on usage.
 */
import { writeFile } from 'node:fs/promises';
import { blastRadius, computeReach, normalizeCaller, Reach } from '../policy/index.js';
import {
  diagramFromBlast,
  diagramFromReach,
  formatBlastTable,
  formatReachTable,
  loadPolicySet,
  parseDestination,
  renderDot,
  renderMermaid,
  renderSvg,
  type FlowDiagram,
} from '../workflow/index.js';
import { ENGINE_FLAGS, engineSettings } from './engine-flags.js';
import { usageChecked } from './test.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const USAGE =
  'usage: meshwarden reach POLICY... (--to SERVICE|NS/SERVICE|NS/*|SPIFFE_ID [--label K=V]... | --from SPIFFE_ID|anonymous | --blast-radius SPIFFE_ID [--depth N])\n' +
  '       [--json] [--format table|dot|mermaid|svg] [--out FILE] [--config FILE] [--default-action ALLOW|DENY] [--root-namespace NS]';

const OPTIONS = {
  to: { type: 'string' },
  label: { type: 'string', multiple: true },
  from: { type: 'string' },
  'blast-radius': { type: 'string' },
  depth: { type: 'string', default: '3' },
  json: { type: 'boolean', default: false },
  format: { type: 'string', default: 'table' },
  out: { type: 'string' },
  ...ENGINE_FLAGS,
} as const;

type Format = 'table' | 'json' | 'dot' | 'mermaid' | 'svg';

export async function reachCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, true);
  const questions = [values.to, values.from, values['blast-radius']].filter((v) => v !== undefined);
  if (positionals.length === 0 || questions.length !== 1) throw new CliUsageError(USAGE);
  const format = usageChecked(() => formatOf(values.json ? 'json' : values.format));
  const { options } = await engineSettings(values, argv);
  const reach = new Reach(await loadPolicySet(positionals, options));
  let output: string;
  if (values['blast-radius'] !== undefined) {
    const start = usageChecked(() => normalizeCaller(values['blast-radius']!));
    if (start === undefined) throw new CliUsageError('--blast-radius takes a SPIFFE ID');
    const blast = blastRadius(reach, start, usageChecked(() => depthOf(values.depth)));
    output = format === 'table' ? formatBlastTable(blast) : format === 'json' ? json(blast) : await draw(diagramFromBlast(blast), format);
  } else {
    const query = values.to !== undefined
      ? { destination: usageChecked(() => parseDestination(values.to!, values.label ?? [])) }
      : { caller: usageChecked(() => callerQuery(values.from!)) };
    const report = computeReach(reach, query);
    output = format === 'table' ? formatReachTable(report) : format === 'json' ? json(report) : await draw(diagramFromReach(report), format);
  }
  if (values.out === undefined) process.stdout.write(output);
  else await writeFile(values.out, output);
  return 0;
}

function callerQuery(text: string): { principal?: string } {
  const principal = normalizeCaller(text);
  return principal === undefined ? {} : { principal };
}

function formatOf(text: string): Format {
  if (text === 'table' || text === 'json' || text === 'dot' || text === 'mermaid' || text === 'svg') return text;
  throw new TypeError(`--format must be table, dot, mermaid or svg, not "${text}"`);
}

/** `--depth N` of reach and graph: how many hops a blast radius walks. */
export function depthOf(text: string): number {
  const depth = Number(text);
  if (!Number.isInteger(depth) || depth < 1 || depth > 20) throw new TypeError(`--depth must be a whole number from 1 to 20, not "${text}"`);
  return depth;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

async function draw(diagram: FlowDiagram, format: 'dot' | 'mermaid' | 'svg'): Promise<string> {
  if (format === 'mermaid') return renderMermaid(diagram);
  const dot = renderDot(diagram, 'meshwarden reach');
  return format === 'svg' ? renderSvg(dot) : dot;
}
