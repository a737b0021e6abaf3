// The pages of a page-cache file under writeback: how many writeback
// windows are open on each. Windows open and close on every writeback
// event, so an array indexed by page (as PageMap does for frames) instead
// of a Map that churned its table; `size` counts pages with a window open.
export class WritebackPages {
  private readonly open: number[] = [];
  size = 0;

  has(page: number): boolean {
    return (this.open[page] ?? 0) > 0;
  }

  start(page: number): void {
    const c = this.open[page] ?? 0;
    if (c === 0) this.size++;
    this.open[page] = c + 1;
  }

  /** Closes one window; an end with none open is ignored. */
  end(page: number): void {
    const c = this.open[page] ?? 0;
    if (c === 0) return;
    if (c === 1) this.size--;
    this.open[page] = c - 1;
  }
}
