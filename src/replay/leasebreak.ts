// The lease-break deadline (notify, kill): pages of a pin still held are
// bounce-copied when the device can be repointed, else the owner is killed.
import { DRAM, NO_FRAME } from '../model/frame.js';
import type { PendingOp } from '../model/pending.js';
import { P_FRAME, type Pin } from '../model/pin.js';
import { releasePin } from './pins.js';
import type { StrategyReplay } from './state.js';
import { range } from './truncate.js';
import { tearDown } from './mmap.js';

/** The lease-break deadline: bounce-copy or kill for every notified pin still held. */
export function deadline(st: StrategyReplay, op: PendingOp, t: number): void {
  op.deadlinePassed = true;
  const ps = st.ps;
  let bounced = 0;
  let firstBounced: Pin | null = null;
  const [lo, hi] = range(st, op);
  for (const p of op.notified) {
    if (p.released || !p.blocking?.includes(op)) continue;
    if (st.atDeadline(p) === 'bounce') {
      // Copy the pinned pages to bounce pages and repoint the device at them.
      const t = st.m.frames;
      for (let i = 0; i < p.req.npages; i++) {
        const fr = p.frame(i);
        if (fr === NO_FRAME || p.mode(i) !== P_FRAME || t.fileId(fr) !== op.file.id || t.page(fr) < lo || t.page(fr) >= hi) continue;
        st.m.drop(p, i);
        const b = t.alloc(DRAM, op.link);
        st.m.hold(p, i, b);
        t.disconnect(b, op.link);
        bounced++;
      }
      firstBounced ??= p;
      p.blocking.splice(p.blocking.indexOf(op), 1);
      op.blockers--;
    } else {
      kill(st, p.req.pid, t, op);
    }
  }
  if (bounced > 0) {
    st.emit('bounce_copy', t, bounced * ps, firstBounced!.req.pid, firstBounced, op.file.name, lo,
      firstBounced!.req.link, op.link, null, null);
  }
  if (op.blockers === 0) st.ready.push(op);
}

export function kill(st: StrategyReplay, pid: number, t: number, op: PendingOp): void {
  const m = st.m;
  if (m.killed.has(pid)) return;
  m.killed.add(pid);
  // The frames its pins held, each once (two pins of one page hold one page).
  const held = new Set<number>();
  let first: Pin | null = null;
  for (const p of m.pins.values()) {
    if (p.req.pid !== pid) continue;
    if (op.notified.includes(p)) first ??= p;
    for (let i = 0; i < p.req.npages && p.refPages > 0; i++) if (p.mode(i) === P_FRAME && p.frame(i) !== NO_FRAME) held.add(p.frame(i));
    releasePin(st, p, t);
  }
  // Named by the operation it was killed for: its file and first page, as its stall is.
  st.emit('killed', t, held.size * st.ps, pid, first, op.file.name, range(st, op)[0], first?.req.link ?? null, op.link, null, null);
  tearDown(st, pid, op.link);
}
