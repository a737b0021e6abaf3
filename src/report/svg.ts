// Vega-Lite spec -> static SVG, in Node, with no canvas and no browser:
// vega's headless SVG string renderer. The page is readable without
// JavaScript because every chart is inlined as this SVG.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { sansTextWidth } from './text-width.js';

/** The fields of vega's View that its own toSVG() reads (vega-view renderHeadless); typed here, not in vega's .d.ts. */
interface ViewInternals {
  _viewWidth: number;
  _viewHeight: number;
  _origin: [number, number];
}

// Without a canvas (Node) vega guesses 0.8 em per character, about half again too wide: the
// static SVG reserved room for text that is not there (blank bands around the who-pays plot from
// its rotated axis title, a gap before the heatmap's file names) and cut legend labels short.
interface TextItem { text?: unknown; fontSize?: number; fontWeight?: unknown; limit?: number }
const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text?: unknown) => number } }).textMetrics;
// vega calls a user-set width function for layout and truncation alike (vega-scenegraph widthGetter).
metrics.width = (item: TextItem, text?: unknown) => {
  const t = text == null ? '' : String(text).trim();
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  return sansTextWidth(t, item.fontSize != null ? Number(item.fontSize) || 0 : 11, bold);
};

/**
 * Synchronous so renderReport() can return a string: with inline data the
 * dataflow runs in one pass (view.run()), and the renderer is initialized
 * exactly as View.toSVG() does (test/report.test.ts checks they agree).
 */
export function renderSvg(spec: TopLevelSpec, idPrefix = 'c'): string {
  const vgSpec = compile(spec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Error });
  view.run();
  const v = view as unknown as ViewInternals;
  const p = view.padding() as { left: number; right: number; top: number; bottom: number };
  const Ctor = (vega.renderModule as unknown as (name: string) => { headless: unknown })('svg').headless as unknown as new (loader: unknown) => {
    initialize(el: null, w: number, h: number, origin: [number, number], scale: number): { background(b: unknown): { render(root: unknown): { svg(): string } } };
  };
  const r = new Ctor(view.loader())
    .initialize(null, Math.max(0, v._viewWidth + p.left + p.right), Math.max(0, v._viewHeight + p.top + p.bottom),
      [p.left + v._origin[0], p.top + v._origin[1]], 1)
    .background(view.background());
  const svg = r.render((view.scenegraph() as unknown as { root: unknown }).root).svg();
  view.finalize();
  return uniqueIds(inlineSvg(svg), idPrefix);
}

/** Inline SVG in HTML needs no namespace declarations; dropping them keeps the page free of URLs. */
export function inlineSvg(svg: string): string {
  return svg.replace(/^<svg([^>]*)>/, (_m, attrs: string) =>
    `<svg${attrs.replace(/\s+xmlns(:\w+)?="[^"]*"/g, '')} role="img">`);
}

/**
 * vega numbers gradients and clip paths with a process-wide counter
 * (gradient_1, clip_7...): that breaks byte-identical output, and ids
 * clash between SVGs inlined in one page. Renamed per chart, in order.
 */
export function uniqueIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) if (!ids.has(m[1]!)) ids.set(m[1]!, `${prefix}-${ids.size + 1}`);
  if (ids.size === 0) return svg;
  return svg.replace(/(\sid="|url\(#|href="#)([^")]+)/g, (all, lead: string, id: string) => (ids.has(id) ? lead + ids.get(id)! : all));
}
