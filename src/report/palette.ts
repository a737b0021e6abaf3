// One colour per finding kind, the same in every chart and table: reds for
// what hurts everyone (security), oranges/browns for the device user, blues
// and greens for the filesystem, greys for system and cost.
import { FINDING_KINDS, type FindingKind } from '../replay/types.js';

export const KIND_COLORS: Record<FindingKind, string> = {
  corruption: '#b2182b',
  info_leak: '#e7298a',
  lost_write: '#f46d43',
  stale_read: '#fdae61',
  dma_fault: '#e6c229',
  device_hang: '#8c510a',
  killed: '#543005',
  pin_refused: '#bf812d',
  writeback_race: '#762a83',
  stall: '#2166ac',
  op_failed: '#67a9cf',
  block_leak: '#1b7837',
  migration_blocked: '#878787',
  bounce_copy: '#c7c7c7',
};

export const KIND_DOMAIN: string[] = [...FINDING_KINDS];
export const KIND_RANGE: string[] = FINDING_KINDS.map((k) => KIND_COLORS[k]);

/** A colour scale for a `kind` field, fixed so kinds keep their colour across charts. */
export function kindScale(kinds: readonly FindingKind[] = FINDING_KINDS) {
  return { domain: [...kinds] as string[], range: kinds.map((k) => KIND_COLORS[k]) };
}
