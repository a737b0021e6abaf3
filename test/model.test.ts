// The model's building blocks: LIFO frame pools, the timer heap, address
// space splitting, page resolution (COW), and the stall percentile rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DRAM, FrameTable, PMEM, OWNED, FREE, NO_FRAME } from '../src/model/frame.js';
import { TimerQueue } from '../src/model/timer.js';
import { AddressSpace, AnonPages } from '../src/model/mm.js';
import { Machine } from '../src/model/machine.js';
import { PageMap } from '../src/model/pagemap.js';
import { Pin, PinRequest } from '../src/model/pin.js';
import { StallAggregate, EXACT_LIMIT, SummaryBuilder } from '../src/analysis/summary.js';
import { FINDING_KINDS } from '../src/replay/types.js';
import { pinsOn } from '../src/replay/truncate.js';

test('frame pools hand out the most recently freed frame first, per pool', () => {
  const p = new FrameTable();
  const a = p.alloc(PMEM, null);
  const b = p.alloc(PMEM, null);
  const c = p.alloc(DRAM, null);
  p.free(a, null);
  p.free(b, null);
  p.free(c, null);
  assert.equal(p.alloc(PMEM, null), b);
  assert.equal(p.alloc(PMEM, null), a);
  assert.equal(p.alloc(PMEM, null), 3, 'then a fresh frame');
  assert.equal(p.alloc(DRAM, null), c);
  assert.equal(p.state(c), OWNED);
  assert.equal(p.gen(c), 2, 'every allocation bumps the generation');
  p.free(c, null);
  assert.equal(p.state(c), FREE);
  p.free(c, null);
  assert.equal(p.freeCount(DRAM), 1, 'freeing a free frame again is a no-op');
  // Past the table's first capacity: frames keep their records as it grows.
  const many = Array.from({ length: 200 }, (_, i) => {
    const f = p.alloc(i % 2 ? PMEM : DRAM, null);
    p.setOwner(f, null, 2 ** 35 + i, i % 3 ? i : 2 ** 40 + i);
    return f;
  });
  many.forEach((f, i) => {
    assert.equal(p.page(f), 2 ** 35 + i, 'a page number past 2^32 is exact');
    assert.equal(p.pid(f), i % 3 ? i : 2 ** 40 + i, 'so is a pid');
    assert.equal(p.pool(f), i % 2 ? PMEM : DRAM);
  });
});

test('a frame counts its pin references and the long-term ones apart from its state and pool', () => {
  const m = new Machine(4096);
  const t = m.frames;
  const dev = m.device('d');
  const mk = (h: number, longterm: boolean) => new Pin(new PinRequest(h, 1, longterm, true, 0, 4096, 0, 1, { index: h, type: 'pin', ts: h }, 0), dev);
  const f = t.alloc(PMEM, null);
  const [p1, p2, p3] = [mk(1, true), mk(2, false), mk(3, true)];
  t.addPin(f, p1, true);
  t.addPin(f, p2, false);
  t.addPin(f, p3, true);
  assert.deepEqual([t.pinCount(f), t.ltPins(f), t.state(f), t.pool(f)], [3, 2, OWNED, PMEM]);
  t.disconnect(f, null);
  assert.deepEqual([t.pinCount(f), t.ltPins(f), t.pool(f)], [3, 2, PMEM], 'the state moves alone');
  t.removePin(f, p1, true);
  assert.deepEqual(t.holders(f), [p3, p2], 'the last reference takes the removed one\'s place');
  assert.deepEqual([t.pinCount(f), t.ltPins(f)], [2, 1]);
  t.removePin(f, p1, true);
  assert.deepEqual([t.pinCount(f), t.ltPins(f)], [2, 1], 'a pin that holds no reference removes nothing');
  t.removePin(f, p3, true);
  t.removePin(f, p2, false);
  assert.deepEqual([t.pinCount(f), t.ltPins(f), t.holders(f)], [0, 0, []]);
});

test('timers pop in time order, ties in arming order', () => {
  const q = new TimerQueue<string>();
  q.arm(30, 'c');
  q.arm(10, 'a1');
  q.arm(20, 'b');
  q.arm(10, 'a2');
  assert.equal(q.next, 10);
  const out: string[] = [];
  while (q.size) out.push(q.pop()!.what);
  assert.deepEqual(out, ['a1', 'a2', 'b', 'c']);
  assert.equal(q.next, Infinity);
});

