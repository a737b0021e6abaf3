// Who pays: each strategy a point, harm to the device user (x) against harm
// to the filesystem (y). Strategies that corrupt or leak data are drawn as
// red crosses: they make everyone pay, whatever their position.
import type { TopLevelSpec } from 'vega-lite';
import type { StrategyId } from '../../replay/types.js';
import { CHART_WIDTH, DECADE_LABEL, decadeTicks, symlogTop, withConfig } from './base.js';

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
  /** How leaked storage was counted (who-pays.ts leakEstimated): measured, or an upper bound. */
  leak: string;
  /** Strategies drawn at the same place share one label. */
  label: string;
  /** Where the label goes, so labels of neighbouring points do not overprint. */
  labelPos: 'above' | 'below';
  /** Which side of the point: right-aligned labels end left of it (near the plot's right edge). */
  labelAlign: 'left' | 'right';
}

export const SECURITY_CLASSES = ['corrupts or leaks data', 'no corruption'] as const;

/** The plot's geometry, shared with the label placement in model.ts. */
export const WHO_PAYS_HEIGHT = 340;
export const WHO_PAYS_PADDING = 14;
/** Label offsets from the point, in px. */
export const LABEL_DX = 9;
export const LABEL_DY = { above: -9, below: 13 } as const;

/** Where a value lands on a who-pays axis of `lengthPx` whose domain ends at `top` (vega's symlog with padding). */
export function symlogPx(v: number, top: number, lengthPx: number): number {
  return WHO_PAYS_PADDING + (lengthPx - 2 * WHO_PAYS_PADDING) * (Math.log1p(Math.max(0, v)) / Math.log1p(top));
}

/** A symlog axis with decade ticks up to `top` (symlog's own ticks crowd at the top of the range). */
export function whoPaysAxis(field: 'device' | 'fs', top: number, title: string) {
  return {
    field, type: 'quantitative' as const,
    scale: { type: 'symlog' as const, domain: [0, top], nice: false, padding: WHO_PAYS_PADDING },
    axis: { values: decadeTicks(1, top, true), labelExpr: DECADE_LABEL }, title,
  };
}

export const DEVICE_TITLE = 'harm to the device user → (page-equivalents, symlog)';
export const FS_TITLE = 'harm to the filesystem → (seconds-equivalents, symlog)';

/** Points come in drawing order (model.ts puts the security ones last, on top). */
export function whoPaysChart(points: WhoPaysPoint[]): TopLevelSpec {
  const x = whoPaysAxis('device', symlogTop(Math.max(0, ...points.map((p) => p.device))), DEVICE_TITLE);
  const y = whoPaysAxis('fs', symlogTop(Math.max(0, ...points.map((p) => p.fs))), FS_TITLE);
  const color = { field: 'class', type: 'nominal' as const, title: null,
    scale: { domain: [...SECURITY_CLASSES], range: ['#b2182b', '#2166ac'] } };
  return withConfig({
    title: { text: 'Who pays?', subtitle: 'lower left is better; a red cross corrupts or leaks data: everyone pays' },
    width: CHART_WIDTH,
    height: WHO_PAYS_HEIGHT,
    data: { values: points as unknown as Record<string, unknown>[] },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 160, opacity: 0.9, tooltip: true },
        encoding: {
          x, y, color,
          shape: { field: 'class', type: 'nominal', title: null,
            scale: { domain: [...SECURITY_CLASSES], range: ['cross', 'circle'] } },
          // Data order is drawing order: a cross is never hidden under a circle on the same spot.
          order: { field: 'security', type: 'quantitative', sort: 'ascending' },
          tooltip: [
            { field: 'strategy', type: 'nominal' },
            { field: 'device', type: 'quantitative', title: 'device user (page-eq.)' },
            { field: 'fs', type: 'quantitative', title: 'filesystem (s-eq.)' },
            { field: 'security', type: 'quantitative', title: 'corruption + info leaks' },
            { field: 'leak', type: 'nominal', title: 'leaked storage' },
          ],
        },
      },
      ...(['above', 'below'] as const).flatMap((pos) => (['left', 'right'] as const).map((align) => ({
        transform: [{ filter: `datum.label != "" && datum.labelPos == "${pos}" && datum.labelAlign == "${align}"` }],
        mark: { type: 'text' as const, align, dx: align === 'left' ? LABEL_DX : -LABEL_DX, dy: LABEL_DY[pos], fontSize: 12 },
        encoding: { x, y, color, text: { field: 'label', type: 'nominal' as const } },
      }))),
    ],
  });
}
