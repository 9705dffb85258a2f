// The side panels: an edge's or a node's details, and the what-if answer. Every text from
// traffic or the server goes in with textContent, never as markup.
import { observedUnder, peerLabel } from './graph-model.js';

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/** A two-column table of name → count, largest first (unless `ordered` already), at most `max` rows. */
function countTable(entries, { max = 50, ordered = false } = {}) {
  const sorted = ordered ? entries : [...entries].sort((a, b) => b[1] - a[1]);
  const rows = sorted.slice(0, max).map(([name, count]) => element('tr', {}, element('td', {}, name), element('td', { class: 'count' }, count)));
  if (sorted.length > max) rows.push(element('tr', {}, element('td', {}, `… ${sorted.length - max} more`), element('td')));
  return element('table', {}, element('tbody', {}, ...rows));
}

function section(title, ...content) {
  return [element('h3', {}, title), ...content];
}

export function showEdge(panel, flow) {
  const pathCounts = Object.entries(flow.paths).map(([path, entry]) => [path, entry.count]);
  const denied = flow.byVerdict ? Object.entries(flow.byVerdict.deny.paths) : [];
  panel.replaceChildren(
    element('h2', {}, 'Flow'),
    element('p', { 'data-field': 'edge' }, flow.source, ' → ', flow.destination),
    countTable([['requests', flow.count], ['allowed', flow.decisions.allow], ['denied', flow.decisions.deny], ['dry-run denied', flow.decisions.dryRunDeny]], { ordered: true }),
    ...section('Decided by', deciders(flow)),
    ...section('Methods', countTable(Object.entries(flow.methods))),
    ...section('Paths', countTable(pathCounts)),
    ...(denied.length > 0 ? section('Denied paths', countTable(denied)) : []),
    element('p', { class: 'hint' }, `last seen ${flow.lastSeen}`),
  );
}

function deciders(flow) {
  const entries = Object.entries(flow.decidedBy ?? {});
  if (entries.length === 0) return element('p', { class: 'hint' }, 'not recorded by this server');
  const table = countTable(entries);
  table.setAttribute('data-field', 'decided-by');
  return table;
}

/** A node: what was observed now; what the policy allows beyond it once `reach` answers. */
export function showNode(panel, node, observed) {
  panel.replaceChildren(
    element('h2', {}, node.kind === 'service' ? 'Service' : 'Workload'),
    element('p', { 'data-field': 'node' }, node.id),
    countTable([['observed callers', observed.callers.size], ['observed destinations', observed.destinations.size]], { ordered: true }),
    element('div', { id: 'reach' }, element('p', { class: 'hint' }, 'asking the policy what it allows…')),
  );
}

/** `answer`: /ui/api/reach's JSON. An entry no observed flow used is the gap between allowed and used. */
export function showReach(container, answer, observed) {
  if (answer.error) {
    container.replaceChildren(element('p', { class: 'hint' }, `reach: ${answer.error}`));
    return;
  }
  const named = new Set(answer.entries.map((entry) => entry.peer.service).filter((service) => service !== undefined));
  const rows = answer.entries.map((entry) => {
    const users = observedUnder(entry.peer, observed, named);
    const used = users.length > 0;
    return element('tr', { class: used ? 'used' : 'unused' },
      element('td', {}, peerLabel(entry.peer)),
      element('td', {}, operationText(entry)),
      element('td', {}, entry.allowedBy, ...(entry.unless.length > 0 ? [` unless ${entry.unless.join(', ')}`] : [])),
      element('td', {}, used ? `observed (${users.length})` : 'allowed, never observed'));
  });
  const unused = rows.filter((row) => row.className === 'unused').length;
  const direction = answer.as === 'caller' ? 'it may call' : 'may call it';
  container.replaceChildren(
    element('h3', {}, `Reach: who ${direction}, by the policy in service`),
    element('p', { 'data-field': 'reach-summary' }, `${rows.length} allowed, ${unused} never observed${answer.unproven > 0 ? `, ${answer.unproven} unproven` : ''}`),
    element('table', { 'data-field': 'reach' }, element('tbody', {}, ...rows)),
  );
}

function operationText(entry) {
  const list = (value, any) => (value === undefined ? any : Array.isArray(value) ? value.join(' ') : `not ${value.except.join(' ')}`);
  const conditions = entry.conditions > 0 ? ` (+${entry.conditions} condition${entry.conditions > 1 ? 's' : ''})` : '';
  return `${list(entry.methods, 'any method')} ${list(entry.paths, 'any path')}${conditions}`;
}

export function showWhatIf(container, status, answer) {
  if (status !== 200) {
    container.replaceChildren(element('p', { class: 'error', 'data-field': 'what-if-error' }, `${status}: ${answer.error ?? 'no answer'}`));
    return;
  }
  const { decision } = answer;
  const by = decision.by ? ` by ${decision.by.policy} rules[${decision.by.rule ?? '?'}]` : '';
  const dryRun = decision.dryRun ? `dry-run: ${decision.dryRun.verdict}${decision.dryRun.by ? ` by ${decision.dryRun.by.policy} rules[${decision.dryRun.by.rule}]` : ''}` : '';
  const policies = answer.policies.filter((policy) => policy.applies).map((policy) =>
    element('tr', {}, element('td', {}, policy.name), element('td', {}, `${policy.action}${policy.mode === 'dry-run' ? ' (dry-run)' : ''}`),
      element('td', {}, policy.matchedRules.length > 0 ? `matched rules[${policy.matchedRules.join(', ')}]` : 'no rule matched')));
  container.replaceChildren(
    element('p', { 'data-field': 'what-if-decision', class: `verdict-${decision.effect}` }, `${decision.effect} (${decision.reason})${by}`),
    ...(dryRun ? [element('p', {}, dryRun)] : []),
    element('p', { class: 'hint' }, `policy generation ${answer.generation}, the engine that enforces`),
    element('table', {}, element('tbody', {}, ...policies)),
  );
}
