// A JSON Lines record is nearly always one flat event object: known keys,
// integers, plain ASCII strings, true or false. Such a line is decoded here
// straight from the bytes, into the object JSON.parse would give (the same
// keys and values; keys in table order), in under half JSON.parse's time:
// JSON.parse builds every object through map transitions and internalizes
// every key. Three differences, all what the validator makes of the value
// anyway: an address written in hex comes as its number, a string seen
// recently is the same string object (file names, devices and comms repeat
// on every line; a new string costs ~150 ns, and a string seen before has
// its hash cached for every Map keyed by it), and the object ends with
// `index: -1`, the slot the validator numbers the event in (a key added
// later lives outside the object, 40 bytes more per event), unless the
// decoder is made without it. Anything else (an escape, a
// fraction, a negative number, a nested value, an unknown key, a value of
// the wrong JSON kind, a missing required field, non-ASCII, a hex address
// past 2^52) is declined, and the caller JSON.parses the line: so messages
// about bad input are always JSON.parse's and the validator's. Decides
// nothing about validity: it only reads what the table says an event may
// hold. Keys, their kinds and the builders are walked from EVENT_SPECS,
// never restated.
import { BODY_TYPES, fieldsOf, type FieldKind, type FieldSpec } from '../events.js';

const QUOTE = 0x22, BSLASH = 0x5c, LBRACE = 0x7b, RBRACE = 0x7d, COMMA = 0x2c, COLON = 0x3a, NL = 0x0a;

/** JSON kinds of a scanned value. */
const J_NUM = 1, J_STR = 2, J_TRUE = 3, J_FALSE = 4;
/** Digits beyond which an integer is left to JSON.parse (15 are always exact in a double). */
const MAX_DIGITS = 15;
/** Hex digits of an address taken here: 13 are below 2^52, so never past the validator's 2^53 bound. */
const MAX_HEX_DIGITS = 13;
/** Strings remembered (a power of two), and the longest one remembered. */
const STRING_SLOTS = 1024;
const MAX_REMEMBERED = 96;

interface KeyInfo {
  name: string;
  kind: FieldKind;
  /** Enum values, matched while scanning: the slot holds the value's position. */
  values: readonly string[] | null;
}

// Every key a body event may have ("type" first), with the one kind the table gives it in every type.
const KEYS: KeyInfo[] = [{ name: 'type', kind: 'enum', values: BODY_TYPES }];
const KEY_ID = new Map<string, number>([['type', 0]]);
for (const t of BODY_TYPES) {
  for (const [name, f] of fieldsOf(t)) {
    const known = KEY_ID.get(name);
    if (known !== undefined) {
      const k = KEYS[known]!;
      if (k.kind !== f.kind || String(k.values) !== String(f.values ?? null)) {
        throw new Error(`field ${name} has two kinds in EVENT_SPECS: the flat decoder needs one per name`);
      }
      continue;
    }
    KEY_ID.set(name, KEYS.length);
    KEYS.push({ name, kind: f.kind, values: f.values ?? null });
  }
}
const NKEYS = KEYS.length;
// Present keys are a bit mask: it must stay a small integer.
if (NKEYS > 30) throw new Error(`${NKEYS} distinct field names: the flat decoder's masks hold 30`);

/** Which JSON kinds a key's value may have for the line to be decoded here. */
const ACCEPTS = new Int8Array(NKEYS);
KEYS.forEach((k, i) => {
  ACCEPTS[i] = k.kind === 'string' || k.kind === 'enum' ? 1 << J_STR
    : k.kind === 'bool' ? (1 << J_TRUE) | (1 << J_FALSE)
      : k.kind === 'addr' ? (1 << J_NUM) | (1 << J_STR)
        : 1 << J_NUM;
});

/** Keys whose string values are hex addresses, decoded to numbers while scanning. */
const IS_ADDR = Uint8Array.from(KEYS, (k) => (k.kind === 'addr' ? 1 : 0));

