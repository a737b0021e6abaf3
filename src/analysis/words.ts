// A finding's causal chain told in one sentence, as a kernel developer
// would say it on the list: "DMA write by mlx5_0 through pin 17 at
// 3.000 ms landed on the block that truncate at 1.000 ms freed and the
// write to /mnt/pmem/b.dat at 2.000 ms reused". Plain text: the caller escapes.
import type { CauseLink, FindingKind } from '../replay/types.js';
import { reuserOf, type WorstFinding } from './report-data.js';

/** ns -> "3.000 ms" (or s / µs when that reads better), relative to `origin`. */
export function formatTime(ns: number, origin = 0): string {
  const t = ns - origin;
  const a = Math.abs(t);
  if (a >= 1e9) return `${(t / 1e9).toFixed(3)} s`;
  if (a >= 1e6 || a === 0) return `${(t / 1e6).toFixed(3)} ms`;
  return `${(t / 1e3).toFixed(3)} µs`;
}

/** A duration: "45.000 s", "1.500 ms", "800 ns". */
export function formatDuration(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(3)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(3)} µs`;
  return `${ns} ns`;
}

/** Bytes: "4 KiB", "1.5 MiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** "1 strategy", "9 strategies", "1,024 findings". */
export function countOf(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Events that take storage away from a file or a process. */
const FREEING = new Set(['truncate', 'punch_hole', 'munmap', 'exit', 'mmu_notifier']);
/** Events that give storage to a file or a process (a reused frame). */
const REUSING = new Set(['write', 'mmap', 'pin', 'file']);

/** One link in words: "truncate of /x at 1.000 ms". */
export function describeLink(l: CauseLink, origin = 0): string {
  const at = `at ${formatTime(l.ts, origin)}`;
  const of = l.file !== undefined ? ` of ${l.file}` : '';
  switch (l.type) {
    case 'truncate': return `truncate${of} ${at}`;
    case 'punch_hole': return `hole punch${l.file !== undefined ? ` in ${l.file}` : ''} ${at}`;
    case 'write': return `write${l.file !== undefined ? ` to ${l.file}` : ''} ${at}`;
    case 'munmap': return `munmap${l.pid !== undefined ? ` by pid ${l.pid}` : ''} ${at}`;
    case 'exit': return `exit${l.pid !== undefined ? ` of pid ${l.pid}` : ''} ${at}`;
    case 'mmu_notifier': return `mmu notifier invalidation${l.pid !== undefined ? ` of pid ${l.pid}` : ''} ${at}`;
    case 'mmap': return `mmap${of}${l.pid !== undefined ? ` by pid ${l.pid}` : ''} ${at}`;
    case 'pin': return `pin${l.pid !== undefined ? ` by pid ${l.pid}` : ''} ${at}`;
    case 'writeback': return `writeback${of} ${at}`;
    case 'dma': return `DMA ${at}`;
    default: return `${l.type}${of} ${at}`;
  }
}

function who(f: WorstFinding): string {
  const parts: string[] = [];
  if (f.dev !== null) parts.push(`by ${f.dev}`);
  if (f.pin !== null) parts.push(`through pin ${f.pin}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

function where(f: WorstFinding): string {
  if (f.file === null) return f.page !== null ? ` (page ${f.page} of the pin)` : '';
  return ` (${f.file}${f.page !== null ? `, page ${f.page}` : ''})`;
}

/** "DMA write by mlx5_0 through pin 17 at 3.000 ms" */
function dmaPhrase(f: WorstFinding, origin: number, dir: 'read' | 'write'): string {
  return `DMA ${dir}${who(f)} at ${formatTime(f.ts, origin)}`;
}

/** How many pids a "held by N pins of pids ..." names before "and others". */
const MAX_PIDS_NAMED = 4;