test('munmap of the middle of a mapping splits it and keeps file offsets', () => {
  const as = new AddressSpace(1);
  as.add({ start: 0x1000, end: 0x5000, file: null, off: 0x10000, shared: true });
  as.removeRange(0x2000, 0x3000);
  assert.deepEqual(as.maps.map((m) => [m.start, m.end, m.off]), [[0x1000, 0x2000, 0x10000], [0x3000, 0x5000, 0x12000]]);
  assert.equal(as.find(0x2800), null);
  assert.equal(as.find(0x4fff)!.start, 0x3000);
});

test('a write fault on a private file mapping breaks COW; a read sees the file page', () => {
  const m = new Machine(4096);
  const f = m.file('/f');
  f.size = 8192;
  m.fillFilePage(f, 0, null);
  m.fillFilePage(f, 1, null);
  const as = m.space(5);
  as.add({ start: 0x10000, end: 0x12000, file: f, off: 0, shared: false });
  const rd = m.resolve(as, 0x10, false, true, null).frame;
  assert.equal(rd, f.pages.get(0));
  const wr = m.resolve(as, 0x11, true, true, null).frame;
  assert.notEqual(wr, NO_FRAME);
  assert.notEqual(wr, f.pages.get(1));
  assert.equal(m.frames.file(wr), null);
  assert.equal(m.frames.pid(wr), 5);
  assert.equal(m.resolve(as, 0x11, false, false, null).frame, wr, 'the copy is what the process sees now');
  m.checkInvariants();
});

test('stall percentiles: nearest rank, exact up to the bound', () => {
  const s = new StallAggregate();
  for (const v of [50, 10, 40, 30, 20]) s.add(v);
  assert.deepEqual(s.stats(), { count: 5, total: 150, max: 50, p50: 30, p99: 50 });
  assert.deepEqual(new StallAggregate().stats(), { count: 0, total: 0, max: 0, p50: 0, p99: 0 });
});

test('stall percentiles past the exact bound stay within 1.1% and do not depend on order', () => {
  const n = EXACT_LIMIT * 3;
  const vals = Array.from({ length: n }, (_, i) => (i + 1) * 1000);
  const a = new StallAggregate();
  const b = new StallAggregate();
  for (const v of vals) a.add(v);
  for (const v of [...vals].reverse()) b.add(v);
  assert.deepEqual(a.stats(), b.stats());
  const p50 = a.stats().p50;
  const exact = vals[Math.ceil(0.5 * n) - 1]!;
  assert.ok(p50 >= exact && p50 <= exact * 1.011, `p50 ${p50} vs ${exact}`);
  assert.equal(a.stats().max, n * 1000);
  assert.ok(a.stats().p99 <= a.stats().max);
});

test('a file page map iterates exactly like a Map: first insertion order, re-set keeps the place, far pages too', () => {
  let seed = 12345;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const pools = new FrameTable();
  const frames = Array.from({ length: 8 }, () => pools.alloc(DRAM, null));
  const pm = new PageMap();
  const ref = new Map<number, (typeof frames)[number]>();
  for (let k = 0; k < 3000; k++) {
    // Mostly small pages, some far past the rest (a sparse file).
    const page = rnd(10) === 0 ? 1_000_000 + rnd(5) : rnd(40);
    const op = rnd(3);
    if (op === 0) {
      assert.equal(pm.delete(page), ref.delete(page));
    } else {
      const fr = frames[rnd(frames.length)]!;
      pm.set(page, fr);
      ref.set(page, fr);
    }
    assert.equal(pm.size, ref.size);
    assert.equal(pm.get(page), ref.get(page) ?? NO_FRAME);
    assert.equal(pm.has(page), ref.has(page));
    if (k % 100 === 0) assert.deepEqual([...pm], [...ref]);
  }
  assert.deepEqual([...pm], [...ref]);
  assert.deepEqual(pm.values(), [...ref.values()]);
});

