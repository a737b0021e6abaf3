// Declarations and the page cache in one strategy's replay: devices,
// files (their pages filled at declaration), writes that allocate storage
// and writeback windows (the writeback_race check reads them).
import type { IndexedEvent } from '../trace/events.js';
import { DeviceState } from '../model/device.js';
import type { StrategyReplay } from './state.js';
import type { CauseLink } from './types.js';

export function write(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'write' }>): void {
  const m = st.m;
  if (ev.pid !== undefined && m.killed.has(ev.pid)) return void st.dropped++;
  const f = m.file(ev.file);
  if (ev.len === 0) return; // write(2) of nothing moves no i_size
  const end = ev.off + ev.len;
  if (end > f.size) f.resize(end, st.ps, null);
  let link: CauseLink | null = null;
  const p1 = Math.floor((end - 1) / st.ps);
  for (let p = Math.floor(ev.off / st.ps); p <= p1; p++) {
    if (!f.pages.has(p)) m.fillFilePage(f, p, (link ??= st.links.get(ev)));
  }
}

export function writeback(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'writeback' }>): void {
  const f = st.m.file(ev.file);
  if (!f.dirtyTracked || ev.len === 0) return; // DAX and shmem have no writeback
  const p1 = Math.floor((ev.off + ev.len - 1) / st.ps);
  const p0 = Math.floor(ev.off / st.ps);
  if (ev.phase === 'start') {
    const link = st.links.get(ev);
    for (let p = p0; p <= p1; p++) f.writeback.start(p, link);
  } else {
    for (let p = p0; p <= p1; p++) f.writeback.end(p);
  }
}

export function device(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'device' }>): void {
  const d = st.m.devices.get(ev.dev);
  const caps = [ev.odp ?? false, ev.iommu ?? false, ev.remap ?? false, ev.fault_tolerant ?? false] as const;
  if (d) {
    // Pins that named the device before its declaration share this object.
    [d.odp, d.iommu, d.remap, d.faultTolerant] = caps;
  } else {
    st.m.devices.set(ev.dev, new DeviceState(ev.dev, ...caps));
  }
}

export function declareFile(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'file' }>): void {
  const m = st.m;
  const old = m.files.get(ev.file);
  if (old) {
    // Declared after an undeclared use (a write creating it): the old pages go.
    for (const fr of old.pages.values()) m.release(fr, null, !st.ignoresPins);
  }
  const f = m.newFile(ev.file, ev.dax ?? false, ev.shmem ?? false);
  f.size = ev.size;
  const n = f.pageCount(st.ps);
  for (let p = 0; p < n; p++) m.fillFilePage(f, p, null);
}