/**
 * A generated matcher for a set of words: the word written at b[s...] and
 * closed by '"' (its position in `words`), or -1. The words are a trie of
 * nested switches over constant bytes, so a key is found and checked in one
 * pass; a key written with an escape is not found, and JSON.parse reads it.
 */
type Matcher = (b: Uint8Array, s: number) => number;
function compileMatcher(words: readonly string[]): Matcher {
  const closed = words.map((w, id) => ({ bytes: [...Buffer.from(w), QUOTE], id }));
  const gen = (group: typeof closed, depth: number): string => {
    if (group.length === 1) {
      const { bytes, id } = group[0]!;
      const tests = bytes.slice(depth).map((c, k) => `b[s + ${depth + k}] === ${c}`);
      return `return ${tests.length ? `${tests.join(' && ')} ? ${id} : -1` : id};`;
    }
    const byByte = new Map<number, typeof closed>();
    for (const w of group) {
      const c = w.bytes[depth]!;
      byByte.set(c, [...(byByte.get(c) ?? []), w]);
    }
    const cases = [...byByte].map(([c, g]) => `case ${c}: { ${gen(g, depth + 1)} }`);
    return `switch (b[s + ${depth}]) { ${cases.join(' ')} default: return -1; }`;
  };
  return new Function(`"use strict"; return function match(b, s) { ${gen(closed, 0)} };`)() as Matcher;
}

const matchKey = compileMatcher(KEYS.map((k) => k.name));
const KEY_LEN = KEYS.map((k) => Buffer.byteLength(k.name));
/** Per key, the matcher of its enum values (null: not an enum) and their lengths. */
const MATCH_VALUE: (Matcher | null)[] = KEYS.map((k) => (k.values ? compileMatcher(k.values) : null));
const VALUE_LEN: (number[] | null)[] = KEYS.map((k) => (k.values ? k.values.map((v) => Buffer.byteLength(v)) : null));

/**
 * The scanned line, per key: its number (an enum value's position; 1 or 0
 * for true or false; an address's value), or its string's bounds and hash.
 * Which keys are present is a bit mask, so nothing needs clearing between
 * lines.
 */
interface Slots {
  num: Float64Array;
  from: Int32Array;
  to: Int32Array;
  hash: Int32Array;
}

/**
 * Strings decoded lately, by hash: a string already seen is returned
 * again, not rebuilt. A slot holds the last string that hashed there, so
 * memory stays bounded whatever the trace holds.
 */
class StringMemo {
  private readonly slots: string[] = new Array<string>(STRING_SLOTS).fill('');

  get(b: Buffer, from: number, to: number, hash: number): string {
    const n = to - from;
    if (n > MAX_REMEMBERED) return b.toString('latin1', from, to);
    const at = hash & (STRING_SLOTS - 1);
    const known = this.slots[at]!;
    if (known.length === n) {
      let k = 0;
      while (k < n && known.charCodeAt(k) === b[from + k]) k++;
      if (k === n) return known;
    }
    const s = b.toString('latin1', from, to);
    this.slots[at] = s;
    return s;
  }
}

type Build = (seen: number, b: Buffer, s: Slots, strings: StringMemo) => object;
/** The builder's objects with every field null (see primeShapes). */
type Shape = (seen: number) => object;

/**
 * The generated builders, one per type (indexed by its code): a switch over
 * which optional fields the line gave, each case one object literal naming
 * the required fields (present: checked before) and the optional ones
 * given, in table order. Each type's objects thus share a few hidden
 * classes, which keeps the validator's and the replay's property loads
 * monomorphic, and each literal is its own allocation site. One function
 * per type, not one for all: the optimizing compiler then compiles the
 * few hot types' small builders, once each, where one builder of every
 * type took it 0.1-0.2 s per compile, compiled again as each rarer type
 * first came by.
 */