test('anonymous pages are found by virtual page wherever they are, in insertion order or ascending, after emptying too', () => {
  const pools = new FrameTable();
  const anon = new AnonPages();
  const high = 0x7f0000000000 / 4096; // a heap-number page, as user addresses give
  const low = 0x555555554000 / 4096; // another region, below the first page set
  const [a, b, c, d] = [0, 1, 2, 3].map(() => pools.alloc(DRAM, null));
  anon.set(high + 5, a!);
  anon.set(low, b!);
  anon.set(high, c!);
  assert.equal(anon.size, 3);
  assert.equal(anon.get(high + 5), a);
  assert.equal(anon.get(low), b);
  assert.equal(anon.get(high), c);
  assert.equal(anon.get(high + 1), undefined);
  assert.deepEqual(anon.entries().map(([v]) => v), [high + 5, low, high]);
  assert.deepEqual([...anon.pagesIn(-Infinity, Infinity)], [low, high, high + 5]);
  assert.deepEqual([...anon.pagesIn(high, high + 5)], [high]);
  assert.deepEqual([...anon.pagesIn(low + 1, high)], []);
  assert.equal(anon.delete(low), true);
  assert.equal(anon.delete(low), false);
  anon.delete(high + 5);
  anon.delete(high);
  assert.equal(anon.size, 0);
  // Refilled from empty, far from the old pages: still exact.
  anon.set(low + 7, d!);
  assert.equal(anon.get(low + 7), d);
  assert.equal(anon.get(high + 5), undefined);
  assert.deepEqual(anon.entries(), [[low + 7, d]]);
});

test('a summary counts and sums every kind by name, whichever way findings arrive', () => {
  const kept = new SummaryBuilder(true);
  const counted = new SummaryBuilder(false);
  FINDING_KINDS.forEach((kind, i) => {
    for (let n = 0; n <= i; n++) {
      const f = { strategy: 'pin' as const, kind, ts: n, bytes: 10 * (i + 1), pid: 1, dev: null, pin: null, file: null, page: null, chain: [], ...(kind === 'stall' ? { dur_ns: 100 * (n + 1) } : {}) };
      kept.add(f);
      counted.tally!(f.kind, f.bytes, f.dur_ns);
    }
  });
  for (const s of [kept.finish(0), counted.finish(0)]) {
    assert.deepEqual(Object.keys(s.counts), [...FINDING_KINDS]);
    FINDING_KINDS.forEach((kind, i) => {
      assert.equal(s.counts[kind], i + 1, kind);
      assert.equal(s.bytes[kind], (i + 1) * 10 * (i + 1), kind);
    });
    const stalls = FINDING_KINDS.indexOf('stall') + 1;
    assert.equal(s.stall_ns.count, stalls);
    assert.equal(s.stall_ns.max, 100 * stalls);
  }
  assert.equal(kept.finish(0).findings!.length, FINDING_KINDS.length * (FINDING_KINDS.length + 1) / 2);
});

test('a pin is settled until a frame it holds is freed or disconnected', () => {
  const m = new Machine(4096);
  const f = m.file('/f');
  f.size = 8192;
  const a = m.fillFilePage(f, 0, null);
  const b = m.fillFilePage(f, 1, null);
  const dev = m.device('d');
  const mk = (h: number) => {
    const p = new Pin(new PinRequest(h, 1, true, true, 0, 8192, 0, 2, { index: h, type: 'pin', ts: h }, 0), dev);
    p.takePages();
    return p;
  };
  const p1 = mk(1);
  const p2 = mk(2);
  m.hold(p1, 0, a);
  m.hold(p1, 1, b);
  m.hold(p2, 0, b);
  assert.ok(p1.settled && p2.settled);
  m.release(b, null, true); // pin keeps it, disconnected: both pins holding b see it move
  assert.ok(!p1.settled && !p2.settled);
  const p3 = mk(3);
  m.hold(p3, 0, a);
  m.frames.free(a, null); // none: freed under the pins
  assert.ok(!p3.settled);
});

test('pinsOn lists each pin on the frames once, in pin event order, short lists and long alike', () => {
  for (const count of [5, 33, 200]) {
    const m = new Machine(4096);
    const f = m.file('/f');
    f.size = 4096 * count;
    const dev = m.device('d');
    const frames = Array.from({ length: count }, (_, i) => m.fillFilePage(f, i, null));
    // Pins with scrambled event indices, each holding two frames (so every pin is met twice).
    const order = Array.from({ length: count }, (_, i) => (i * 7919) % 1009); // distinct: 7919 and 1009 are coprime
    const pins = order.map((index, k) => {
      const p = new Pin(new PinRequest(k, 1, true, true, 0, 8192, 0, 2, { index, type: 'pin', ts: index }, 0), dev);
      p.takePages();
      m.hold(p, 0, frames[k]!);
      m.hold(p, 1, frames[(k + 1) % count]!);
      return p;
    });
    const got = pinsOn(m.frames, frames);
    assert.equal(got.length, count);
    assert.deepEqual(got.map((p) => p.req.link.index), [...order].sort((a, b) => a - b), `${count} pins`);
    assert.equal(new Set(got).size, count);
    assert.ok(pins.every((p) => got.includes(p)));
  }
});
