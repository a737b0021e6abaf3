// The flat event decoder must give exactly what JSON.parse gives (with hex
// addresses as their numbers, as the validator reads them, and the index
// slot the validator fills, -1 until then), or decline
// (undefined) so that JSON.parse reads the line. These tests hold it to that
// on every event type and on lines built to look almost like flat events,
// and check that clean lines really take the fast path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlatEventDecoder } from '../src/trace/readers/flat-event.js';
import { BODY_TYPES, EVENT_SPECS, EVENT_TYPES, fieldsOf, type BodyType } from '../src/trace/events.js';

/** Decodes `line` alone (followed by '\n' and another line, as in a chunk); checks the line end it reports. */
function decodeLine(d: FlatEventDecoder, line: string): object | undefined {
  const buf = Buffer.from(`${line}\n{"type":"exit","ts":1,"pid":2}\n`);
  const limit = buf.indexOf(0x0a, Buffer.byteLength(line) + 1);
  const o = d.decode(buf, 0, limit) as Record<string, unknown> | undefined;
  if (o === undefined) return o;
  assert.equal(d.end, Buffer.byteLength(line), `end of ${line}`);
  // The slot the validator numbers the event in, last and unset; the rest is JSON.parse's.
  const keys = Object.keys(o);
  assert.equal(keys[keys.length - 1], 'index', line);
  assert.equal(o.index, -1, line);
  const { index: _slot, ...value } = o;
  return value;
}

/** JSON.parse of `line`, each hex address as its number: what the decoder must give. */
function parsed(line: string): unknown {
  const o = JSON.parse(line) as Record<string, unknown>;
  if (o === null || typeof o !== 'object' || !BODY_TYPES.includes(o.type as BodyType)) return o;
  for (const [name, f] of fieldsOf(o.type as BodyType)) {
    const v = o[name];
    if (f.kind === 'addr' && typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) o[name] = Number(v);
  }
  return o;
}

// One clean line per type, every field given (optional ones too).
const CLEAN: string[] = [
  '{"type":"device","ts":0,"dev":"mlx5_0","odp":true,"iommu":false,"remap":true,"fault_tolerant":false}',
  '{"type":"file","ts":5,"file":"/mnt/pmem/a.dat","size":1048576,"dax":true,"shmem":false}',
  '{"type":"proc","ts":6,"pid":42,"comm":"ib_write_bw","notify_response_ns":2000000}',
  '{"type":"mmap","ts":10,"pid":42,"comm":"x","addr":"0x7f0000000000","len":1048576,"file":"/mnt/pmem/a.dat","off":0,"shared":false}',
  '{"type":"munmap","ts":99,"pid":42,"addr":139637976727552,"len":4096}',
  '{"type":"exit","ts":120,"pid":42,"comm":"w"}',
  '{"type":"pin","ts":20,"pid":42,"pin":17,"dev":"mlx5_0","addr":"0x7f0000000000","len":8192,"longterm":true,"write":true}',
  '{"type":"dma","ts":30,"pin":17,"off":0,"len":4096,"dir":"write","dur":1500}',
  '{"type":"dma","ts":31,"pin":17,"off":4096,"len":1,"dir":"read"}',
  '{"type":"unpin","ts":110,"pin":17}',
  '{"type":"truncate","ts":50,"pid":7,"file":"/mnt/pmem/a.dat","size":0}',
  '{"type":"punch_hole","ts":50,"pid":7,"file":"/mnt/pmem/a.dat","off":4096,"len":4096}',
  '{"type":"write","ts":60,"pid":7,"file":"/mnt/pmem/b.dat","off":0,"len":8192}',
  '{"type":"writeback","ts":70,"file":"/srv/c.dat","off":0,"len":4096,"phase":"end"}',
  '{"type":"mmu_notifier","ts":80,"pid":42,"start":"0x7f0000000000","end":"0x7f0000002000","event":"protection_page"}',
  // Spacing, key order, the largest integers taken here, ts of a long trace.
  ' { "pin" : 3 ,\t"type":"unpin" , "ts": 999999999999999 }  \r',
  '{"ts":123456789012345,"dir":"read","len":7,"off":0,"pin":0,"type":"dma"}',
  // Hex in either case, and the longest hex address taken here (13 digits, below 2^52).
  '{"type":"munmap","ts":99,"pid":42,"addr":"0X7F00aBcDeF00","len":4096}',
  '{"type":"mmu_notifier","ts":80,"pid":42,"start":"0x0","end":"0xfffffffffffff","event":"migrate"}',
];

test('flat events: every type decodes from bytes to exactly what JSON.parse gives', () => {
  const d = new FlatEventDecoder();
  const types = new Set<string>();
  for (const line of CLEAN) {
    const o = decodeLine(d, line);
    assert.notEqual(o, undefined, `the fast path takes ${line}`);
    assert.deepEqual(o, parsed(line), line);
    types.add((o as { type: string }).type);
  }
  assert.deepEqual([...types].sort(), EVENT_TYPES.filter((t) => t !== 'meta').sort());
});

