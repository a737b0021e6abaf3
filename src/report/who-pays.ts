// The seed's question as two numbers per strategy: how much the device's
// user loses, how much the filesystem loses. The scales are a choice, and
// docs/report.md states it; they are kept simple so a reader can redo them.
import type { StrategySummary } from '../replay/types.js';

/** Device-user harm, in page-equivalents: lost or stale pages, plus weighted events. */
export const DEVICE_WEIGHTS = {
  /** A faulted DMA: an error the application sees and retries; one page of work. */
  dma_fault: 1,
  /** A refused long-term pin: the application must fall back (copy, bounce buffers). */
  pin_refused: 16,
  /** A killed process: all its in-flight work, counted as 1 MiB of 4 KiB pages. */
  killed: 256,
  /** A hung device: needs a reset; as bad as a kill. */
  device_hang: 256,
} as const;

/** Filesystem harm, in seconds: stall time, plus a fixed cost per failed op, plus leaked MiB-seconds. */
export const FS_WEIGHTS = {
  /** A truncate that failed with EBUSY: the admin or application has to notice and retry. */
  op_failed_s: 1,
  /** 1 MiB of storage held for 1 s by a leaked block counts as 1 s. */
  leak_bytes_per_s: 1 << 20,
} as const;

export interface WhoPays {
  /** Page-equivalents lost to the device user. */
  device: number;
  /** Seconds-equivalents lost by the filesystem. */
  fs: number;
  /** Corruption or info leak findings: everyone pays. */
  security: number;
  /** True when the leaked block-seconds were bounded by the trace's end (no per-leak durations). */
  leakEstimated: boolean;
}

/**
 * `leakByteNs` is the sum of bytes x ns over block_leak findings when the
 * report collector ran; from a summary alone, leaks are counted as held from
 * trace start to end (an upper bound) via `spanNs`.
 */
export function whoPays(s: StrategySummary, pageSize: number, leakByteNs: number | null, spanNs: number): WhoPays {
  const c = s.counts;
  const b = s.bytes;
  const device = (b.lost_write + b.stale_read) / pageSize
    + c.dma_fault * DEVICE_WEIGHTS.dma_fault
    + c.pin_refused * DEVICE_WEIGHTS.pin_refused
    + c.killed * DEVICE_WEIGHTS.killed
    + c.device_hang * DEVICE_WEIGHTS.device_hang;
  const leak = leakByteNs ?? b.block_leak * spanNs;
  const fs = s.stall_ns.total / 1e9 + c.op_failed * FS_WEIGHTS.op_failed_s + leak / 1e9 / FS_WEIGHTS.leak_bytes_per_s;
  return {
    device: round(device),
    fs: round(fs),
    security: c.corruption + c.info_leak,
    leakEstimated: leakByteNs === null && b.block_leak > 0,
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
