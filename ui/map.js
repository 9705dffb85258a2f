// The live map: /flows drawn by cytoscape, refreshed every few seconds without a reload.
import cytoscape from '/ui/vendor/cytoscape.esm.min.mjs';
import { edgeVisible, flowsById, namespacesOf, toElements } from './graph-model.js';
import { element, showEdge, showNode, showReach, showWhatIf } from './panels.js';

const REFRESH_MS = 2000;
/**
 * Up to this many nodes, breadthfirst: callers in a row above the services they call, the same
 * picture every time. Past it that takes seconds; concentric (services on the inner ring,
 * callers outside, each ring in namespace order) a second or two at 2,000.
 */
const LAYERED_LAYOUT_MAX_NODES = 300;
/** Past this many edges, edges are hidden while panning and zooming, so the page stays responsive. */
const LARGE_GRAPH_EDGES = 2000;

const STYLE = [
  { selector: 'node', style: { label: 'data(label)', 'font-size': 10, 'min-zoomed-font-size': 7, color: '#1d2733', 'text-valign': 'bottom', 'text-margin-y': 3, width: 16, height: 16, 'background-color': '#4a6fa5' } },
  { selector: 'node[kind = "service"]', style: { shape: 'round-rectangle', 'background-color': '#6a4c93' } },
  { selector: 'node[kind = "both"]', style: { shape: 'diamond', 'background-color': '#37718e' } },
  { selector: 'edge', style: { width: 'data(weight)', 'curve-style': 'straight', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.8, 'line-color': '#2e7d32', 'target-arrow-color': '#2e7d32', opacity: 0.85 } },
  { selector: 'edge[decision = "denied"]', style: { 'line-color': '#d32f2f', 'target-arrow-color': '#d32f2f' } },
  { selector: 'edge[decision = "dry-run-denied"]', style: { 'line-color': '#ef6c00', 'target-arrow-color': '#ef6c00', 'line-style': 'dashed' } },
  { selector: ':selected', style: { 'overlay-color': '#1d2733', 'overlay-opacity': 0.25 } },
  { selector: '.filtered', style: { display: 'none' } },
];

/** A large graph's edges are drawn as haystacks (straight, no arrow): several times cheaper per frame. */
const LARGE_GRAPH_STYLE = [
  { selector: 'edge', style: { 'curve-style': 'haystack', 'haystack-radius': 0, 'target-arrow-shape': 'none', width: 1 } },
];

const state = { cy: undefined, flows: { edges: [], overflow: { edges: 0 } }, byId: new Map(), refreshes: 0, timings: {} };
/** For tests and benchmarks in a browser: the cytoscape instance and what the page measured. */
window.liveMap = state;

/** Any answer as JSON: one that is not (a bare 500) becomes `{ error }` with its text. */
async function getJson(url, init) {
  const response = await fetch(url, { cache: 'no-store', ...init });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: { error: text.trim() || `answered ${response.status}` } };
  }
}

function currentFilter() {
  const decisions = new Set([...document.querySelectorAll('input[name="decision"]:checked')].map((input) => input.value));
  return { namespace: document.getElementById('namespace').value, decisions };
}

/** Hides what the filters leave out: edges by decision and namespace, then nodes with no edge shown. */
function applyFilter() {
  const started = performance.now();
  const filter = currentFilter();
  const cy = state.cy;
  // Decided here, not read back as :visible, which a batch does not update until it ends.
  const shownNodes = new Set();
  cy.batch(() => {
    cy.edges().forEach((edge) => {
      const source = edge.source();
      const target = edge.target();
      const visible = edgeVisible(edge.data(), source.data('namespace'), target.data('namespace'), filter);
      setFiltered(edge, !visible);
      if (visible) shownNodes.add(source.id()).add(target.id());
    });
    cy.nodes().forEach((node) => setFiltered(node, !shownNodes.has(node.id())));
  });
  state.timings.lastFilterMs = performance.now() - started;
}

/** Only a change restyles: at 10,000 edges a refresh that changes nothing must cost nothing here. */
function setFiltered(element, filtered) {
  if (element.hasClass('filtered') !== filtered) element.toggleClass('filtered', filtered);
}

function updateNamespaces() {
  const select = document.getElementById('namespace');
  const known = new Set([...select.options].map((option) => option.value));
  for (const namespace of namespacesOf(state.flows)) {
    if (!known.has(namespace)) select.append(element('option', { value: namespace }, namespace));
  }
}

/** Adds what is new, updates what changed; returns how many nodes were added. */
function merge(cy, elements) {
  let addedNodes = 0;
  cy.batch(() => {
    const nodes = elements.nodes.filter((node) => cy.getElementById(node.data.id).empty());
    addedNodes = nodes.length;
    placeNear(cy, nodes, elements.edges);
    cy.add(nodes);
    const fresh = [];
    for (const edge of elements.edges) {
      const known = cy.getElementById(edge.data.id);
      if (known.empty()) fresh.push(edge);
      else if (known.data('count') !== edge.data.count || known.data('decision') !== edge.data.decision) known.data(edge.data); // a restyle, only when it shows
    }
    cy.add(fresh);
  });
  return addedNodes;
}

/** New nodes on a large graph start beside a neighbour already placed, rather than moving everything. */
function placeNear(cy, nodes, edges) {
  if (cy.nodes().empty()) return;
  for (const node of nodes) {
    const edge = edges.find((e) => e.data.source === node.data.id || e.data.target === node.data.id);
    const other = edge && cy.getElementById(edge.data.source === node.data.id ? edge.data.target : edge.data.source);
    const at = other && other.nonempty() ? other.position() : { x: 0, y: 0 };
    node.position = { x: at.x + 40 + Math.random() * 40, y: at.y + 40 + Math.random() * 40 };
  }
}

