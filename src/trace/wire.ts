// Validated events as numbers, for another thread: the replay parses a
// trace once and hands its events to worker threads as Float64Arrays
// (transferred, not cloned), because a structured clone of event objects
// costs more than JSON.parse itself. The layout is walked from EVENT_SPECS,
// never restated: per event [type code, index, each field of the type in
// table order]; strings (file, dev, comm) are interned, enum values are
// their position in the table, booleans 0/1, and an absent field is NaN.
import { BODY_TYPES, fieldsOf, switchOnType, type FieldSpec, type IndexedEvent } from './events.js';

/** One batch on the wire: `count` events in `data`, and the strings interned since the last batch. */
export interface WireBatch {
  data: Float64Array;
  count: number;
  /** Strings first used in this batch, numbered on from the decoder's table. */
  strings: string[];
  /** The decoder forgets its table before reading this batch (the encoder's grew past its bound). */
  reset: boolean;
}

/** Interned strings before the tables start over: bounds memory when every comm differs. */
const MAX_STRINGS = 1 << 16;

interface WireField {
  name: string;
  spec: FieldSpec;
}
const LAYOUT: WireField[][] = BODY_TYPES.map((t) =>
  fieldsOf(t).map(([name, spec]) => ({ name, spec })));
/** Slots per event of each type: code, index, fields. */
const SLOTS = LAYOUT.map((fields) => 2 + fields.length);
const MAX_SLOTS = Math.max(...SLOTS);

type Intern = (s: string) => number;
type EncodeOne = (ev: Record<string, unknown>, d: Float64Array, p: number, intern: Intern) => number;

// One generated function per type, so each reads and writes its fields at
// fixed offsets (the validator compiles its checks the same way).
function compileEncoder(code: number): EncodeOne {
  const lines = ['"use strict";', 'return function encode(ev, d, p, intern) {', `d[p] = ${code};`, 'd[p + 1] = ev.index;', 'let v;'];
  LAYOUT[code]!.forEach(({ name, spec }, k) => {
    const at = `d[p + ${k + 2}]`;
    lines.push(`v = ev[${JSON.stringify(name)}];`);
    switch (spec.kind) {
      case 'string': lines.push(`${at} = v === undefined ? NaN : intern(v);`); break;
      case 'bool': lines.push(`${at} = v === undefined ? NaN : v ? 1 : 0;`); break;
      case 'enum': {
        const chain = (spec.values ?? []).map((x, i) => `v === ${JSON.stringify(x)} ? ${i} : `).join('');
        lines.push(`${at} = ${chain}NaN;`);
        break;
      }
      default: lines.push(`${at} = v === undefined ? NaN : v;`);
    }
  });
  lines.push(`return p + ${SLOTS[code]};`, '};');
  return new Function(lines.join('\n'))() as EncodeOne;
}

/** The expression for field k's value from its slot's number `x` (`strings`, `VALUES` in scope). */
function fieldValue(spec: FieldSpec, k: number): string {
  let value = 'x';
  if (spec.kind === 'string') value = 'strings[x]';
  else if (spec.kind === 'bool') value = 'x === 1';
  else if (spec.kind === 'enum') value = `VALUES[${k}][x]`;
  // NaN is the only value not equal to itself: an absent field stays undefined.
  return spec.required ? value : `x === x ? ${value} : undefined`;
}

/**
 * The decoder: each field of the type written into the event object of the
 * type that is reused for every event of it (blankEvent), for a consumer
 * that keeps nothing of an event past its handling (the replay: see
 * WireDecoder.feed). One object per type with every field of the type in
 * table order and `index` last, an absent field undefined: all the fields
 * are in the object itself and all events of a type share one hidden class.
 */
type FillOne = (o: Record<string, unknown>, d: Float64Array, p: number, strings: string[]) => void;
function compileFiller(code: number): FillOne {
  const fields = LAYOUT[code]!;
  const lines = ['"use strict";', `const VALUES = ${JSON.stringify(fields.map((f) => f.spec.values ?? null))};`,
    'return function fill(o, d, p, strings) {', 'let x;'];
  fields.forEach(({ name, spec }, k) => lines.push(`x = d[p + ${k + 2}];`, `o[${JSON.stringify(name)}] = ${fieldValue(spec, k)};`));
  lines.push('o.index = d[p + 1];', '};');
  return new Function(lines.join('\n'))() as FillOne;
}

