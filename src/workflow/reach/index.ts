/** reach in the workflow: `--to` parsing, tables, and diagrams for the renderers. */
export { parseDestination } from './destination-arg.js';
export { diagramFromBlast, diagramFromReach } from './reach-diagram.js';
export { callerLabel, clauseText, formatBlastTable, formatReachTable, ruleText, table } from './reach-text.js';
