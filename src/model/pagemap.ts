// A file's page index -> frame map (its page cache / DAX block map).
// Truncates and writes churn these all the time; an array indexed by page
// is several times cheaper than a Map there. It still iterates in Map
// order (first insertion of each page, re-setting a page keeps its place),
// because the order frames are released in decides which is reused first.
// Frames are numbers (frame.ts): a hole or a removed page reads as
// undefined or NO_FRAME, and the array holds no pointers.
import { NO_FRAME } from './frame.js';

export class PageMap {
  private readonly slots: number[] = [];
  /** Insertion number of each present page (Map order). */
  private readonly seq: number[] = [];
  private next = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The frame of `page`, NO_FRAME when none. */
  get(page: number): number {
    const fr = this.slots[page];
    return fr === undefined ? NO_FRAME : fr;
  }

  has(page: number): boolean {
    return this.get(page) !== NO_FRAME;
  }

  set(page: number, fr: number): void {
    if (!this.has(page)) {
      this.count++;
      this.seq[page] = this.next++;
    }
    this.slots[page] = fr;
  }

  delete(page: number): boolean {
    if (!this.has(page)) return false;
    this.slots[page] = NO_FRAME;
    this.count--;
    return true;
  }

  /**
   * Frames of pages [lo, hi), ascending: by index over the range, or over
   * what is held when that is less. Counted first, so the list is one
   * allocation of its size (pushing grew it five times for a 64-page file).
   */
  framesIn(lo: number, hi: number): number[] {
    const slots = this.slots;
    const end = Math.min(hi, slots.length);
    if (end - lo <= 4 * this.count + 64) {
      let n = 0;
      for (let p = lo; p < end; p++) if (this.has(p)) n++;
      const out = new Array<number>(n);
      n = 0;
      for (let p = lo; p < end; p++) if (this.has(p)) out[n++] = slots[p]!;
      return out;
    }
    // A sparse file: forEach skips holes, in index order.
    const out: number[] = [];
    slots.forEach((fr, p) => {
      if (fr !== NO_FRAME && p >= lo && p < end) out.push(fr);
    });
    return out;
  }

  /** [page, frame] pairs in insertion order. */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    // forEach skips holes, so a sparse (far-offset) file costs what it holds.
    this.slots.forEach((fr, p) => {
      if (fr !== NO_FRAME) out.push([p, fr]);
    });
    return out.sort((a, b) => this.seq[a[0]]! - this.seq[b[0]]!);
  }

  values(): number[] {
    return this.entries().map((e) => e[1]);
  }

  [Symbol.iterator](): Iterator<[number, number]> {
    return this.entries()[Symbol.iterator]();
  }
}
