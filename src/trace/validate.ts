// Checks one record at a time against EVENT_SPECS (walked, never restated)
// and against what came before (ts order, live pins, declared files).
// State is proportional to live pins and named files, never to events.
// A rejected event leaves the state untouched, so under --lenient a bad
// pin never becomes live and its dma/unpin are skipped as no_live_pin.
import {
  EVENT_SPECS, EVENT_TYPES, DEFAULT_PAGE_SIZE, FORMAT_NAME, FORMAT_VERSION, fieldsOf, switchOnType,
  type EventType, type EventOf, type FieldKind, type IndexedEvent,
} from './events.js';
import { TraceInputError, type InputPosition, type SkipReason } from './errors.js';
import { HandleTable } from './handle-table.js';
import type { TraceHeader } from './source.js';

const MAX = Number.MAX_SAFE_INTEGER; // 2^53 - 1
const TOO_LARGE = 'a number too large for a double (read as Infinity), far beyond 2^53 (the largest exact integer)';
const HEX = /^0x[0-9a-f]+$/i;

interface CompiledField {
  name: string;
  kind: FieldKind;
  required: boolean;
  values: readonly string[] | undefined;
  min: number;
}

const COMPILED = new Map<string, CompiledField[]>();
for (const type of EVENT_TYPES) {
  COMPILED.set(type, fieldsOf(type).map(([name, f]) => ({
    name, kind: f.kind, required: f.required, values: f.values, min: f.min ?? 0,
  })));
}
const TYPE_LIST = Object.keys(EVENT_SPECS).join(', ');

/** What a field kind expects, for messages. */
export function expected(f: { kind: FieldKind; values?: readonly string[] | undefined; min?: number }): string {
  switch (f.kind) {
    case 'ts': return 'a non-negative integer (ns)';
    case 'uint': return f.min ? `an integer >= ${f.min}` : 'a non-negative integer';
    case 'addr': return 'a hex string "0x..." or a non-negative integer';
    case 'string': return 'a string';
    case 'bool': return 'true or false';
    case 'enum': return `one of ${(f.values ?? []).map((v) => `"${v}"`).join(', ')}`;
  }
}

