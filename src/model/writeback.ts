// The pages of a page-cache file under writeback: how many writeback
// windows are open on each. Windows open and close on every writeback
// event, so an array indexed by page (as PageMap does for frames) instead
// of a Map that churned its table; `size` counts pages with a window open.
import type { CauseLink } from '../replay/types.js';

export class WritebackPages {
  private readonly open: number[] = [];
  /** The writeback start of the window last opened on each page, while one is open (a race's causal chain). */
  private readonly startedBy: (CauseLink | undefined)[] = [];
  size = 0;

  has(page: number): boolean {
    return (this.open[page] ?? 0) > 0;
  }

  start(page: number, by: CauseLink): void {
    const c = this.open[page] ?? 0;
    if (c === 0) this.size++;
    this.open[page] = c + 1;
    this.startedBy[page] = by;
  }

  /** Closes one window; an end with none open is ignored. */
  end(page: number): void {
    const c = this.open[page] ?? 0;
    if (c === 0) return;
    if (c === 1) {
      this.size--;
      this.startedBy[page] = undefined;
    }
    this.open[page] = c - 1;
  }

  /** The start of the latest window open on `page`. */
  window(page: number): CauseLink | null {
    return this.startedBy[page] ?? null;
  }
}
