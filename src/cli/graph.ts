/**
 * `meshwarden graph`: draws flows — observed (admin `/flows`, or a decision log) or
 * authorized (what policies allow and deny) — as DOT, Mermaid, or SVG via Graphviz.
 */
import { writeFile } from 'node:fs/promises';
import { blastRadius, normalizeCaller, Reach } from '../policy/index.js';
import {
  diagramFromBlast,
  readDecisionLog,
  diagramFromLog,
  diagramFromSnapshot,
  engineOptions,
  loadPolicySet,
  diagramFromPolicies,
  renderDot,
  renderMermaid,
  renderSvg,
  type FlowDiagram,
} from '../workflow/index.js';
import { readFlows } from './graph-flows.js';
import { depthOf } from './reach.js';
import { usageChecked } from './test.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const USAGE =
  'usage: meshwarden graph (--flows URL_OR_FILE | --log DECISIONS.jsonl | --policy PATH... [--reach SPIFFE_ID [--depth N]]) [--format dot|mermaid|svg] [--out FILE] [--root-namespace NS]';

const OPTIONS = {
  flows: { type: 'string' },
  log: { type: 'string' },
  policy: { type: 'string', multiple: true },
  reach: { type: 'string' },
  depth: { type: 'string', default: '3' },
  format: { type: 'string', default: 'dot' },
  out: { type: 'string' },
  'root-namespace': { type: 'string' },
} as const;

type Format = 'dot' | 'mermaid' | 'svg';

export async function graphCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, OPTIONS);
  const sources = [values.flows, values.log, values.policy].filter((v) => v !== undefined);
  if (sources.length !== 1 || (values.reach !== undefined && values.policy === undefined)) throw new CliUsageError(USAGE);
  const format = values.format;
  if (format !== 'dot' && format !== 'mermaid' && format !== 'svg') throw new CliUsageError(`--format must be dot, mermaid or svg, not "${format}"`);
  const rootNamespace = values['root-namespace'];
  const diagram = values.reach === undefined
    ? await readDiagram(values.flows, values.log, values.policy, rootNamespace)
    : await reachDiagram(values.policy!, values.reach, values.depth, rootNamespace);
  const output = await render(diagram, format);
  if (values.out === undefined) process.stdout.write(output);
  else await writeFile(values.out, output);
  return 0;
}

async function readDiagram(
  flows: string | undefined,
  log: string | undefined,
  policy: string[] | undefined,
  rootNamespace: string | undefined,
): Promise<FlowDiagram> {
  if (flows !== undefined) return diagramFromSnapshot(await readFlows(flows));
  if (log !== undefined) return diagramFromLog((await readDecisionLog(log)).records);
  const options = usageChecked(() => engineOptions(undefined, rootNamespace));
  return diagramFromPolicies((await loadPolicySet(policy ?? [], options)).policies);
}

/** `--reach ID`: what the workload can get allowed, transitively (reach --blast-radius), as a graph. */
async function reachDiagram(policy: string[], start: string, depth: string, rootNamespace: string | undefined): Promise<FlowDiagram> {
  const options = usageChecked(() => engineOptions(undefined, rootNamespace));
  const principal = usageChecked(() => normalizeCaller(start));
  const hops = usageChecked(() => depthOf(depth));
  if (principal === undefined) throw new CliUsageError('--reach takes a SPIFFE ID');
  return diagramFromBlast(blastRadius(new Reach(await loadPolicySet(policy, options)), principal, hops));
}

async function render(diagram: FlowDiagram, format: Format): Promise<string> {
  switch (format) {
    case 'dot':
      return renderDot(diagram);
    case 'mermaid':
      return renderMermaid(diagram);
    case 'svg':
      return renderSvg(renderDot(diagram));
  }
}