function compileBuilders(): { build: Build[]; buildPlain: Build[]; shape: Shape[]; required: Int32Array; allowed: Int32Array } {
  const required = new Int32Array(BODY_TYPES.length);
  const allowed = new Int32Array(BODY_TYPES.length);
  const value = (k: number, f: FieldSpec) => {
    switch (f.kind) {
      case 'string': return `strings.get(b, s.from[${k}], s.to[${k}], s.hash[${k}])`;
      case 'bool': return `s.num[${k}] === 1`;
      case 'enum': return `V[${k}][s.num[${k}]]`;
      default: return `s.num[${k}]`; // numbers, and addresses (hex or not)
    }
  };
  // The same switch three times: with the values and the validator's index
  // slot, with the values alone (JSON.parse's object), and with null in
  // every field (the shapes to prime). `index`: the slot's value, or null for none.
  const body = (code: number, valueOf: (k: number, f: FieldSpec) => string, index: string | null) => {
    const type = BODY_TYPES[code]!;
    let req = 1; // "type"
    const fields = fieldsOf(type).map(([name, f]) => ({ name, f, k: KEY_ID.get(name)!, bit: 1 << KEY_ID.get(name)! }));
    for (const { f, bit } of fields) if (f.required) req |= bit;
    const opt = fields.filter(({ f }) => !f.required).reduce((m, { bit }) => m | bit, 0);
    required[code] = req;
    allowed[code] = req | opt;
    // One literal per subset of the optional fields given, `index` last (the
    // validator sets it): every field in the object itself. A field added
    // after the literal went to a separate property array, 40 bytes more.
    const literals: string[] = [];
    for (let sub = opt; ; sub = (sub - 1) & opt) {
      const props = [`type: ${JSON.stringify(type)}`];
      for (const { name, f, k, bit } of fields) if (f.required || (sub & bit) !== 0) props.push(`${JSON.stringify(name)}: ${valueOf(k, f)}`);
      if (index !== null) props.push(`index: ${index}`);
      literals.push(`case ${sub}: return { ${props.join(', ')} };`);
      if (sub === 0) break;
    }
    return `switch (seen & ${opt}) { ${literals.join(' ')} }`;
  };
  const compile = (name: string, valueOf: (k: number, f: FieldSpec) => string, index: string | null) =>
    BODY_TYPES.map((type, code) => new Function('V',
      `"use strict"; return function ${name}_${type.replace(/\W/g, '_')}(seen, b, s, strings) { ${body(code, valueOf, index)} };`,
    )(KEYS.map((k) => k.values)) as Build);
  const build = compile('build', value, '-1');
  const buildPlain = compile('buildPlain', value, null);
  const shape = compile('shape', () => 'null', 'null') as unknown as Shape[];
  return { build, buildPlain, shape, required, allowed };
}

const { build, buildPlain, shape, required: REQUIRED, allowed: ALLOWED } = compileBuilders();

/**
 * Every hidden class the builder can make (each type with each subset of
 * its optional fields, added in table order), built once with null in
 * every field before any number is. A field's first value fixes how V8
 * stores it: a number first makes it a double field, which boxes every
 * value in a heap number of its own, so a DMA event was four allocations
 * more than its object; after null, a field holds a small integer in place
 * and only a number past 2^31 is boxed (the wire's decoder does the same).
 */
function primeShapes(): void {
  for (let code = 0; code < BODY_TYPES.length; code++) {
    const req = REQUIRED[code]!;
    const opt = ALLOWED[code]! & ~req;
    // Every subset of the optional bits, opt itself down to 0.
    for (let sub = opt; ; sub = (sub - 1) & opt) {
      shape[code]!(req | sub);
      if (sub === 0) break;
    }
  }
}

/** Decodes flat event lines from bytes; one per reader (it keeps the scanned line's slots). */
export class FlatEventDecoder {
  /** After a decode: the index of the '\n' that ends the line (or the limit). */
  end = 0;
  /** Keys present on the line last scanned, a bit per key. */
  private seen = 0;
  private readonly slots: Slots = {
    num: new Float64Array(NKEYS), from: new Int32Array(NKEYS), to: new Int32Array(NKEYS), hash: new Int32Array(NKEYS),
  };
  private readonly strings = new StringMemo();

