// What every chart shares: size, fonts (system sans-serif only: nothing
// loaded), and a config that reads well in a screenshot on a mailing list.
import type { TopLevelSpec } from 'vega-lite';

export const CHART_WIDTH = 700;

export const CONFIG = {
  font: 'sans-serif',
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', symbolSize: 90 },
  header: { labelFontSize: 12, titleFontSize: 12, labelFontWeight: 'bold' },
  title: { fontSize: 14, anchor: 'start', fontWeight: 'bold' },
} as const;

/** Adds the shared config; `$schema` is left out so the file holds no URL. */
export function withConfig(spec: TopLevelSpec): TopLevelSpec {
  return { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
}

/** Tick values for a log or symlog axis: 0 (symlog only) and the powers of ten up to `max`. */
export function decadeTicks(min: number, max: number, withZero: boolean): number[] {
  const out: number[] = withZero ? [0] : [];
  const lo = Math.floor(Math.log10(Math.max(min, 1e-9)));
  const hi = Math.ceil(Math.log10(Math.max(max, 1)));
  for (let e = withZero ? 0 : lo; e <= hi; e++) out.push(Number((10 ** e).toPrecision(1)));
  return out;
}

/**
 * The top of a symlog who-pays axis: the smallest power of ten strictly
 * above `max` (at least 10), so the largest point never sits on the plot's
 * border, even when it is itself a power of ten.
 */
export function symlogTop(max: number): number {
  return 10 ** Math.max(1, Math.floor(Math.log10(Math.max(max, 1))) + 1);
}

/**
 * Byte-axis ticks on round binary values (0, 2 KiB, 4 KiB, ...): a
 * power-of-two multiple of the largest power of 1024 not above `max`,
 * at most 8 steps, the last tick at or above `max`.
 */
export function binaryTicks(max: number): number[] {
  const unit = 1024 ** Math.max(0, Math.floor(Math.log(Math.max(max, 1)) / Math.log(1024)));
  let step = unit;
  while (max / step > 8) step *= 2;
  // Under one unit (a few hundred bytes at most), halve towards round byte counts.
  while (step > 1 && max / step < 2 && step / 2 >= 1) step /= 2;
  const out: number[] = [];
  for (let v = 0; out.length === 0 || out.at(-1)! < max; v += step) out.push(v);
  return out;
}

/** A vega expression labelling bytes in binary units (4096 -> "4 KiB"). */
export const BYTES_LABEL = "datum.value >= 1073741824 ? format(datum.value / 1073741824, '.3~r') + ' GiB'"
  + " : datum.value >= 1048576 ? format(datum.value / 1048576, '.3~r') + ' MiB'"
  + " : datum.value >= 1024 ? format(datum.value / 1024, '.3~r') + ' KiB' : datum.value + ' B'";

/** Decade tick labels: 0, 1, 10, 100, 1,000, then 10k, 100k, 1M. */
export const DECADE_LABEL = "datum.value >= 10000 ? format(datum.value, '~s') : format(datum.value, ',~r')";
