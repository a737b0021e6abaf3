// Checks one record at a time against EVENT_SPECS (walked, never restated)
// and against what came before (ts order, live pins, declared files).
// State is proportional to live pins and named files, never to events.
// A rejected event leaves the state untouched, so under --lenient a bad
// pin never becomes live and its dma/unpin are skipped as no_live_pin.
import {
  EVENT_SPECS, DEFAULT_PAGE_SIZE, FORMAT_NAME, FORMAT_VERSION,
  type EventType, type EventOf, type FieldKind, type IndexedEvent, type FieldSpec,
} from './events.js';
import { TraceInputError, type InputPosition, type SkipReason } from './errors.js';
import type { TraceHeader } from './source.js';

const MAX = Number.MAX_SAFE_INTEGER; // 2^53 - 1
const HEX = /^0x[0-9a-f]+$/i;

interface CompiledField {
  name: string;
  kind: FieldKind;
  required: boolean;
  values: readonly string[] | undefined;
  min: number;
}

const COMPILED = new Map<string, CompiledField[]>();
for (const [type, spec] of Object.entries(EVENT_SPECS)) {
  COMPILED.set(type, Object.entries(spec.fields as Record<string, FieldSpec>).map(([name, f]) => ({
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
      return new Reject('bad_field', f.name, `expected ${expected(f)}, got ${shown(v)}`);
    case 'addr':
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
        if (v > MAX) return new Reject('range_overflow', f.name, `address ${v} is beyond 2^53 (the largest exact integer)`);
        return v;
      }
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

/** The field checks of one type as code lines (a function body over `o`). */
function shapeLines(fields: CompiledField[]): string[] {
  const lines: string[] = ['let v;'];
  fields.forEach((f, k) => {
    const key = JSON.stringify(f.name);
    lines.push(`v = o[${key}];`);
    lines.push(`if (v === undefined) { ${f.required ? `return missing(F[${k}]);` : ''} }`);
    let ok: string;
    switch (f.kind) {
      case 'ts':
      case 'uint':
        ok = `typeof v === 'number' && v >= ${f.min} && v <= MAX && Number.isInteger(v)`;
        break;
      case 'addr':
        ok = `(typeof v === 'number' && v >= 0 && v <= MAX && Number.isInteger(v)) ||
          (typeof v === 'string' && (v = hexNumber(v)) <= MAX && ((o[${key}] = v), true))`;
        break;
      case 'string':
        ok = `typeof v === 'string'`;
        break;
      case 'bool':
        ok = 'v === true || v === false';
        break;
      case 'enum':
        ok = f.values!.map((x) => `v === ${JSON.stringify(x)}`).join(' || ');
        break;
    }
    lines.push(`else if (!(${ok})) { const r = slow(F[${k}], o[${key}], o); if (r) return r; }`);
  });
  return lines;
}

/**
 * Number(s) when s is what HEX matches, else NaN (the slow path then words
 * the error with HEX): cheaper than the regex on every address. Number()
 * itself refuses any non-hex digit after "0x" but takes surrounding
 * whitespace, which the first and last characters rule out.
 */
const hexNumber = (s: string): number => {
  const last = s.charCodeAt(s.length - 1) | 32;
  if (s.charCodeAt(0) !== 48 || (s.charCodeAt(1) | 32) !== 120 || !((last >= 48 && last <= 57) || (last >= 97 && last <= 102))) return NaN;
  return Number(s);
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
  const body = ['"use strict";', 'return function check(o, index) {', ...shapeLines(fields),
    'if (o.ts < V.lastTs) return back(o.ts, V.lastTs);',
    'const late = state(o);',
    'if (late !== null) return late;',
    'V.lastTs = o.ts;',
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

interface LivePin { pid: number; len: number }

const none = () => null;
const nothing = () => {};

export class TraceValidator {
  /** ts of the last accepted event (read by the generated checks). */
  lastTs = -1;
  private readonly pins = new Map<number, LivePin>();
  /** true: declared by a file event; false: used before (or without) a declaration. */
  private readonly files = new Map<string, boolean>();
  // One lookup by type gives every check: each closure sees one event type, so its property loads stay monomorphic.
  private readonly rules: Record<string, EventCheck> = Object.create(null) as Record<string, EventCheck>;

  constructor(readonly file: string) {
    const useFile = (ev: { file: string }) => { if (!this.files.has(ev.file)) this.files.set(ev.file, false); };
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
          for (const [h, p] of this.pins) if (p.pid === ev.pid) this.pins.delete(h);
        },
      },
      pin: {
        state: (ev) => {
          if (this.pins.has(ev.pin)) return new Reject('pin_reused', 'pin', `handle ${ev.pin} is already a live pin`);
          if (ev.addr + ev.len > MAX) return new Reject('range_overflow', 'len', 'addr + len is beyond 2^53');
          return null;
        },
        apply: (ev) => { this.pins.set(ev.pin, { pid: ev.pid, len: ev.len }); },
      },
      dma: {
        state: (ev) => {
          const p = this.pins.get(ev.pin);
          if (!p) return noLivePin(ev);
          if (ev.off + ev.len > p.len) {
            return new Reject('range_overflow', 'len', `off + len = ${ev.off + ev.len} is beyond the pin's len ${p.len}`);
          }
          if (ev.dur !== undefined && ev.ts + ev.dur > MAX) return new Reject('range_overflow', 'dur', 'ts + dur is beyond 2^53');
          return null;
        },
      },
      unpin: {
        state: (ev) => (this.pins.has(ev.pin) ? null : noLivePin(ev)),
        apply: (ev) => { this.pins.delete(ev.pin); },
      },
      truncate: { apply: useFile },
      punch_hole: { state: offLen, apply: useFile },
      write: { state: offLen, apply: useFile },
      writeback: { state: offLen, apply: useFile },
      mmu_notifier: {
        state: (ev) => (ev.end <= ev.start ? new Reject('range_overflow', 'end', `end ${ev.end} is not after start ${ev.start}`) : null),
      },
    };
    for (const [type, r] of Object.entries(table)) {
      // Each type: its own state check (or none) and state change (or nothing).
      this.rules[type] = compileEvent(COMPILED.get(type)!, this, r.state ?? none, r.apply ?? nothing);
    }
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
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return new Reject('not_an_object', null, `expected an event object, got ${shown(value)}`);
    }
    const obj = value as Record<string, unknown>;
    const type = obj.type;
    const rule = typeof type === 'string' ? this.rules[type] : undefined;
    if (!rule) {
      if (type === 'meta') return new Reject('meta_misplaced', 'type', 'a meta header may only be the first record of a trace');
      return checkShape(obj)!;
    }
    return rule(obj, index);
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
