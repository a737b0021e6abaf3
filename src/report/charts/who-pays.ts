// Who pays: each strategy a point, harm to the device user (x) against harm
// to the filesystem (y). Strategies that corrupt or leak data are drawn as
// red crosses: they make everyone pay, whatever their position.
import type { TopLevelSpec } from 'vega-lite';
import type { StrategyId } from '../../replay/types.js';
import { CHART_WIDTH, DECADE_LABEL, decadeTicks, withConfig } from './base.js';

export interface WhoPaysPoint {
  strategy: StrategyId;
  /** Page-equivalents (who-pays.ts). */
  device: number;
  /** Seconds-equivalents (who-pays.ts). */
  fs: number;
  /** Corruption + info leak findings. */
  security: number;
  /** "corrupts or leaks data" or "no corruption". */
  class: string;
  /** Strategies drawn at the same place share one label. */
  label: string;
  /** Where the label goes, so labels of neighbouring points do not overprint. */
  labelPos: 'above' | 'below';
}

export const SECURITY_CLASSES = ['corrupts or leaks data', 'no corruption'] as const;

export function whoPaysChart(points: WhoPaysPoint[]): TopLevelSpec {
  // Decade ticks: symlog's own ticks crowd at the top of the range.
  const maxX = Math.max(1, ...points.map((p) => p.device));
  const maxY = Math.max(1, ...points.map((p) => p.fs));
  const xTicks = decadeTicks(1, maxX, true);
  const yTicks = decadeTicks(1, maxY, true);
  const x = { field: 'device', type: 'quantitative' as const,
    scale: { type: 'symlog' as const, domain: [0, xTicks.at(-1)!], nice: false, padding: 14 },
    axis: { values: xTicks, labelExpr: DECADE_LABEL }, title: 'harm to the device user → (page-equivalents, symlog)' };
  const y = { field: 'fs', type: 'quantitative' as const,
    scale: { type: 'symlog' as const, domain: [0, yTicks.at(-1)!], nice: false, padding: 14 },
    axis: { values: yTicks, labelExpr: DECADE_LABEL }, title: 'harm to the filesystem → (seconds-equivalents, symlog)' };
  return withConfig({
    title: { text: 'Who pays?', subtitle: 'lower left is better; a red cross corrupts or leaks data: everyone pays' },
    width: CHART_WIDTH,
    height: 340,
    data: { values: points as unknown as Record<string, unknown>[] },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 160, opacity: 0.9, tooltip: true },
        encoding: {
          x, y,
          shape: { field: 'class', type: 'nominal', title: null,
            scale: { domain: [...SECURITY_CLASSES], range: ['cross', 'circle'] } },
          color: { field: 'class', type: 'nominal', title: null,
            scale: { domain: [...SECURITY_CLASSES], range: ['#b2182b', '#2166ac'] } },
          tooltip: [
            { field: 'strategy', type: 'nominal' },
            { field: 'device', type: 'quantitative', title: 'device user (page-eq.)' },
            { field: 'fs', type: 'quantitative', title: 'filesystem (s-eq.)' },
            { field: 'security', type: 'quantitative', title: 'corruption + info leaks' },
          ],
        },
      },
      ...(['above', 'below'] as const).map((pos) => ({
        transform: [{ filter: `datum.label != "" && datum.labelPos == "${pos}"` }],
        mark: { type: 'text' as const, align: 'left' as const, dx: 9, dy: pos === 'above' ? -9 : 13, fontSize: 12 },
        encoding: {
          x, y,
          text: { field: 'label', type: 'nominal' as const },
          color: { field: 'class', type: 'nominal' as const, title: null,
            scale: { domain: [...SECURITY_CLASSES], range: ['#b2182b', '#2166ac'] } },
        },
      })),
    ],
  });
}