// Each is valid JSON (or nearly) that the decoder must leave to JSON.parse.
const DECLINED: [string, string][] = [
  ['an escape in a string', '{"type":"proc","ts":1,"pid":2,"comm":"a\\"b"}'],
  ['an escape in a key', '{"t\\u0079pe":"exit","ts":1,"pid":2}'],
  ['non-ASCII', '{"type":"proc","ts":1,"pid":2,"comm":"日本"}'],
  ['an unknown key', '{"type":"exit","ts":1,"pid":2,"x":1}'],
  ['a key of another type', '{"type":"exit","ts":1,"pid":2,"dur":5}'],
  ['a repeated key', '{"type":"exit","ts":1,"pid":2,"pid":3}'],
  ['a missing required field', '{"type":"exit","ts":1}'],
  ['no type', '{"ts":1,"pid":2}'],
  ['an unknown type', '{"type":"exits","ts":1,"pid":2}'],
  ['meta', '{"type":"meta","format":"pinscope-trace","version":1}'],
  ['a bad enum value', '{"type":"dma","ts":1,"pin":1,"off":0,"len":1,"dir":"writ"}'],
  ['an enum value with more after it', '{"type":"dma","ts":1,"pin":1,"off":0,"len":1,"dir":"writes"}'],
  ['a string for a number', '{"type":"exit","ts":"1","pid":2}'],
  ['a number for a string', '{"type":"file","ts":1,"file":3,"size":0}'],
  ['a number for a bool', '{"type":"pin","ts":1,"pid":1,"pin":1,"addr":0,"len":1,"write":1}'],
  ['a negative number', '{"type":"exit","ts":-1,"pid":2}'],
  ['minus zero', '{"type":"exit","ts":-0,"pid":2}'],
  ['a fraction', '{"type":"exit","ts":1.5,"pid":2}'],
  ['a fraction of zeros', '{"type":"exit","ts":1.0,"pid":2}'],
  ['an exponent', '{"type":"exit","ts":1e3,"pid":2}'],
  ['a capital exponent', '{"type":"exit","ts":1E3,"pid":2}'],
  ['a leading zero', '{"type":"exit","ts":01,"pid":2}'],
  ['sixteen digits', '{"type":"exit","ts":1234567890123456,"pid":2}'],
  ['beyond 2^53', '{"type":"exit","ts":9007199254740993,"pid":2}'],
  ['null', '{"type":"exit","ts":null,"pid":2}'],
  ['a nested object', '{"type":"exit","ts":1,"pid":{"a":1}}'],
  ['an array', '{"type":"exit","ts":[1],"pid":2}'],
  ['truex', '{"type":"pin","ts":1,"pid":1,"pin":1,"addr":0,"len":1,"write":truex}'],
  ['tru', '{"type":"pin","ts":1,"pid":1,"pin":1,"addr":0,"len":1,"write":tru}'],
  ['a number run into a letter', '{"type":"exit","ts":12a,"pid":2}'],
  ['two objects on a line', '{"type":"exit","ts":1,"pid":2}{"type":"exit","ts":2,"pid":2}'],
  ['a trailing comma', '{"type":"exit","ts":1,"pid":2,}'],
  ['an empty object', '{}'],
  ['no closing brace', '{"type":"exit","ts":1,"pid":2'],
  ['a string cut by the line end', '{"type":"proc","ts":1,"pid":2,"comm":"ab'],
  ['a key cut by the line end', '{"type":"exit","ts":1,"pi'],
  ['a control character in a string', '{"type":"proc","ts":1,"pid":2,"comm":"a\tb"}'],
  ['a missing colon', '{"type" "exit","ts":1,"pid":2}'],
  ['a blank line', '   '],
  ['an empty line', ''],
  ['a bare number', '42'],
  ['a hex address of no digits', '{"type":"munmap","ts":1,"pid":1,"addr":"0x","len":1}'],
  ['a hex address of 14 digits', '{"type":"munmap","ts":1,"pid":1,"addr":"0x00000000000001","len":1}'],
  ['a hex address past 2^53', '{"type":"munmap","ts":1,"pid":1,"addr":"0x20000000000001","len":1}'],
  ['a hex address with a bad digit', '{"type":"munmap","ts":1,"pid":1,"addr":"0x7g","len":1}'],
  ['an address in decimal in a string', '{"type":"munmap","ts":1,"pid":1,"addr":"4096","len":1}'],
  ['an address with a space', '{"type":"munmap","ts":1,"pid":1,"addr":"0x10 ","len":1}'],
  ['an address with an escape', '{"type":"munmap","ts":1,"pid":1,"addr":"0x1\\u0030","len":1}'],
];

test('flat events: anything but a clean flat event is declined, or decoded as JSON.parse would', () => {
  const d = new FlatEventDecoder();
  for (const [what, line] of DECLINED) {
    const o = decodeLine(d, line);
    assert.equal(o, undefined, what);
    // A declined line leaves nothing behind: the next clean line decodes alone.
    assert.deepEqual(decodeLine(d, CLEAN[5]!), parsed(CLEAN[5]!), `after ${what}`);
  }
});