/** A short JSON rendering of a bad value for messages. */
export function shown(v: unknown): string {
  let s: string;
  // JSON.stringify writes a number past a double's range (1e400 parses to Infinity) as null.
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Why an event is rejected (the validator's answer; open.ts turns it into a TraceInputError with the position). */
export class Reject {
  constructor(readonly reason: SkipReason, readonly field: string | null, readonly detail: string) {}
}

/** Checks one field value; returns the normalized value or a Reject. */
function checkField(f: CompiledField, v: unknown): unknown {
  switch (f.kind) {
    case 'ts':
    case 'uint':
      if (typeof v === 'number' && Number.isInteger(v) && v >= f.min) {
        if (v > MAX) return new Reject('range_overflow', f.name, `${v} is beyond 2^53 (the largest exact integer)`);
        return v;
      }
      if (v === Infinity) return new Reject('range_overflow', f.name, TOO_LARGE);
      return new Reject('bad_field', f.name, `expected ${expected(f)}, got ${shown(v)}`);
    case 'addr':
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
        if (v > MAX) return new Reject('range_overflow', f.name, `address ${v} is beyond 2^53 (the largest exact integer)`);
        return v;
      }
      if (v === Infinity) return new Reject('range_overflow', f.name, TOO_LARGE);
      if (typeof v === 'string' && HEX.test(v)) {
        const n = Number(v); // Number("0x...") parses hex exactly up to 2^53
        if (n > MAX) return new Reject('range_overflow', f.name, `address ${v} is beyond 2^53 (the largest exact integer)`);
        return n;
      }
      return new Reject('bad_field', f.name, `expected ${expected(f)}, got ${shown(v)}`);
    case 'string':
      return typeof v === 'string' ? v : new Reject('bad_field', f.name, `expected ${expected(f)}, got ${shown(v)}`);
    case 'bool':
      return typeof v === 'boolean' ? v : new Reject('bad_field', f.name, `expected ${expected(f)}, got ${shown(v)}`);
    case 'enum':
      return typeof v === 'string' && f.values!.includes(v)
        ? v : new Reject('bad_field', f.name, `expected ${expected(f)}, got ${shown(v)}`);
  }
}

/**
 * Per-type checkers generated from EVENT_SPECS: named property loads in a
 * function that only ever sees one event type stay monomorphic, which a
 * loop doing obj[name] over every type is not (it was a third of the
 * ingest time). The generated code only decides "fine"; any failure goes
 * to checkField, which words the message, so the rules live in one place.
 */
type ShapeCheck = (obj: Record<string, unknown>) => Reject | null;

/**
 * The field checks of one type as code lines (a function body over `o`).
 * Each field is loaded once into its own local (v0, v1...); the success
 * path is typed comparisons only, and a field that fails goes to `slow`,
 * which decides and words it. `Math.floor(v) === v` after the range test
 * is exact for every double up to 2^53 and cheaper than Number.isInteger.
 * An address given as hex is parsed here and written back as a number.
 */
function shapeLines(fields: CompiledField[]): string[] {
  const lines: string[] = [];
  fields.forEach((f, k) => {
    const key = JSON.stringify(f.name);
    const v = `v${k}`;
    lines.push(`let ${v} = o[${key}];`);
    let ok: string;
    switch (f.kind) {
      case 'ts':
      case 'uint':
        ok = `typeof ${v} === 'number' && ${v} >= ${f.min} && ${v} <= MAX && Math.floor(${v}) === ${v}`;
        break;
      case 'addr':
        ok = `(typeof ${v} === 'number' && ${v} >= 0 && ${v} <= MAX && Math.floor(${v}) === ${v}) ||
          (typeof ${v} === 'string' && (${v} = hexNumber(${v})) <= MAX && ((o[${key}] = ${v}), true))`;
        break;
      case 'string':
        ok = `typeof ${v} === 'string'`;
        break;
      case 'bool':
        ok = `${v} === true || ${v} === false`;
        break;
      case 'enum':
        ok = f.values!.map((x) => `${v} === ${JSON.stringify(x)}`).join(' || ');
        break;
    }
    // Optional fields are checked only when present; a missing required one is worded by `missing`.
    // An address's local may hold hexNumber's answer by now: the slow path words the value as written.
    const given = f.kind === 'addr' ? `o[${key}]` : v;
    const fail = f.required
      ? `if (${v} === undefined) return missing(F[${k}]); const r = slow(F[${k}], ${given}, o); if (r) return r;`
      : `if (${v} !== undefined) { const r = slow(F[${k}], ${given}, o); if (r) return r; }`;
    lines.push(`if (!(${ok})) { ${fail} }`);
  });
  return lines;
}

/**
 * The number a hex string "0x..." stands for, or NaN when it is not one
 * (the slow path then words the error with HEX): a digit loop is cheaper
 * than Number() or the regex on every address. Beyond 2^53 the sum is no
 * longer exact, but it stays above MAX, which is all the caller asks.
 */
const hexNumber = (s: string): number => {
  const n = s.length;
  if (n < 3 || s.charCodeAt(0) !== 48 || (s.charCodeAt(1) | 32) !== 120) return NaN;
  let x = 0;
  for (let i = 2; i < n; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else {
      const l = c | 32;
      if (l >= 97 && l <= 102) d = l - 87;
      else return NaN;
    }
    x = x * 16 + d;
  }
  return x;
};

const slow = (f: CompiledField, v: unknown, o: Record<string, unknown>): Reject | null => {
  const n = checkField(f, v);
  if (n instanceof Reject) return n;
  o[f.name] = n;
  return null;
};
const missing = (f: CompiledField) => new Reject('missing_field', f.name, `missing; expected ${expected(f)}`);

function compileShape(fields: CompiledField[]): ShapeCheck {
  const body = ['"use strict";', 'return function check(o) {', ...shapeLines(fields), 'return null;', '};'].join('\n');
  return new Function('F', 'MAX', 'hexNumber', 'slow', 'missing', body)(fields, MAX, hexNumber, slow, missing) as ShapeCheck;
}

type EventCheck = (obj: Record<string, unknown>, index: number) => IndexedEvent | Reject;

/**
 * The whole per-event check of one type for one validator: field checks,
 * ts order, the type's state check, and (only when all pass) its state
 * change. Generated per validator so each type's calls to its own state
 * and apply closures are monomorphic call sites (inlined by the JIT).
 */
function compileEvent(
  fields: CompiledField[], v: { lastTs: number }, state: (ev: never) => Reject | null, apply: (ev: never) => void,
): EventCheck {
  if (fields[0]?.name !== 'ts') throw new Error('every event type must list ts first (the generated check reads it as v0)');
  const body = ['"use strict";', 'return function check(o, index) {', ...shapeLines(fields),
    // v0 is ts (first in every type): never rewritten by the checks above.
    'if (v0 < V.lastTs) return back(v0, V.lastTs);',
    'const late = state(o);',
    'if (late !== null) return late;',
    'V.lastTs = v0;',
    'apply(o);',
    'o.index = index;',
    'return o;',
    '};'].join('\n');
  const back = (ts: number, last: number) => new Reject('ts_backwards', 'ts', `went backwards: ${ts} after ${last}`);
  return new Function('F', 'MAX', 'hexNumber', 'slow', 'missing', 'V', 'back', 'state', 'apply', body)(
    fields, MAX, hexNumber, slow, missing, v, back, state, apply) as EventCheck;
}

const SHAPES: Record<string, ShapeCheck> = Object.create(null) as Record<string, ShapeCheck>;
for (const [type, fields] of COMPILED) SHAPES[type] = compileShape(fields);

/** Per-event checks against the table only (no state): the schema's view. Normalizes addresses in place. */
function checkShape(obj: Record<string, unknown>): Reject | null {
  const type = obj.type;
  if (type === undefined) return new Reject('missing_field', 'type', `missing; expected one of ${TYPE_LIST}`);
  const check = typeof type === 'string' ? SHAPES[type] : undefined;
  if (!check) return new Reject('unknown_type', 'type', `unknown event type ${shown(type)}; expected one of ${TYPE_LIST}`);
  return check(obj);
}

/** Why an event with no rule of its own is refused: not an object, no or unknown type, a misplaced meta. */
function refuse(value: unknown): Reject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new Reject('not_an_object', null, `expected an event object, got ${shown(value)}`);
  }
  if ((value as { type?: unknown }).type === 'meta') {
    return new Reject('meta_misplaced', 'type', 'a meta header may only be the first record of a trace');
  }
  return checkShape(value as Record<string, unknown>)!;
}