  /** Builds with the index slot (the validator's input), or exactly JSON.parse's object (`indexSlot` false). */
  private readonly build: Build[];

  constructor(indexSlot = true) {
    this.build = indexSlot ? build : buildPlain;
    // Primed when a process makes its first decoder, not at import (~4 ms):
    // `--help`, generate and the JSON containers import it and decode nothing.
    if (!primed) {
      primed = true;
      prime();
    }
  }

  /**
   * The event object on the line starting at `s`, or undefined: then the
   * caller frames the line itself and hands it to JSON.parse. The line ends
   * at the first '\n' or at `limit`, and b[limit] must be '\n' or past the
   * end of `b` (every loop stops there).
   */
  decode(b: Buffer, s: number, limit: number): object | undefined {
    const i = this.scan(b, s, limit);
    if (i < 0) return undefined;
    const seen = this.seen;
    if ((seen & 1) === 0) return undefined;
    const code = this.slots.num[0]!;
    if ((seen & REQUIRED[code]!) !== REQUIRED[code] || (seen & ~ALLOWED[code]!) !== 0) return undefined;
    this.end = i;
    return this.build[code]!(seen, b, this.slots, this.strings);
  }

  /** Scans one flat object and what follows it on its line: the index of the line's end, or -1. */
  private scan(b: Buffer, s: number, limit: number): number {
    const { num, from, to, hash } = this.slots;
    let seen = 0;
    let i = s;
    let c = b[i]!;
    while (c === 0x20 || c === 0x09 || c === 0x0d) c = b[++i]!;
    if (c !== LBRACE || i >= limit) return -1;
    for (;;) {
      // A key.
      do c = b[++i]!; while (c === 0x20 || c === 0x09 || c === 0x0d);
      if (c !== QUOTE || i >= limit) return -1;
      const k = matchKey(b, i + 1);
      if (k < 0) return -1;
      i += KEY_LEN[k]! + 1; // on the closing quote
      const bit = 1 << k;
      if ((seen & bit) !== 0) return -1; // a repeated key: JSON.parse keeps the last
      seen |= bit;
      do c = b[++i]!; while (c === 0x20 || c === 0x09 || c === 0x0d);
      if (c !== COLON) return -1;
      do c = b[++i]!; while (c === 0x20 || c === 0x09 || c === 0x0d);
      // Its value.
      let j: number;
      if (c >= 0x30 && c <= 0x39) {
        const ns = i;
        let v = c - 0x30;
        c = b[++i]!;
        if (v === 0 && c >= 0x30 && c <= 0x39) return -1; // a leading zero: not JSON
        // Nine digits stay a small integer; only longer numbers (ts, addresses) go on in doubles.
        while (c >= 0x30 && c <= 0x39 && i - ns < 9) {
          v = v * 10 + (c - 0x30);
          c = b[++i]!;
        }
        let w = v;
        while (c >= 0x30 && c <= 0x39) {
          w = w * 10 + (c - 0x30);
          c = b[++i]!;
        }
        if (c === 0x2e || c === 0x65 || c === 0x45 || i - ns > MAX_DIGITS) return -1;
        j = J_NUM;
        num[k] = w;
      } else if (c === QUOTE) {
        const match = MATCH_VALUE[k];
        if (match !== null) {
          const v = match(b, i + 1);
          if (v < 0) return -1; // the validator words a bad enum value
          num[k] = v;
          i += VALUE_LEN[k]![v]! + 1;
        } else if (IS_ADDR[k] === 1) {
          // "0x" and 1-13 hex digits: the number (the validator's reading of it).
          if (b[i + 1] !== 0x30 || (b[i + 2]! | 0x20) !== 0x78) return -1;
          i += 2;
          const ds = i;
          let v = 0;
          for (;;) {
            c = b[++i]!;
            const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
            if (d < 0) break;
            v = v * 16 + d;
          }
          if (c !== QUOTE || i === ds + 1 || i - ds > MAX_HEX_DIGITS + 1 || i >= limit) return -1;
          num[k] = v;
        } else {
          const vs = i + 1;
          let h = 0;
          for (;;) {
            c = b[++i]!;
            if (c === QUOTE || c === BSLASH || c < 0x20 || c >= 0x80) break;
            h = (Math.imul(h, 31) + c) | 0;
          }
          if (c !== QUOTE || i >= limit) return -1;
          from[k] = vs;
          to[k] = i;
          hash[k] = h;
        }
        j = J_STR;
        c = b[++i]!;
      } else if (c === 0x74 && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
        j = J_TRUE;
        num[k] = 1;
        i += 4;
        c = b[i]!;
      } else if (c === 0x66 && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65) {
        j = J_FALSE;
        num[k] = 0;
        i += 5;
        c = b[i]!;
      } else return -1;
      if ((ACCEPTS[k]! & (1 << j)) === 0) return -1;
      while (c === 0x20 || c === 0x09 || c === 0x0d) c = b[++i]!;
      if (c === COMMA) continue;
      if (c !== RBRACE) return -1;
      break;
    }
    // After the object: only whitespace to the end of the line.
    do c = b[++i]!; while (c === 0x20 || c === 0x09 || c === 0x0d);
    if (i < limit && c !== NL) return -1;
    this.seen = seen;
    return Math.min(i, limit);
  }
}