test('flat events: random edits of clean lines never decode to anything JSON.parse would not give', () => {
  const d = new FlatEventDecoder();
  let x = 987654321;
  const rnd = (n: number) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
  const alphabet = '{}[]",:0123456789-.eE \ttrufalsn\\x';
  let decoded = 0;
  for (let round = 0; round < 20000; round++) {
    let line = CLEAN[rnd(CLEAN.length)]!;
    for (let edits = 1 + rnd(3); edits > 0; edits--) {
      const at = rnd(line.length + 1);
      const op = rnd(3);
      const ch = alphabet[rnd(alphabet.length)]!;
      line = op === 0 ? line.slice(0, at) + ch + line.slice(at)
        : op === 1 ? line.slice(0, at) + line.slice(at + 1)
          : line.slice(0, at) + ch + line.slice(at + 1);
    }
    const o = decodeLine(d, line);
    if (o === undefined) continue;
    decoded++;
    let want: unknown;
    try { want = parsed(line); } catch { assert.fail(`decoded a line JSON.parse refuses: ${line}`); }
    assert.deepEqual(o, want, line);
  }
  assert.ok(decoded > 1000, `some edited lines still decode (${decoded})`);
});

test('flat events: keys and their kinds come from EVENT_SPECS', () => {
  // A field added to the table is decoded without touching the decoder.
  const d = new FlatEventDecoder();
  for (const [type, spec] of Object.entries(EVENT_SPECS)) {
    if (type === 'meta') continue;
    const ev: Record<string, unknown> = { type };
    for (const [name, f] of Object.entries(spec.fields)) {
      ev[name] = f.kind === 'string' ? 'x' : f.kind === 'bool' ? true : f.kind === 'enum' ? f.values![0] : 5;
    }
    const line = JSON.stringify(ev);
    assert.deepEqual(decodeLine(d, line), ev, line);
  }
});

test('flat events: each type, with every subset of its optional fields, decodes to what JSON.parse gives', () => {
  // Each type has its own generated builder, one object literal per subset
  // of the optional fields given: every one of them is built here, fields
  // in table order and in reverse.
  const d = new FlatEventDecoder();
  const value = (name: string, kind: string, values: readonly string[] | undefined, k: number): unknown =>
    kind === 'string' ? `${name}-${k}` : kind === 'bool' ? k % 2 === 0 : kind === 'enum' ? values![k % values!.length]
      : kind === 'addr' ? (k % 2 ? '0x7f00000' + k.toString(16) : 4096 * (k + 1)) : 1000 + k;
  let literals = 0;
  for (const type of BODY_TYPES) {
    const fields = fieldsOf(type);
    const optional = fields.filter(([, f]) => !f.required);
    for (let sub = 0; sub < 1 << optional.length; sub++) {
      const ev: Record<string, unknown> = { type };
      fields.forEach(([name, f], k) => {
        const given = f.required || (sub & (1 << optional.findIndex(([n]) => n === name))) !== 0;
        if (given) ev[name] = value(name, f.kind, f.values, k + sub);
      });
      const line = JSON.stringify(ev);
      assert.deepEqual(decodeLine(d, line), parsed(line), line);
      const reversed = JSON.stringify(Object.fromEntries(Object.entries(ev).reverse()));
      assert.deepEqual(decodeLine(d, reversed), parsed(line), reversed);
      literals++;
    }
  }
  assert.ok(literals > 2 * BODY_TYPES.length, `${literals} subsets`);
});

test('flat events: remembered strings never stand in for a different one', () => {
  // Many distinct comms (more than the decoder remembers), each read twice
  // out of order, and pairs of strings of one length built to differ only
  // late: each line must still give its own string.
  const d = new FlatEventDecoder();
  const comms: string[] = [];
  for (let i = 0; i < 5000; i++) comms.push(`worker-${(i * 7919) % 5000}`, `x${i}`);
  for (let i = 0; i < 3000; i++) comms.push(`same-length-${String(i).padStart(5, '0')}`);
  let x = 12345;
  const order = [...comms.keys(), ...comms.keys()].map((k) => ({ k, r: (x = (x * 1103515245 + 12345) >>> 0) })).sort((a, b) => a.r - b.r);
  for (const { k } of order) {
    const line = `{"type":"proc","ts":1,"pid":2,"comm":${JSON.stringify(comms[k])}}`;
    assert.deepEqual(decodeLine(d, line), JSON.parse(line), line);
  }
  // A string of the remembered length but other bytes, right after it.
  for (const [a, b] of [['mlx5_0', 'mlx5_1'], ['/mnt/a', '/mnt/b'], ['ab', 'ba']]) {
    for (const s of [a, b, a, a, b]) {
      const line = `{"type":"write","ts":1,"pid":2,"file":"${s}","off":0,"len":1}`;
      assert.equal((decodeLine(d, line) as { file: string }).file, s);
    }
  }
});
