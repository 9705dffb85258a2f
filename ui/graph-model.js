// The observed flows (/flows) as cytoscape elements, and the filters over them. Pure: no DOM.

/** The decision an edge is drawn with: any denied request makes it red; dry-run denials orange. */
export function edgeDecision(decisions) {
  if (decisions.deny > 0) return 'denied';
  if (decisions.dryRunDeny > 0) return 'dry-run-denied';
  return 'allowed';
}

/** The namespace of a SPIFFE ID (`/ns/NS/`) or of a Kubernetes host (`svc.NS[.svc…]`); '' when none. */
export function namespaceOf(name) {
  const spiffe = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\//.exec(name);
  if (spiffe) return spiffe[1];
  const host = /^[a-z0-9-]+\.([a-z0-9-]+)(\.svc(\..*)?)?$/i.exec(name);
  return host ? host[1] : '';
}

/** What a node is called on the map: `ns/sa` for a workload, the name for a service. */
export function shortName(name) {
  const spiffe = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/(.+)$/.exec(name);
  return spiffe ? `${spiffe[1]}/${spiffe[2]}` : name;
}

export function edgeId(edge) {
  return `${edge.source} -> ${edge.destination}`;
}

/** Cytoscape element definitions for a /flows snapshot: a node per name, an edge per flow (its details stay out: see flowsById). */
export function toElements(snapshot) {
  const nodes = new Map();
  const edges = [];
  for (const edge of snapshot.edges) {
    addNode(nodes, edge.source, 'workload');
    addNode(nodes, edge.destination, 'service');
    edges.push({ group: 'edges', data: edgeData(edge) });
  }
  // In namespace order, so that a ring or row of the layout keeps a namespace together.
  const ordered = [...nodes.values()].sort((a, b) => compare(a.data.namespace, b.data.namespace) || compare(a.data.id, b.data.id));
  return { nodes: ordered, edges };
}

function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The flows by edge id, for the details of a click; kept beside the graph, not copied into it. */
export function flowsById(snapshot) {
  return new Map(snapshot.edges.map((edge) => [edgeId(edge), edge]));
}

export function edgeData(edge) {
  return {
    id: edgeId(edge),
    source: edge.source,
    target: edge.destination,
    count: edge.count,
    decision: edgeDecision(edge.decisions),
    weight: Math.min(8, 2 + Math.log10(Math.max(1, edge.count))),
  };
}

function addNode(nodes, name, kind) {
  const known = nodes.get(name);
  if (known) {
    if (known.data.kind !== kind) known.data.kind = 'both';
    return;
  }
  nodes.set(name, { group: 'nodes', data: { id: name, label: shortName(name), namespace: namespaceOf(name), kind } });
}

/** Every namespace named by a node, sorted, for the filter. */
export function namespacesOf(snapshot) {
  const names = new Set();
  for (const edge of snapshot.edges) {
    for (const name of [edge.source, edge.destination]) {
      const namespace = namespaceOf(name);
      if (namespace !== '') names.add(namespace);
    }
  }
  return [...names].sort();
}

/** Whether an edge passes the filters: its decision is shown, and one end is in the namespace. */
export function edgeVisible(data, sourceNamespace, targetNamespace, filter) {
  if (!filter.decisions.has(data.decision)) return false;
  return filter.namespace === '' || sourceNamespace === filter.namespace || targetNamespace === filter.namespace;
}

/** A policy pattern (`abc*`, `*abc`, `*`, exact) as reach reports it, matched as the engine matches. */
function matchesPattern(pattern, value) {
  if (pattern === '*') return value !== '';
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return value === pattern;
}

/**
 * Which observed peers an entry of /ui/api/reach covers: none means allowed but never used.
 * `named`: the services the answer names, which `(any other service)` does not cover.
 */
export function observedUnder(peer, observed, named = new Set()) {
  const names = [...observed];
  switch (peer.kind) {
    case 'service': return peer.service === undefined ? names.filter((name) => !named.has(name)) : names.filter((name) => name === peer.service);
    case 'principal': return names.filter((name) => name === peer.principal);
    case 'principals': return names.filter((name) => matchesPattern(peer.pattern, name));
    case 'namespace': return names.filter((name) => name.startsWith('spiffe://') && matchesPattern(peer.namespace, namespaceOf(name)));
    case 'authenticated': return names.filter((name) => name.startsWith('spiffe://'));
    case 'anyone': return names;
    default: return [];
  }
}

/** How a reach entry's peer reads on the page. */
export function peerLabel(peer) {
  switch (peer.kind) {
    case 'service': return peer.label;
    case 'principal': return peer.principal;
    case 'principals': return `any workload matching ${peer.pattern}`;
    case 'namespace': return `any workload in namespace ${peer.namespace}`;
    case 'authenticated': return 'any authenticated workload';
    case 'anyone': return 'anyone, unauthenticated included';
    default: return String(peer.kind);
  }
}