const SEEN_SLOTS = 64;
/** A slot for a file name from its length and a few of its last characters (names tend to differ near the end). */
function seenSlot(s: string): number {
  const n = s.length;
  if (n < 6) return n & (SEEN_SLOTS - 1);
  return (n * 7 + s.charCodeAt(n - 1) * 3 + s.charCodeAt(n - 5) * 5 + s.charCodeAt(n - 6) * 11 + s.charCodeAt(n >> 1) * 13)
    & (SEEN_SLOTS - 1);
}

const none = () => null;
const nothing = () => {};

export class TraceValidator {
  /** ts of the last accepted event (read by the generated checks). */
  lastTs = -1;
  /** The live pins: handle -> (pid, len). */
  private readonly pins = new HandleTable();
  /** true: declared by a file event; false: used before (or without) a declaration. */
  private readonly files = new Map<string, boolean>();
  /** The check of the event's type (undefined for a type with none); `type` is o.type, already loaded. */
  private readonly checkOfType: (o: Record<string, unknown>, index: number, type: string) => IndexedEvent | Reject | undefined;

  constructor(readonly file: string) {
    // A name already in `files` needs nothing more (entries are never removed). JSON.parse gives a fresh string per
    // event, which a Map must hash every time; a small table slotted by length and a few characters answers most
    // uses with one string comparison. A slot holds only names that are in `files`, so a hit is always right.
    const seen: (string | undefined)[] = new Array<string | undefined>(SEEN_SLOTS).fill(undefined);
    const useFile = (ev: { file: string }) => {
      const name = ev.file;
      const slot = seenSlot(name);
      if (seen[slot] === name) return;
      if (!this.files.has(name)) this.files.set(name, false);
      seen[slot] = name;
    };
    const offLen = (ev: { off: number; len: number }) =>
      ev.off + ev.len > MAX ? new Reject('range_overflow', 'len', 'off + len is beyond 2^53') : null;
    const noLivePin = (ev: { pin: number }) => new Reject('no_live_pin', 'pin', `no live pin with handle ${ev.pin}`);
    const table: { [T in Exclude<EventType, 'meta'>]: { state?: (ev: EventOf<T>) => Reject | null; apply?: (ev: EventOf<T>) => void } } = {
      device: {},
      proc: {},
      file: {
        state: (ev) => {
          if (ev.dax === true && ev.shmem === true) return new Reject('bad_field', 'shmem', 'dax and shmem cannot both be true');
          const known = this.files.get(ev.file);
          if (known === undefined) return null;
          return new Reject('file_redeclared', 'file', known
            ? `file ${shown(ev.file)} is declared twice`
            : `file ${shown(ev.file)} is declared after being used`);
        },
        apply: (ev) => { this.files.set(ev.file, true); },
      },
      mmap: {
        state: (ev) => {
          if (ev.addr + ev.len > MAX) return new Reject('range_overflow', 'len', 'addr + len is beyond 2^53');
          if (ev.off !== undefined && ev.off + ev.len > MAX) return new Reject('range_overflow', 'off', 'off + len is beyond 2^53');
          return null;
        },
        apply: (ev) => { if (ev.file !== undefined) useFile(ev as { file: string }); },
      },
      munmap: {
        state: (ev) => (ev.addr + ev.len > MAX ? new Reject('range_overflow', 'len', 'addr + len is beyond 2^53') : null),
      },
      exit: {
        // exit releases every pin the process holds; exits are rare, so a scan of the live pins is cheaper than an index per pid.
        apply: (ev) => {
          for (const h of this.pins.handlesWithFirst(ev.pid)) this.pins.removeAt(this.pins.find(h));
        },
      },
      pin: {
        state: (ev) => {
          if (this.pins.find(ev.pin) !== -1) return new Reject('pin_reused', 'pin', `handle ${ev.pin} is already a live pin`);
          if (ev.addr + ev.len > MAX) return new Reject('range_overflow', 'len', 'addr + len is beyond 2^53');
          return null;
        },
        apply: (ev) => { this.pins.add(ev.pin, ev.pid, ev.len); },
      },
      dma: {
        state: (ev) => {
          const slot = this.pins.find(ev.pin);
          if (slot === -1) return noLivePin(ev);
          const len = this.pins.second(slot);
          if (ev.off + ev.len > len) {
            return new Reject('range_overflow', 'len', `off + len = ${ev.off + ev.len} is beyond the pin's len ${len}`);
          }
          if (ev.dur !== undefined && ev.ts + ev.dur > MAX) return new Reject('range_overflow', 'dur', 'ts + dur is beyond 2^53');
          return null;
        },
      },
      unpin: {
        state: (ev) => (this.pins.find(ev.pin) !== -1 ? null : noLivePin(ev)),
        apply: (ev) => { this.pins.removeAt(this.pins.find(ev.pin)); },
      },
      truncate: { apply: useFile },
      punch_hole: { state: offLen, apply: useFile },
      write: { state: offLen, apply: useFile },
      writeback: { state: offLen, apply: useFile },
      mmu_notifier: {
        state: (ev) => (ev.end <= ev.start ? new Reject('range_overflow', 'end', `end ${ev.end} is not after start ${ev.start}`) : null),
      },
    };
    // Each type: its own state check (or none) and state change (or nothing).
    const checks: Record<string, EventCheck> = {};
    for (const [type, r] of Object.entries(table)) checks[type] = compileEvent(COMPILED.get(type)!, this, r.state ?? none, r.apply ?? nothing);
    this.checkOfType = switchOnType(checks, ['o', 'index', 'type'], 'type', 'return undefined;');
  }

