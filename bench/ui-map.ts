/**
 * The live map's figures at issue 18's scale (2,000 nodes, 10,000 edges): the built
 * `meshwarden serve` (dist/) with admin.ui on, fed 10,000 distinct flows through real Checks,
 * then drawn by Debian's Chromium (headless, playwright-core, the browser test's launch).
 * Each round is a fresh server and a fresh browser profile; the table gives every round and
 * writes bench/results/ui-map.md.
 * Run: npm run build && npx tsc -p bench/tsconfig.json && node node_modules/.cache/meshwarden-bench/bench/ui-map.js [--rounds N]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { feedScaleTraffic, measureLiveMap, scalePolicies, type MapFigures } from './ui-map-measure.js';

const CLI = 'dist/cli/main.js';
const REPORT = 'bench/results/ui-map.md';

interface Serving {
  readonly grpc: string;
  readonly admin: string;
  stop(): Promise<void>;
}

/** `meshwarden serve` on loopback ports the kernel picks, ready once it logs "listening". */
async function serve(): Promise<Serving> {
  const dir = mkdtempSync(join(tmpdir(), 'meshwarden-ui-bench-'));
  writeFileSync(join(dir, 'policies.yaml'), scalePolicies());
  const config = ['policies: ["policies.yaml"]', 'decisionLog: { output: "off" }', 'admin: { ui: true }', 'flowGraph: { maxEdges: 20000 }'].join('\n');
  writeFileSync(join(dir, 'meshwarden.yaml'), config);
  const child = spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'meshwarden.yaml'), '--grpc', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await new Promise<Record<string, string>>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (text) => {
      const line = JSON.parse(text) as Record<string, string>;
      if (line['msg'] === 'listening') resolve(line);
    });
    void exited.then(() => reject(new Error('meshwarden serve exited before listening')));
  });
  return { grpc: listening['grpc']!, admin: listening['admin']!, stop: () => (child.kill('SIGTERM'), exited) };
}

async function round(): Promise<MapFigures & { checksPerSecond: number }> {
  const server = await serve();
  try {
    const checksPerSecond = await feedScaleTraffic(server.grpc);
    return { ...(await measureLiveMap(`http://${server.admin}`)), checksPerSecond };
  } finally {
    await server.stop();
  }
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const ms = (value: number) => `${Math.round(value).toLocaleString('en')} ms`;
const lines = [
  '# The live map at 2,000 nodes and 10,000 edges',
  '',
  `${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, Chromium /usr/bin/chromium headless (software rendering: --disable-gpu); load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}.`,
  'First render: navigation start to the first frame with the graph laid out (concentric) and drawn (edges as haystacks past 2,000); of which merge (adding the elements), layout. Filter: a namespace chosen to the next frame.',
  'Click: pointerdown on a node to the frame after its details. Refresh: one /flows poll merged and filtered (every 2 s).',
  '',
  '| round | nodes | edges | first render | merge | layout | refresh | filter | click | Checks/s fed |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (let i = 1; i <= rounds; i++) {
  const f = await round();
  const row = `| ${i} | ${f.nodes} | ${f.edges} | ${ms(f.firstRenderMs)} | ${ms(f.mergeMs)} | ${ms(f.layoutMs)} | ${ms(f.refreshMs)} | ${ms(f.filterMs)} | ${ms(f.clickMs)} | ${Math.round(f.checksPerSecond)} |`;
  console.log(row);
  lines.push(row);
}
lines.push('', `Command: \`npm run build && npx tsc -p bench/tsconfig.json && node node_modules/.cache/meshwarden-bench/bench/ui-map.js --rounds ${rounds}\``, '');
writeFileSync(REPORT, lines.join('\n'));
console.log(`written to ${REPORT}`);
