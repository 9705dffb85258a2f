// The side panels: an edge's or a node's details, and the what-if answer. Every text from
// traffic or the server goes in with textContent, never as markup.

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/** A two-column table of name → count, largest first, at most `max` rows. */
function countTable(entries, max = 50) {
  const sorted = [...entries].sort((a, b) => b[1] - a[1]);
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
    countTable([['requests', flow.count], ['allowed', flow.decisions.allow], ['denied', flow.decisions.deny], ['dry-run denied', flow.decisions.dryRunDeny]]),
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
    countTable([['observed callers', observed.callers.size], ['observed destinations', observed.destinations.size]]),
    element('div', { id: 'reach' }, element('p', { class: 'hint' }, 'asking the policy what it allows…')),
  );
}

/** `answer`: /ui/api/reach's JSON; entries not observed are marked, the gap between allowed and used. */
export function showReach(container, answer, observed) {
  if (answer.error) {
    container.replaceChildren(element('p', { class: 'hint' }, `reach: ${answer.error}`));
    return;
  }
  const rows = (answer.entries ?? []).map((entry) => {
    const used = observed.has(entry.peer);
    return element('tr', { class: used ? 'used' : 'unused' },
      element('td', {}, entry.peer),
      element('td', {}, entry.direction ?? ''),
      element('td', {}, used ? 'observed' : 'allowed, never observed'),
      element('td', {}, (entry.rules ?? []).join(', ')));
  });
  const unused = rows.filter((row) => row.className === 'unused').length;
  container.replaceChildren(
    element('h3', {}, 'Reach: what the policy allows'),
    element('p', { 'data-field': 'reach-summary' }, `${rows.length} allowed, ${unused} of them never observed`),
    element('table', { 'data-field': 'reach' }, element('tbody', {}, ...rows)),
  );
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
