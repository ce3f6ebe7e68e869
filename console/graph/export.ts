import type cytoscape from 'cytoscape';

/** Saving what is on a page: a file download of a blob or text. */
export function download(name: string, body: Blob | string, type = 'text/plain'): void {
  const blob = typeof body === 'string' ? new Blob([body], { type }) : body;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`);

/**
 * The drawn graph as SVG: wallets and grouped relationships at their places, with their labels
 * and colours. (The one cytoscape SVG extension is GPL-3.0 and fetches nothing we lack: these
 * few lines draw the same shapes from cytoscape's own positions and styles.)
 */
export function graphSvg(cy: cytoscape.Core): string {
  const bb = cy.elements().boundingBox({});
  const pad = 20;
  const out: string[] = [];
  for (const e of cy.edges()) {
    const s = e.source().position();
    const t = e.target().position();
    const color = e.style('line-color');
    out.push(
      `<line x1="${s.x}" y1="${s.y}" x2="${t.x}" y2="${t.y}" stroke="${color}" stroke-width="${e.data('width')}" marker-end="url(#arrow)"/>`,
      `<text x="${(s.x + t.x) / 2}" y="${(s.y + t.y) / 2}" font-size="7" fill="#5d6778" text-anchor="middle">${esc(e.data('label'))}</text>`,
    );
  }
  for (const n of cy.nodes()) {
    const p = n.position();
    const r = n.width() / 2;
    out.push(
      `<circle cx="${p.x}" cy="${p.y}" r="${r}" fill="${n.style('background-color')}" stroke="${n.style('border-color')}" stroke-width="${Number.parseFloat(n.style('border-width'))}"><title>${esc(n.id())}</title></circle>`,
      `<text x="${p.x}" y="${p.y + r + 10}" font-size="9" text-anchor="middle" fill="#1d2330">${esc(n.data('label'))}</text>`,
    );
  }
  const w = bb.w + 2 * pad;
  const h = bb.h + 2 * pad;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${bb.x1 - pad} ${bb.y1 - pad} ${w} ${h}" width="${w}" height="${h}" font-family="sans-serif">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="18" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#9aa6b8"/></marker></defs>
<rect x="${bb.x1 - pad}" y="${bb.y1 - pad}" width="${w}" height="${h}" fill="#ffffff"/>
${out.join('\n')}
</svg>
`;
}
