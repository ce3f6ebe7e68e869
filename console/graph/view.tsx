import cytoscape from 'cytoscape';
import { useEffect, useRef } from 'preact/hooks';
import { short, tokenAmounts } from '../format.ts';
import { type TrailGraph, edgeAmounts } from './model.ts';

/**
 * The graph on a page, drawn by cytoscape.js from a TrailGraph. `version` changes when the graph
 * grew; what is new is added, what was placed keeps its place. A tap on a wallet calls `onTap`.
 * The Core is also `window.vigilGraph` (for a person in devtools and for the console's tests).
 */
export interface GraphViewProps {
  graph: TrailGraph;
  version: number;
  onTap?: (address: string) => void;
  onReady?: (cy: cytoscape.Core) => void;
}

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-size': 9,
      'text-valign': 'bottom',
      'text-margin-y': 3,
      width: 18,
      height: 18,
      'background-color': '#8fa3c7',
      'border-width': 1,
      'border-color': '#49597a',
      color: '#1d2330',
    },
  },
  { selector: 'node[kind = "hotkey"]', style: { shape: 'diamond', 'background-color': '#b79be0' } },
  { selector: 'node[kind = "contract"]', style: { shape: 'round-rectangle', 'background-color': '#e0b15c' } },
  { selector: 'node[?expanded]', style: { 'background-color': '#2457c5', 'border-color': '#173a87' } },
  { selector: 'node[?root]', style: { width: 28, height: 28, 'border-width': 3, 'border-color': '#b3261e' } },
  {
    selector: 'edge',
    style: {
      width: 'data(width)',
      'curve-style': 'bezier',
      'target-arrow-shape': 'triangle',
      'line-color': '#9aa6b8',
      'target-arrow-color': '#9aa6b8',
      label: 'data(label)',
      'font-size': 7,
      color: '#5d6778',
      'text-rotation': 'autorotate',
      'text-background-color': '#fbfcfd',
      'text-background-opacity': 1,
    },
  },
  {
    selector: 'edge[type = "TRANSFER"]',
    style: { 'line-color': '#2e7d4f', 'target-arrow-color': '#2e7d4f' },
  },
  { selector: 'edge[type ^= "STAKE"]', style: { 'line-color': '#7b4fc4', 'target-arrow-color': '#7b4fc4' } },
  { selector: ':selected', style: { 'overlay-opacity': 0.15, 'overlay-color': '#2457c5' } },
];

function sync(cy: cytoscape.Core, graph: TrailGraph): boolean {
  let added = false;
  for (const n of graph.nodes.values()) {
    const data = { id: n.id, label: short(n.id), kind: n.kind, expanded: n.expanded, root: n.root };
    const el = cy.getElementById(n.id);
    if (el.empty()) {
      cy.add({ group: 'nodes', data });
      added = true;
    } else el.data(data);
  }
  for (const e of graph.edges.values()) {
    const sums = edgeAmounts(e);
    const label = `${e.type}${e.count > 1 ? ` ×${e.count}` : ''}${sums.length ? ` ${tokenAmounts(sums)}` : ''}`;
    const data = {
      id: e.id,
      source: e.from,
      target: e.to,
      type: e.type,
      label,
      width: 1 + Math.min(5, Math.log2(e.count)),
    };
    const el = cy.getElementById(e.id);
    if (el.empty()) {
      cy.add({ group: 'edges', data });
      added = true;
    } else el.data(data);
  }
  return added;
}

/** Wallets above which the graph is laid out in rings instead of by forces. */
export const COSE_MAX = 60;

/** Lays out the graph; wallets drawn before keep their places, new ones start beside a neighbour. */
function place(cy: cytoscape.Core) {
  const fresh = cy.nodes().filter((n) => !n.scratch('placed'));
  const first = fresh.length === cy.nodes().length;
  fresh.forEach((n) => {
    const near = n.neighborhood('node').filter((m) => !!m.scratch('placed'))[0];
    if (near)
      n.position({
        x: near.position('x') + 80 * (Math.random() - 0.5),
        y: near.position('y') + 80 * (Math.random() - 0.5),
      });
  });
  // cose (force-directed) costs about n² per iteration on the main thread: a capped supernode's
  // hundred wallets froze the page for ~1.8 s (bench:console). Past COSE_MAX, rings around the roots.
  const layout =
    cy.nodes().length > COSE_MAX
      ? {
          name: 'concentric' as const,
          concentric: (n: cytoscape.NodeSingular) => (n.data('root') ? 2 : n.data('expanded') ? 1 : 0),
          levelWidth: () => 1,
          minNodeSpacing: 12,
        }
      : { name: 'cose' as const, randomize: first, nodeDimensionsIncludeLabels: true };
  cy.layout({ ...layout, animate: false, fit: true, padding: 30 }).run();
  cy.nodes().forEach((n) => {
    n.scratch('placed', true);
  });
}

export function GraphView({ graph, version, onTap, onReady }: GraphViewProps) {
  const box = useRef<HTMLDivElement>(null);
  const cyRef = useRef<cytoscape.Core | undefined>(undefined);
  const tap = useRef(onTap);
  tap.current = onTap;
  useEffect(() => {
    const cy = cytoscape({
      container: box.current,
      style: STYLE,
      wheelSensitivity: 0.3,
      minZoom: 0.05,
      maxZoom: 4,
    });
    cy.on('tap', 'node', (evt) => tap.current?.(evt.target.id()));
    cyRef.current = cy;
    (window as unknown as { vigilGraph?: cytoscape.Core }).vigilGraph = cy;
    onReady?.(cy);
    return () => cy.destroy();
  }, [onReady]);
  useEffect(() => {
    const cy = cyRef.current!;
    if (version === 0) cy.elements().remove();
    if (sync(cy, graph)) place(cy);
    box.current!.dataset.nodes = String(cy.nodes().length);
    box.current!.dataset.edges = String(cy.edges().length);
  }, [graph, version]);
  return <div ref={box} class="graph" aria-label="Graph" data-nodes="0" data-edges="0" />;
}
