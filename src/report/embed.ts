// Optional interactivity: vega's and vega-lite's own browser bundles,
// inlined (nothing is fetched), and a few lines that redraw each chart
// from its embedded spec with tooltips. If anything fails the static SVG
// that is already on the page stays.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scriptSafe } from './escape.js';

let bundles: string | null = null;

/** vega.min.js and vega-lite.min.js sit in the build/ folder next to each package's entry point. */
export function vegaBundles(): string {
  if (bundles === null) {
    const read = (pkg: string, file: string) =>
      readFileSync(fileURLToPath(new URL(file, import.meta.resolve(pkg))), 'utf8');
    bundles = scriptSafe(read('vega', './vega.min.js')) + '\n' + scriptSafe(read('vega-lite', './vega-lite.min.js'));
  }
  return bundles;
}

/**
 * The embed code, run in the page. Tooltip text is set with textContent,
 * never innerHTML, so a hostile file name stays text.
 */
export const EMBED_JS = `(function () {
  if (!window.vega || !window.vegaLite) return;
  var tip = document.createElement('div');
  tip.className = 'tip';
  document.body.appendChild(tip);
  function tooltip(handler, event, item, value) {
    if (value == null || value === '') { tip.style.display = 'none'; return; }
    var lines = typeof value === 'object' ? Object.keys(value).map(function (k) { return k + ': ' + value[k]; }) : [String(value)];
    tip.textContent = lines.join('\\n');
    tip.style.display = 'block';
    tip.style.left = (event.pageX + 12) + 'px';
    tip.style.top = (event.pageY + 12) + 'px';
  }
  document.querySelectorAll('figure[data-spec]').forEach(function (fig) {
    var src = document.getElementById(fig.getAttribute('data-spec'));
    var vis = fig.querySelector('.vis');
    if (!src || !vis) return;
    var live = document.createElement('div');
    live.className = 'vis live';
    try {
      var spec = vegaLite.compile(JSON.parse(src.textContent)).spec;
      var view = new vega.View(vega.parse(spec), { renderer: 'svg', container: live, hover: true, tooltip: tooltip });
      view.runAsync().then(function () {
        vis.replaceWith(live);
        fig.setAttribute('data-live', '1');
      }, function (e) { console.warn('pinscope: chart stays static:', e); });
    } catch (e) { console.warn('pinscope: chart stays static:', e); }
  });
})();`;