function layout(cy) {
  const started = performance.now();
  const options = cy.nodes().length <= LAYERED_LAYOUT_MAX_NODES
    ? { name: 'breadthfirst', directed: true, spacingFactor: 1.1, avoidOverlap: true, padding: 60, animate: false }
    : { name: 'concentric', concentric: (node) => (node.data('kind') === 'workload' ? 1 : 2), levelWidth: () => 1, minNodeSpacing: 4, padding: 20, animate: false };
  cy.layout(options).run();
  state.timings.layoutMs = performance.now() - started;
}

async function readFlows() {
  const { status, body } = await getJson('/flows');
  if (status !== 200) throw new Error(`/flows answered ${status}`);
  return body;
}

function draw(flows) {
  const started = performance.now();
  state.flows = flows;
  state.byId = flowsById(flows);
  const cy = state.cy;
  const first = cy.nodes().empty();
  const added = merge(cy, toElements(flows));
  state.timings.mergeMs = performance.now() - started;
  if (first || (added > 0 && cy.nodes().length <= LAYERED_LAYOUT_MAX_NODES)) layout(cy);
  updateNamespaces();
  applyFilter();
  state.refreshes++;
  document.body.dataset.refreshes = String(state.refreshes);
  const overflow = flows.overflow.edges > 0 ? ` (${flows.overflow.edges} requests past the edge cap)` : '';
  document.getElementById('status').textContent = `${cy.nodes().length} nodes, ${cy.edges().length} edges${overflow}; updated ${new Date().toLocaleTimeString()}`;
  state.timings.lastDrawMs = performance.now() - started;
}

async function refreshForever() {
  try {
    draw(await readFlows());
  } catch (error) {
    document.getElementById('status').textContent = `could not read /flows: ${error.message}`;
  }
  setTimeout(refreshForever, REFRESH_MS);
}

function observedPeers(name) {
  const callers = new Set();
  const destinations = new Set();
  for (const edge of state.flows.edges) {
    if (edge.destination === name) callers.add(edge.source);
    if (edge.source === name) destinations.add(edge.destination);
  }
  return { callers, destinations };
}

async function onNode(node) {
  const started = performance.now();
  const observed = observedPeers(node.id());
  showNode(document.getElementById('details'), node.data(), observed);
  // Taken now: if another click replaces the panel first, this answer lands out of sight.
  const container = document.getElementById('reach');
  state.timings.lastClickMs = performance.now() - started;
  const as = node.data('kind') === 'service' ? 'destination' : 'caller';
  try {
    const { body } = await getJson(`/ui/api/reach?node=${encodeURIComponent(node.id())}&as=${as}`);
    showReach(container, body, as === 'caller' ? observed.destinations : observed.callers);
  } catch (error) {
    showReach(container, { error: error.message }, new Set());
  }
}

function onEdge(edge) {
  const started = performance.now();
  const flow = state.byId.get(edge.id());
  showEdge(document.getElementById('details'), flow);
  prefillWhatIf(flow);
  state.timings.lastClickMs = performance.now() - started;
}

/** An edge clicked becomes the what-if's starting point: its caller, service, first method and path. */
function prefillWhatIf(flow) {
  const method = Object.keys(flow.methods)[0] ?? 'GET';
  const path = (Object.keys(flow.paths)[0] ?? '/').replaceAll(/\{[^}]*\}/g, '1');
  const request = { method, path, contextExtensions: { service: flow.destination } };
  if (flow.source.startsWith('spiffe://')) request.source = { principal: flow.source };
  document.getElementById('what-if-request').value = JSON.stringify(request, null, 2);
}

async function onWhatIf(event) {
  event.preventDefault();
  const answer = document.getElementById('what-if-answer');
  try {
    const { status, body } = await getJson('/ui/api/what-if', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: document.getElementById('what-if-request').value,
    });
    showWhatIf(answer, status, body);
  } catch (error) {
    showWhatIf(answer, 0, { error: error.message });
  }
}

/** The first /flows decides how the graph is drawn: a large one hides edges while panning and zooming. */
function createGraph(flows) {
  const large = flows.edges.length > LARGE_GRAPH_EDGES;
  const options = { hideEdgesOnViewport: large, textureOnViewport: large, minZoom: 0.02, maxZoom: 2.2, wheelSensitivity: 0.3 };
  const style = large ? [...STYLE, ...LARGE_GRAPH_STYLE] : STYLE;
  const cy = cytoscape({ container: document.getElementById('graph'), style, elements: [], ...options });
  cy.on('tap', 'node', (event) => void onNode(event.target));
  cy.on('tap', 'edge', (event) => onEdge(event.target));
  return cy;
}

async function start() {
  const started = performance.now();
  document.getElementById('filters').addEventListener('change', applyFilter);
  document.getElementById('what-if-form').addEventListener('submit', onWhatIf);
  try {
    const flows = await readFlows();
    state.cy = createGraph(flows);
    draw(flows);
    state.timings.firstMergeMs = state.timings.mergeMs;
    state.timings.firstFilterMs = state.timings.lastFilterMs;
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    // From navigation start: the page, cytoscape's bundle, /flows, layout and the first frames.
    state.timings.firstRenderMs = performance.now();
    state.timings.drawMs = performance.now() - started;
  } catch (error) {
    state.cy ??= createGraph({ edges: [] });
    document.getElementById('status').textContent = `could not read /flows: ${error.message}`;
  }
  setTimeout(refreshForever, REFRESH_MS);
}

state.ready = start();
