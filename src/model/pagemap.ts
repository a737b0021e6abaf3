// A file's page index -> frame map (its page cache / DAX block map).
// Truncates and writes churn these all the time; an array indexed by page
// is several times cheaper than a Map there. It still iterates in Map
// order (first insertion of each page, re-setting a page keeps its place),
// because the order frames are released in decides which is reused first.
import type { Frame } from './frame.js';

export class PageMap {
  private readonly slots: (Frame | undefined)[] = [];
  /** Insertion number of each present page (Map order). */
  private readonly seq: number[] = [];
  private next = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(page: number): Frame | undefined {
    return this.slots[page];
  }

  has(page: number): boolean {
    return this.slots[page] !== undefined;
  }

  set(page: number, fr: Frame): void {
    if (this.slots[page] === undefined) {
      this.count++;
      this.seq[page] = this.next++;
    }
    this.slots[page] = fr;
  }

  delete(page: number): boolean {
    if (this.slots[page] === undefined) return false;
    this.slots[page] = undefined;
    this.count--;
    return true;
  }

  /** Frames of pages [lo, hi), ascending, appended to `out`: by index over the range, or over what is held when that is less. */
  framesIn(lo: number, hi: number, out: Frame[]): void {
    const slots = this.slots;
    const end = Math.min(hi, slots.length);
    if (end - lo <= 4 * this.count + 64) {
      for (let p = lo; p < end; p++) {
        const fr = slots[p];
        if (fr !== undefined) out.push(fr);
      }
    } else {
      // A sparse file: forEach skips holes, in index order.
      slots.forEach((fr, p) => {
        if (fr !== undefined && p >= lo && p < end) out.push(fr);
      });
    }
  }

  /** [page, frame] pairs in insertion order. */
  entries(): [number, Frame][] {
    const out: [number, Frame][] = [];
    // forEach skips holes, so a sparse (far-offset) file costs what it holds.
    this.slots.forEach((fr, p) => {
      if (fr !== undefined) out.push([p, fr]);
    });
    return out.sort((a, b) => this.seq[a[0]]! - this.seq[b[0]]!);
  }

  values(): Frame[] {
    return this.entries().map((e) => e[1]);
  }

  [Symbol.iterator](): Iterator<[number, Frame]> {
    return this.entries()[Symbol.iterator]();
  }
}
