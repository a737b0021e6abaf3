// Pins in one strategy's replay: get_user_pages / pin_user_pages (the
// policy admits, refuses or mirrors long-term ones), unpin, and a pin
// letting go of its frames early (notified release, kill, exit).
import type { IndexedEvent } from '../trace/events.js';
import { NO_FRAME } from '../model/frame.js';
import { filePageOf } from '../model/mm.js';
import { K_ODP, K_REFUSED, P_ZERO, Pin } from '../model/pin.js';
import type { StrategyReplay } from './state.js';

/** `slot`: the replay's slot for the handle (Replay.slotOf), the same in every strategy. */
export function pin(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'pin' }>, slot: number): void {
  const m = st.m;
  if (m.killed.has(ev.pid)) return void st.dropped++;
  const ps = st.ps;
  const req = st.links.pinRequest(ev, ps);
  const { vpage0: v0, npages: n, longterm, write, link } = req;
  const pin = new Pin(req, m.device(ev.dev));
  m.pins.add(pin);
  pin.slot = slot;
  m.bySlot[slot] = pin;
  const as = m.spaces.get(ev.pid);
  if (longterm) {
    let dax = false;
    let sharedDirty = false;
    for (let i = 0; i < n && as && st.needsTarget; i++) {
      const map = as.find((v0 + i) * ps);
      if (map?.file) {
        if (map.file.dax) dax = true;
        if (map.shared && map.file.dirtyTracked) sharedDirty = true;
      }
    }
    // One target per strategy, refilled: a literal here was 40 bytes per long-term pin per strategy.
    const target = st.pinTarget;
    target.dax = dax;
    target.sharedDirtyTracked = sharedDirty;
    const adm = st.admit(pin.dev, write, target);
    if (adm === 'refuse') {
      pin.kind = K_REFUSED;
      // Named as a DMA finding names its page: the first file page, or 0 (the page within the pin) for anonymous memory.
      let page = 0;
      let firstFile: string | null = null;
      for (let i = 0; i < n && as; i++) {
        const map = as.find((v0 + i) * ps);
        if (map?.file) {
          firstFile = map.file.name;
          page = filePageOf(map, (v0 + i) * ps, ps);
          break;
        }
      }
      st.emit('pin_refused', ev.ts, ev.len, ev.pid, pin, firstFile, page, link, null, null, null);
      return markFast(st, pin);
    }
    if (adm === 'odp') {
      pin.kind = K_ODP;
      return;
    }
  }
  pin.takePages();
  for (let i = 0; i < n; i++) {
    const r = m.resolve(as, v0 + i, write, true, link);
    if (r.frame !== NO_FRAME) {
      if (r.file) {
        pin.setFilePage(i, r.file, r.fpage);
        if (r.file.dirtyTracked) pin.wbPages = true;
      }
      m.hold(pin, i, r.frame);
    } else if (r.zero) {
      // The zero page holds no frame; whether a DMA there is right depends on the file page, so look every time.
      pin.setFilePage(i, r.file!, r.fpage);
      pin.setMode(i, P_ZERO);
      pin.unsettle();
    }
  }
  markFast(st, pin);
}

/**
 * A settled pin: the engine may skip its DMA (a write only when no page can
 * be under writeback); a pin whose DMA is dropped: the engine counts it.
 * Only for the pin that holds its slot.
 */
export function markFast(st: StrategyReplay, pin: Pin): void {
  const fast = st.fastDma;
  const bits = pin.fastBits();
  if (fast === null || bits === 0) return;
  const at = pin.slot * st.fastStride + st.fastIndex;
  fast.bytes[at] = bits;
  pin.fast = fast;
  pin.fastAt = at;
}

export function unpin(st: StrategyReplay, slot: number, ts: number): void {
  const pin = st.m.bySlot[slot];
  if (pin === undefined) return;
  releasePin(st, pin, ts);
  forget(st, pin);
  st.drain(ts);
}

/** The strategy stops knowing the pin (the trace released its handle). */
export function forget(st: StrategyReplay, pin: Pin): void {
  pin.clearFast();
  st.m.pins.remove(pin);
  if (st.m.bySlot[pin.slot] === pin) st.m.bySlot[pin.slot] = undefined;
}

/** The pin's state changed: its fast-DMA byte follows (cleared, then set again if it still holds its slot). */
export function remarkFast(st: StrategyReplay, pin: Pin): void {
  pin.clearFast();
  if (st.m.bySlot[pin.slot] === pin) markFast(st, pin);
}

/**
 * The pin lets go of its frames. When the strategy releases it early (a
 * notified owner, a kill) the trace still holds the handle, and DMA on it
 * is dropped until the trace's own unpin.
 */
export function releasePin(st: StrategyReplay, pin: Pin, ts: number): void {
  if (!pin.released) {
    st.m.dropAll(pin);
    pin.released = true;
    remarkFast(st, pin);
  }
  // Indexed loops: for-of's iterator deoptimized this (and exit) when a list of another elements kind came by.
  const leaks = pin.leaks;
  if (leaks) {
    for (let k = 0; k < leaks.length; k++) {
      const l = leaks[k]!;
      st.emit('block_leak', l.ts, l.pages * st.ps, pin.req.pid, pin, l.file, l.page, pin.req.link, l.link, null, null,
        Math.max(0, ts - l.ts));
    }
    pin.leaks = null;
  }
  const blocking = pin.blocking;
  if (blocking) {
    for (let k = 0; k < blocking.length; k++) {
      const op = blocking[k]!;
      op.blockers--;
      if (op.blockers === 0) st.ready.push(op);
    }
    pin.blocking = null;
  }
}