/**
 * The object feed() refills for events of the type: every value null but
 * the type and ts, before any is filled in. A field's first value fixes how
 * V8 stores it, and null first makes a field hold any value as is (a small
 * integer unboxed), where a number first makes it a double in a box of its
 * own. ts is the exception: nanoseconds pass 2^31 within seconds, and a
 * field that holds any value boxes each such number anew, while a double
 * field's box is written in place (NaN first makes it one).
 */
function blankEvent(code: number): Record<string, unknown> {
  const keys = ['type', ...LAYOUT[code]!.map((f) => f.name), 'index'];
  const init = (k: string) => `${JSON.stringify(k)}: ${k === 'ts' ? 'NaN' : 'null'}`;
  const o = new Function(`return { ${keys.map(init).join(', ')} };`)() as Record<string, unknown>;
  o['type'] = BODY_TYPES[code];
  return o;
}

const ENCODE = BODY_TYPES.map((_, code) => compileEncoder(code));
const FILL = BODY_TYPES.map((_, code) => compileFiller(code));
/** Encodes one event of any type with its type's encoder. */
const encodeAny = switchOnType<EncodeOne>(Object.fromEntries(BODY_TYPES.map((t, code) => [t, ENCODE[code]!])),
  ['ev', 'd', 'p', 'intern'], 'ev.type', "throw new Error('not an event type: ' + ev.type);");

/** Turns batches of validated events into WireBatches; one per stream (it numbers strings as it goes). */
export class WireEncoder {
  private readonly ids = new Map<string, number>();
  private fresh: string[] = [];
  private resetNext = false;
  private readonly intern: Intern = (s) => {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(s, id);
      this.fresh.push(s);
    }
    return id;
  };

  encode(events: readonly IndexedEvent[]): WireBatch {
    if (this.ids.size > MAX_STRINGS) {
      this.ids.clear();
      this.fresh = [];
      this.resetNext = true;
    }
    const data = new Float64Array(events.length * MAX_SLOTS);
    let p = 0;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      p = encodeAny(ev as unknown as Record<string, unknown>, data, p, this.intern);
    }
    const batch: WireBatch = { data: data.subarray(0, p), count: events.length, strings: this.fresh, reset: this.resetNext };
    this.fresh = [];
    this.resetNext = false;
    return batch;
  }
}

/** Whatever takes events one at a time and keeps none of them (Replay). */
export interface EventSink {
  feed(ev: IndexedEvent): void;
  /**
   * Offered a dma event before it is decoded: true when the sink is done
   * with it from these three values alone (a DMA every strategy skips or
   * only counts as dropped), so feed() is not called for it.
   */
  skipDma?(ts: number, pin: number, write: boolean): boolean;
}

/** Where a dma event's ts, pin and dir sit among its slots, and dir's number for "write". */
const DMA_CODE = BODY_TYPES.indexOf('dma');
const slotOfField = (code: number, name: string): number => 2 + LAYOUT[code]!.findIndex((f) => f.name === name);
const DMA_TS = slotOfField(DMA_CODE, 'ts');
const DMA_PIN = slotOfField(DMA_CODE, 'pin');
const DMA_DIR = slotOfField(DMA_CODE, 'dir');
const DMA_WRITE = LAYOUT[DMA_CODE]!.find((f) => f.name === 'dir')!.spec.values!.indexOf('write');

/** Turns WireBatches back into events, in the order they were encoded. */
export class WireDecoder {
  private strings: string[] = [];
  /** One event object per type, refilled for each event of it (feed). */
  private readonly scratch = BODY_TYPES.map((_, code) => blankEvent(code));

  /**
   * Hands the batch's events to `sink` in order, each in its type's reused
   * object: valid only during sink.feed(), which must copy what it keeps.
   * The replay keeps links and requests built from an event, never the
   * event: a fresh object per event was a third of a worker's allocation.
   */
  feed(batch: WireBatch, sink: EventSink): void {
    if (batch.reset) this.strings = [];
    for (const s of batch.strings) this.strings.push(s);
    const d = batch.data;
    const strings = this.strings;
    const scratch = this.scratch;
    const skip = sink.skipDma !== undefined;
    let p = 0;
    for (let i = 0; i < batch.count; i++) {
      const code = d[p]!;
      if (code === DMA_CODE && skip && sink.skipDma!(d[p + DMA_TS]!, d[p + DMA_PIN]!, d[p + DMA_DIR] === DMA_WRITE)) {
        p += SLOTS[code]!;
        continue;
      }
      const o = scratch[code]!;
      FILL[code]!(o, d, p, strings);
      sink.feed(o as unknown as IndexedEvent);
      p += SLOTS[code]!;
    }
  }
}
