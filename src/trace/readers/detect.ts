// Which container a trace is, from its first bytes (never its name).
//
// The rule: skip a UTF-8 BOM and whitespace; `[` is a JSON array. `{` is
// the object container when the first key of that first object is "meta"
// or "events" (no event type has either field); any other first key means
// JSON Lines (an event object, usually starting with "type"). Anything
// else is not a trace.
import { TraceInputError } from '../errors.js';
import type { ContainerFormat } from '../source.js';

export interface Detected {
  format: ContainerFormat;
  /** First key of the object container ("meta" or "events"), else null. */
  firstKey: string | null;
  /** The same decompressed bytes, starting from the first one (nothing consumed). */
  chunks: AsyncIterable<Buffer>;
}

const LIMIT = 1 << 20; // give up looking for the first key after 1 MiB: call it JSON Lines

/** Looks at buffered prefix bytes; null when more bytes are needed. */
export function classify(buf: Buffer, ended: boolean): { format: ContainerFormat; firstKey: string | null } | 'empty' | 'other' | null {
  let i = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (i >= buf.length) return ended ? 'empty' : null;
  if (buf[i] === 0x5b) return { format: 'array', firstKey: null };
  if (buf[i] !== 0x7b) return 'other';
  i++;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (i >= buf.length) return ended || buf.length >= LIMIT ? { format: 'ndjson', firstKey: null } : null;
  if (buf[i] !== 0x22) return { format: 'ndjson', firstKey: null };
  // Find the end of the key string.
  let j = i + 1;
  for (; j < buf.length; j++) {
    if (buf[j] === 0x5c) j++;
    else if (buf[j] === 0x22) break;
  }
  if (j >= buf.length) return ended || buf.length >= LIMIT ? { format: 'ndjson', firstKey: null } : null;
  let key: string;
  try {
    key = JSON.parse(buf.toString('utf8', i, j + 1)) as string;
  } catch {
    return { format: 'ndjson', firstKey: null };
  }
  return key === 'meta' || key === 'events' ? { format: 'object', firstKey: key } : { format: 'ndjson', firstKey: null };
}

export async function detectContainer(chunks: AsyncIterable<Buffer>, file: string): Promise<Detected> {
  const it = chunks[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let len = 0;
  let ended = false;
  for (;;) {
    const r = await it.next();
    if (r.done) ended = true;
    else {
      seen.push(r.value);
      len += r.value.length;
    }
    const prefix = seen.length === 1 ? seen[0]! : Buffer.concat(seen, len);
    const c = classify(prefix, ended);
    if (c === 'empty') {
      throw new TraceInputError('container', { file, line: 0, offset: len, index: -1 }, null,
        'empty input: expected JSON Lines, a JSON array or a {"meta", "events"} object');
    }
    if (c === 'other') {
      const at = prefix.findIndex((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0xef && b !== 0xbb && b !== 0xbf);
      throw new TraceInputError('container', { file, line: 0, offset: Math.max(at, 0), index: -1 }, null,
        "not a trace: expected '{' (JSON Lines or a {\"meta\", \"events\"} object) or '[' (a JSON array) as the first character");
    }
    if (c !== null) {
      if (prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf) {
        // The BOM becomes three spaces, which every reader skips: lines and byte offsets stay those of the file.
        const copy = Buffer.from(prefix);
        copy.fill(0x20, 0, 3);
        seen.length = 0;
        seen.push(copy);
      }
      async function* replay(): AsyncGenerator<Buffer> {
        try {
          for (const b of seen) yield b;
          if (ended) return;
          for (;;) {
            const r2 = await it.next();
            if (r2.done) return;
            yield r2.value;
          }
        } finally {
          await it.return?.();
        }
      }
      return { ...c, chunks: replay() };
    }
    if (ended) throw new Error('unreachable: classify gave no answer at end of input');
  }
}
