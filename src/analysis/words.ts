// A finding's causal chain told in one sentence, as a kernel developer
// would say it on the list: "DMA write by mlx5_0 through pin 17 at
// 3.000 ms landed on the block that truncate at 1.000 ms freed and the
// write to /mnt/pmem/b.dat at 2.000 ms reused". Plain text: the caller escapes.
import type { CauseLink, FindingKind } from '../replay/types.js';
import type { WorstFinding } from './report-data.js';

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

function rest(chain: CauseLink[], skip: Set<CauseLink>, origin: number): string {
  const others = chain.filter((l) => !skip.has(l) && l.type !== 'dma');
  // The pin is the root of every chain: said as "pinned by pid N at t".
  const words = others.map((l) => (l.type === 'pin'
    ? `pinned${l.pid !== undefined ? ` by pid ${l.pid}` : ''} at ${formatTime(l.ts, origin)}`
    : `after the ${describeLink(l, origin)}`));
  return words.length ? `; ${words.join(', ')}` : '';
}

const DMA_DIR_OF: Partial<Record<FindingKind, 'read' | 'write'>> = {
  corruption: 'write', lost_write: 'write', writeback_race: 'write', info_leak: 'read', stale_read: 'read',
};

/** The finding's causal chain in one sentence. `origin` is the trace's first timestamp. */
export function describeFinding(f: WorstFinding, origin = 0): string {
  const chain = f.chain;
  const freed = chain.filter((l) => FREEING.has(l.type)).at(-1);
  const reused = freed ? chain.filter((l) => REUSING.has(l.type) && l.ts >= freed.ts && l.index > freed.index).at(-1) : undefined;
  const used = new Set<CauseLink>([freed, reused].filter((l): l is CauseLink => l !== undefined));
  const size = f.bytes > 0 ? ` (${formatBytes(f.bytes)})` : '';
  const dir = f.dir ?? DMA_DIR_OF[f.kind] ?? 'write';
  const freedBy = freed ? `the ${describeLink(freed, origin)}` : 'an earlier operation';
  switch (f.kind) {
    case 'corruption':
    case 'info_leak': {
      const verb = f.kind === 'corruption' ? 'landed on' : 'read from';
      const tail = reused ? ` and the ${describeLink(reused, origin)} reused` : ' and someone else reused';
      return `${dmaPhrase(f, origin, dir)}${size} ${verb} the block that ${freed ? describeLink(freed, origin) : 'an earlier operation'} freed${tail}${where(f)}${rest(chain, used, origin)}`;
    }
    case 'lost_write':
      return `${dmaPhrase(f, origin, 'write')}${size} went to memory that ${freedBy} had taken from the file: silently lost${where(f)}${rest(chain, used, origin)}`;
    case 'stale_read':
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
      return `${dmaPhrase(f, origin, 'write')}${size} hit a page under writeback${wb ? ` (${describeLink(wb, origin)})` : ''}: the disk gets a torn page${where(f)}${rest(chain, new Set(wb ? [wb] : []), origin)}`;
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