  /**
   * Validates `value` as the event at `pos` and returns it (normalized, with
   * `index`), or throws a TraceInputError. State changes only on success.
   */
  check(value: unknown, pos: InputPosition): IndexedEvent {
    const r = this.accept(value, pos.index);
    if (r instanceof Reject) throw new TraceInputError(r.reason, pos, r.field, r.detail);
    return r;
  }

  /** The hot path: the event (normalized, with `index`) or why not; no position objects, no throw. */
  accept(value: unknown, index: number): IndexedEvent | Reject {
    // Success first: an array or a string from JSON.parse has no "type", so it falls through to refuse().
    if (typeof value === 'object' && value !== null) {
      const type = (value as { type?: unknown }).type;
      if (typeof type === 'string') {
        const r = this.checkOfType(value as Record<string, unknown>, index, type);
        if (r !== undefined) return r;
      }
    }
    return refuse(value);
  }

  /** Live pins now (for stats). */
  get livePins(): number {
    return this.pins.size;
  }
}

/**
 * Checks a meta header (from the first record, or the object container's
 * `meta` key, where "type" may be absent) and returns the header it gives.
 */
export function checkMeta(value: unknown, pos: InputPosition): TraceHeader {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TraceInputError('bad_field', pos, 'meta', `expected a meta object, got ${shown(value)}`);
  }
  const obj = value as Record<string, unknown>;
  if (obj.type !== undefined && obj.type !== 'meta') {
    throw new TraceInputError('bad_field', pos, 'type', `expected "meta" in the meta header, got ${shown(obj.type)}`);
  }
  for (const f of COMPILED.get('meta')!) {
    const v = obj[f.name];
    if (v === undefined) continue;
    const n = checkField(f, v);
    if (n instanceof Reject) throw new TraceInputError(n.reason, pos, n.field, n.detail);
  }
  if (obj.format !== undefined && obj.format !== FORMAT_NAME) {
    throw new TraceInputError('bad_field', pos, 'format', `expected "${FORMAT_NAME}", got ${shown(obj.format)}`);
  }
  const version = (obj.version as number | undefined) ?? FORMAT_VERSION;
  if (version !== FORMAT_VERSION) {
    throw new TraceInputError('bad_field', pos, 'version', `expected ${FORMAT_VERSION} (this pinscope reads format v1), got ${shown(version)}`);
  }
  const pageSize = (obj.page_size as number | undefined) ?? DEFAULT_PAGE_SIZE;
  if ((pageSize & (pageSize - 1)) !== 0 || pageSize > 2 ** 30) {
    throw new TraceInputError('bad_field', pos, 'page_size', `expected a power of two >= 512, got ${shown(pageSize)}`);
  }
  const header: TraceHeader = { page_size: pageSize, version };
  if (typeof obj.source === 'string') header.source = obj.source;
  return header;
}

/** The table-only check used by tests and the schema test: null when the shape is fine. */
export function shapeError(value: unknown): { reason: SkipReason; field: string | null; detail: string } | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { reason: 'not_an_object', field: null, detail: 'expected an event object' };
  }
  const r = checkShape(value as Record<string, unknown>);
  return r ? { reason: r.reason, field: r.field, detail: r.detail } : null;
}

export type { EventType };