/**
 * Sample lines of every type, every field and every kind of value a field
 * may take (short and long numbers, hex and numeric addresses, each enum
 * value, true and false), some declined, the last one ending at the buffer's
 * end. Decoding them once, when a process makes its first decoder, fills
 * the decoder's type feedback before any trace is read: a branch first
 * taken after the optimizing compiler has run (a number past 2^31, an
 * address given as a number, a line ending at the end of a chunk) throws
 * the compiled code away and compiles it again:
 * unprimed, `scan` was compiled 4 times while reading a 1M-line trace,
 * primed once (0.9% fewer instructions in all, most of it compiling).
 */
function primerLines(): string[] {
  const lines: string[] = [];
  for (const type of BODY_TYPES) {
    for (const variant of [0, 1]) {
      const o: Record<string, unknown> = { type };
      for (const [name, f] of fieldsOf(type)) {
        switch (f.kind) {
          case 'string': o[name] = variant ? 'a/b c' : 'x'; break;
          case 'bool': o[name] = variant === 1; break;
          case 'enum': o[name] = f.values![variant % f.values!.length]; break;
          case 'addr': o[name] = variant ? 0x7f1234567000 : '0x7f1234567000'; break;
          default: o[name] = variant ? 12345678901234 : 4096;
        }
      }
      lines.push(JSON.stringify(o));
      if (type === BODY_TYPES[0]) lines.push(JSON.stringify(o, null, 1).replace(/\n/g, ' '));
    }
    for (const [name, f] of fieldsOf(type)) for (const v of f.values ?? []) lines.push(JSON.stringify({ type, [name]: v }));
  }
  return ['{"type":"dma","ts":-1}', '{"type":"dma","ts":1.5}', '{"type":"x"}', '{"type":"dma","pin":"a\\"}', '{}', '[]', ...lines];
}

let primed = false;

function prime(): void {
  primeShapes();
  const decoder = new FlatEventDecoder();
  const lines = primerLines();
  for (const sep of ['\n', '\r\n']) {
    const b = Buffer.from(lines.join(sep));
    for (let s = 0; s < b.length;) {
      const nl = b.indexOf(0x0a, s);
      const limit = nl < 0 ? b.length : nl;
      decoder.decode(b, s, limit);
      s = limit + 1;
    }
  }
}
