// Chrome trace-event JSON wants, per thread track, timestamps that only
// go forward and complete ('X') slices that do not overlap unless nested.
// Pins, stalls and DMAs overlap each other freely and reach the exporter
// out of order (a pin's slice is written at its unpin, a stall when the
// truncate completes), so each kind of thing gets a set of lanes: a slice
// goes to the first lane whose last slice ended by its start, else to a
// new lane (a new thread track). Lanes = the most things of that kind
// live at once, not the number of things.

export interface Lane {
  tid: number;
  /** End (ns) of the last slice or instant placed on this lane. */
  lastEnd: number;
}

export class LaneSet {
  readonly lanes: Lane[] = [];

  constructor(
    /** Thread name shown in the UI; lanes after the first get " #n". */
    readonly name: string,
    /** Order of this lane set among the process's tracks. */
    readonly sortIndex: number,
    private readonly newTid: (name: string, sortIndex: number) => number,
  ) {}

  /** The lane for something occupying [ts, ts + dur). */
  place(ts: number, dur: number): Lane {
    let lane = this.lanes.find((l) => l.lastEnd <= ts);
    if (!lane) {
      const n = this.lanes.length;
      lane = { tid: this.newTid(n === 0 ? this.name : `${this.name} #${n + 1}`, this.sortIndex * 1000 + n), lastEnd: -Infinity };
      this.lanes.push(lane);
    }
    lane.lastEnd = ts + dur;
    return lane;
  }
}
