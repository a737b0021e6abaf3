// A process's address space: mappings of address ranges to file offsets
// or anonymous memory, and the anonymous frames (anonymous memory and
// private COW copies of file pages) keyed by virtual page.
import type { FileState } from './file.js';

export interface Mapping {
  start: number;
  end: number;
  file: FileState | null;
  /** File offset of `start`. */
  off: number;
  /** MAP_SHARED; anonymous mappings ignore it. */
  shared: boolean;
}

/** The file page that address `va` of mapping `m` maps (meaningful for a file mapping). */
export function filePageOf(m: Mapping, va: number, pageSize: number): number {
  return Math.floor((m.off + (va - m.start)) / pageSize);
}

export class AddressSpace {
  /** Sorted by start, non-overlapping. */
  readonly maps: Mapping[] = [];
  /** Virtual page -> frame (number) of anonymous memory or a private copy of a file page. */
  readonly anon = new AnonPages();
  constructor(readonly pid: number) {}

  find(va: number): Mapping | null {
    const m = this.maps;
    let lo = 0;
    let hi = m.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const x = m[mid]!;
      if (va < x.start) hi = mid - 1;
      else if (va >= x.end) lo = mid + 1;
      else return x;
    }
    return null;
  }

  /** Something is mapped in [start, end). */
  mapsAny(start: number, end: number): boolean {
    return this.maps.some((x) => x.end > start && x.start < end);
  }

  /** Removes [start, end) from the mappings, splitting those that straddle it; false when nothing was mapped there. */
  removeRange(start: number, end: number): boolean {
    if (!this.mapsAny(start, end)) return false;
    const out: Mapping[] = [];
    for (const x of this.maps) {
      if (x.end <= start || x.start >= end) {
        out.push(x);
        continue;
      }
      if (x.start < start) out.push({ ...x, end: start });
      if (x.end > end) out.push({ ...x, start: end, off: x.off + (end - x.start) });
    }
    this.maps.length = 0;
    this.maps.push(...out);
    return true;
  }

  add(m: Mapping): void {
    this.removeRange(m.start, m.end);
    let i = this.maps.length;
    while (i > 0 && this.maps[i - 1]!.start > m.start) i--;
    this.maps.splice(i, 0, m);
  }
}

/**
 * Virtual page -> frame, as a Map in insertion order, but keyed by the
 * page's distance from a base page: user addresses put page numbers near
 * 2^35, which V8 stores as heap numbers and hashes by a call into C++,
 * while distances within a process's mappings are small integers, hashed
 * inline. (Only speed depends on the base: any page maps to one key.)
 */
export class AnonPages {
  private readonly byOffset = new Map<number, number>();
  private base = 0;

  get size(): number {
    return this.byOffset.size;
  }

  get(vpage: number): number | undefined {
    return this.byOffset.get(vpage - this.base);
  }

  set(vpage: number, fr: number): void {
    if (this.byOffset.size === 0) this.base = vpage;
    this.byOffset.set(vpage - this.base, fr);
  }

  delete(vpage: number): boolean {
    return this.byOffset.delete(vpage - this.base);
  }

  /**
   * The virtual pages held in [v0, v1), ascending. A Float64Array sorts
   * numbers natively: Array.prototype.sort with a comparator calls back
   * into JS per comparison, and unmaps sort often.
   */
  pagesIn(v0: number, v1: number): Float64Array {
    const out = new Float64Array(this.byOffset.size);
    let n = 0;
    for (const k of this.byOffset.keys()) {
      const v = k + this.base;
      if (v >= v0 && v < v1) out[n++] = v;
    }
    return out.subarray(0, n).sort();
  }

  /** [virtual page, frame] pairs, in insertion order. */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    for (const [k, fr] of this.byOffset) out.push([k + this.base, fr]);
    return out;
  }
}