/** The pins of a chain in words: "pinned by pid N at t", or for several "held by 12 pins of pid N, the first at t". */
function pinsPhrase(pins: CauseLink[], origin: number): string {
  if (pins.length === 1) {
    const l = pins[0]!;
    return `pinned${l.pid !== undefined ? ` by pid ${l.pid}` : ''} at ${formatTime(l.ts, origin)}`;
  }
  const pids = [...new Set(pins.map((l) => l.pid).filter((p): p is number => p !== undefined))].sort((a, b) => a - b);
  const named = pids.length > MAX_PIDS_NAMED ? `${pids.slice(0, MAX_PIDS_NAMED).join(', ')} and others` : pids.join(', ');
  const of = pids.length === 0 ? '' : ` of pid${pids.length > 1 ? 's' : ''} ${named}`;
  return `held by ${pins.length} pins${of}, the first at ${formatTime(Math.min(...pins.map((l) => l.ts)), origin)}`;
}

/** The links not said yet (by event index: one event may stand twice in a chain), in causal order. */
function rest(chain: CauseLink[], skip: Set<number>, origin: number): string {
  const others = chain.filter((l) => !skip.has(l.index) && l.type !== 'dma');
  // The pins are the root of every chain: said once, however many.
  const pins = others.filter((l) => l.type === 'pin');
  const words = others.filter((l) => l.type !== 'pin').map((l) => `after the ${describeLink(l, origin)}`);
  if (pins.length > 0) words.unshift(pinsPhrase(pins, origin));
  return words.length ? `; ${words.join(', ')}` : '';
}

/** "mmu notifier migrate of pid N at t": an mmu notifier that reused a frame is a migrate (model.md's chains). */
function movedBy(l: CauseLink, origin: number): string {
  return `mmu notifier migrate${l.pid !== undefined ? ` of pid ${l.pid}` : ''} at ${formatTime(l.ts, origin)}`;
}

/**
 * A lost write or stale read whose chain is only the pin and the DMA: the pin
 * holds the DAX zero page of a hole (docs/model.md "Resolving a page"), not
 * memory some operation took from the file.
 */
function onZeroPage(chain: CauseLink[]): boolean {
  return chain.length > 0 && chain.every((l) => l.type === 'pin' || l.type === 'dma');
}

const DMA_DIR_OF: Partial<Record<FindingKind, 'read' | 'write'>> = {
  corruption: 'write', lost_write: 'write', writeback_race: 'write', info_leak: 'read', stale_read: 'read',
};

