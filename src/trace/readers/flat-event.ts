// A JSON Lines record is nearly always one flat event object: known keys,
// integers, plain ASCII strings, true or false. Such a line is decoded here
// straight from the bytes, into the object JSON.parse would give (the same
// keys and values; keys in table order), in under half JSON.parse's time:
// JSON.parse builds every object through map transitions and internalizes
// every key. Anything else (an escape, a fraction, a negative number, a
// nested value, an unknown key, a value of the wrong JSON kind, a missing
// required field, non-ASCII) is declined, and the caller JSON.parses the
// line: so messages about bad input are always JSON.parse's and the
// validator's. Decides nothing about validity: it only reads what the table
// says an event may hold. Keys, their kinds and the builders are walked
// from EVENT_SPECS, never restated.
import { BODY_TYPES, fieldsOf, type FieldKind, type FieldSpec } from '../events.js';

const QUOTE = 0x22, BSLASH = 0x5c, LBRACE = 0x7b, RBRACE = 0x7d, COMMA = 0x2c, COLON = 0x3a, NL = 0x0a;

/** JSON kinds of a scanned value. */
const J_NUM = 1, J_STR = 2, J_TRUE = 3, J_FALSE = 4;
/** Digits beyond which an integer is left to JSON.parse (15 are always exact in a double). */
const MAX_DIGITS = 15;

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
 * for true or false), or its string's bounds (`from` is -1 when an address
 * was given as a number). Which keys are present is a bit mask, so nothing
 * needs clearing between lines.
 */
interface Slots {
  num: Float64Array;
  from: Int32Array;
  to: Int32Array;
}

type Build = (code: number, seen: number, b: Buffer, s: Slots) => object;

/**
 * The generated builder: a switch over the type, each case one object
 * literal naming the required fields (present: checked before), then the
 * optional ones that were given. Each type's objects thus share a few
 * hidden classes, which keeps the validator's and the replay's property
 * loads monomorphic, and each literal is its own allocation site.
 */
function compileBuilder(): { build: Build; required: Int32Array; allowed: Int32Array } {
  const required = new Int32Array(BODY_TYPES.length);
  const allowed = new Int32Array(BODY_TYPES.length);
  const value = (k: number, f: FieldSpec) => {
    switch (f.kind) {
      case 'string': return `b.toString('latin1', s.from[${k}], s.to[${k}])`;
      case 'bool': return `s.num[${k}] === 1`;
      case 'enum': return `V[${k}][s.num[${k}]]`;
      case 'addr': return `(s.from[${k}] < 0 ? s.num[${k}] : b.toString('latin1', s.from[${k}], s.to[${k}]))`;
      default: return `s.num[${k}]`;
    }
  };
  const cases = BODY_TYPES.map((type, code) => {
    let req = 1; // "type"
    let all = 1;
    const literal = [`type: ${JSON.stringify(type)}`];
    const optional: string[] = [];
    for (const [name, f] of fieldsOf(type)) {
      const k = KEY_ID.get(name)!;
      all |= 1 << k;
      if (f.required) {
        req |= 1 << k;
        literal.push(`${JSON.stringify(name)}: ${value(k, f)}`);
      } else {
        optional.push(`if ((seen & ${1 << k}) !== 0) o[${JSON.stringify(name)}] = ${value(k, f)};`);
      }
    }
    required[code] = req;
    allowed[code] = all;
    return `case ${code}: { const o = { ${literal.join(', ')} }; ${optional.join(' ')} return o; }`;
  });
  const body = `"use strict"; return function build(code, seen, b, s) { switch (code) { ${cases.join('\n')} } };`;
  const build = new Function('V', body)(KEYS.map((k) => k.values)) as Build;
  return { build, required, allowed };
}

const { build, required: REQUIRED, allowed: ALLOWED } = compileBuilder();

/** Decodes flat event lines from bytes; one per reader (it keeps the scanned line's slots). */
export class FlatEventDecoder {
  /** After a decode: the index of the '\n' that ends the line (or the limit). */
  end = 0;
  /** Keys present on the line last scanned, a bit per key. */
  private seen = 0;
  private readonly slots: Slots = { num: new Float64Array(NKEYS), from: new Int32Array(NKEYS), to: new Int32Array(NKEYS) };

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
    return build(code, seen, b, this.slots);
  }

  /** Scans one flat object and what follows it on its line: the index of the line's end, or -1. */
  private scan(b: Buffer, s: number, limit: number): number {
    const { num, from, to } = this.slots;
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
        from[k] = -1;
      } else if (c === QUOTE) {
        const match = MATCH_VALUE[k];
        if (match !== null) {
          const v = match(b, i + 1);
          if (v < 0) return -1; // the validator words a bad enum value
          num[k] = v;
          i += VALUE_LEN[k]![v]! + 1;
        } else {
          const vs = i + 1;
          do c = b[++i]!; while (c !== QUOTE && c !== BSLASH && c >= 0x20 && c < 0x80);
          if (c !== QUOTE || i >= limit) return -1;
          from[k] = vs;
          to[k] = i;
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