/** The finding's causal chain in one sentence. `origin` is the trace's first timestamp. */
export function describeFinding(f: WorstFinding, origin = 0): string {
  const chain = f.chain;
  const security = f.kind === 'corruption' || f.kind === 'info_leak';
  // A corruption's chain is pin, freed, reused, dma (model.md): read by position, since a
  // migrate (mmu_notifier) may stand both as the event that freed the frame and the one that reused it.
  const reusedAt = security ? reuserOf(chain) : undefined;
  const freed = security && reusedAt && chain.length >= 4 ? chain.at(-3)
    : chain.filter((l) => FREEING.has(l.type)).at(-1);
  const reused = reusedAt ?? (freed ? chain.filter((l) => REUSING.has(l.type) && l.ts >= freed.ts && l.index > freed.index).at(-1) : undefined);
  const used = new Set<number>([freed, reused].filter((l): l is CauseLink => l !== undefined).map((l) => l.index));
  const size = f.bytes > 0 ? ` (${formatBytes(f.bytes)})` : '';
  const dir = f.dir ?? DMA_DIR_OF[f.kind] ?? 'write';
  const freedBy = freed ? `the ${describeLink(freed, origin)}` : 'an earlier operation';
  switch (f.kind) {
    case 'corruption':
    case 'info_leak': {
      const verb = f.kind === 'corruption' ? 'landed on' : 'read from';
      if (freed && reused && freed.index === reused.index) {
        // One event freed the frame and handed it on: a migrate moved the page.
        return `${dmaPhrase(f, origin, dir)}${size} ${verb} a frame moved by the ${movedBy(reused, origin)}, which freed it and reused it${where(f)}${rest(chain, used, origin)}`;
      }
      const tail = reused ? ` and the ${reused.type === 'mmu_notifier' ? movedBy(reused, origin) : describeLink(reused, origin)} reused` : ' and someone else reused';
      return `${dmaPhrase(f, origin, dir)}${size} ${verb} the block that ${freed ? describeLink(freed, origin) : 'an earlier operation'} freed${tail}${where(f)}${rest(chain, used, origin)}`;
    }
    case 'lost_write':
      if (onZeroPage(chain)) {
        return `${dmaPhrase(f, origin, 'write')}${size} went to the shared zero page that the pin holds over a hole of the file (a read fault on a DAX hole maps it): silently lost${where(f)}${rest(chain, used, origin)}`;
      }
      return `${dmaPhrase(f, origin, 'write')}${size} went to memory that ${freedBy} had taken from the file: silently lost${where(f)}${rest(chain, used, origin)}`;
    case 'stale_read':
      if (onZeroPage(chain)) {
        return `${dmaPhrase(f, origin, 'read')}${size} read the zero page that the pin holds over what was a hole of the file, and the file has data there now (or the page is gone): stale data${where(f)}${rest(chain, used, origin)}`;
      }
      return `${dmaPhrase(f, origin, 'read')}${size} read memory that ${freedBy} had taken from the file: stale data${where(f)}${rest(chain, used, origin)}`;
    case 'dma_fault':
      return `${dmaPhrase(f, origin, dir)}${size} faulted: ${freedBy} had revoked or invalidated the mapping${where(f)}${rest(chain, used, origin)}`;
    case 'device_hang':
      return `${f.dev ?? 'the device'} hung on a faulting DMA${f.pin !== null ? ` through pin ${f.pin}` : ''} at ${formatTime(f.ts, origin)}${rest(chain, new Set(), origin)}`;
    case 'killed':
      return `pid ${f.pid ?? '?'} was killed at ${formatTime(f.ts, origin)} to release${f.pin !== null ? ` pin ${f.pin}` : ' its pins'}${freed ? `, which the ${describeLink(freed, origin)} was waiting for` : ''}${rest(chain, used, origin)}`;
    case 'pin_refused':
      return `long-term pin${f.pin !== null ? ` ${f.pin}` : ''}${f.pid !== null ? ` of pid ${f.pid}` : ''}${f.dev !== null ? ` for ${f.dev}` : ''} at ${formatTime(f.ts, origin)} was refused${where(f)}`;
    case 'writeback_race': {
      const wb = chain.filter((l) => l.type === 'writeback').at(-1);
      return `${dmaPhrase(f, origin, 'write')}${size} hit a page under writeback${wb ? ` (${describeLink(wb, origin)})` : ''}: the disk gets a torn page${where(f)}${rest(chain, new Set(wb ? [wb.index] : []), origin)}`;
    }
    case 'stall': {
      const op = freed ? describeLink(freed, origin) : `operation at ${formatTime(f.ts, origin)}`;
      const waited = f.pending ? `was still waiting after ${formatDuration(f.dur_ns ?? 0)} when the trace ended` : `waited ${formatDuration(f.dur_ns ?? 0)}`;
      return `${op} ${waited}${f.pin !== null ? ` for pin ${f.pin}` : ''}${f.dev !== null ? ` (${f.dev})` : ''}${rest(chain, used, origin)}`;
    }
    case 'op_failed': {
      const op = freed ? describeLink(freed, origin) : `operation at ${formatTime(f.ts, origin)}`;
      return `${op} failed with EBUSY${f.pin !== null ? `: pin ${f.pin}` : ''}${f.dev !== null ? ` (${f.dev})` : ''}${f.pin !== null ? ' holds its pages long-term' : ''}${rest(chain, used, origin)}`;
    }
    case 'block_leak':
      return `${freedBy} gave up ${formatBytes(f.bytes)} that pin ${f.pin ?? '?'} kept${f.dur_ns !== undefined ? ` for ${formatDuration(f.dur_ns)}` : ''}: not reusable until unpin${where(f)}${rest(chain, used, origin)}`;
    case 'migration_blocked':
      return `migration at ${formatTime(f.ts, origin)} of a page held by pin ${f.pin ?? '?'}${f.dev !== null ? ` (${f.dev})` : ''} failed${where(f)}`;
    case 'bounce_copy':
      return `${formatBytes(f.bytes)} of pin ${f.pin ?? '?'} copied to bounce pages at ${formatTime(f.ts, origin)}${freed ? ` so the ${describeLink(freed, origin)} could complete` : ''}${rest(chain, used, origin)}`;
  }
}
