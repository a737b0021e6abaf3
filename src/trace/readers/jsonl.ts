// JSON Lines framing. Each chunk's complete lines are decoded as ONE
// string (a '\n' byte never sits inside a multi-byte UTF-8 sequence, so a
// cut there is always safe), then split and JSON.parse'd per line. An
// unfinished last line is kept as bytes and joined with the next chunk.
// Byte offsets come free when the text is ASCII (chars = bytes); otherwise
// each line's byte length is counted.
import { parseRecord, type RawRecord } from './record.js';

const NL = 0x0a;

/** Frames every '\n'-separated segment of `text` (the last one ends the text); returns the next line number. */
function frameText(text: string, asciiOnly: boolean, baseOffset: number, firstLine: number, out: RawRecord[]): number {
  let line = firstLine;
  let start = 0;
  let offset = baseOffset;
  const n = text.length;
  for (;;) {
    let nl = text.indexOf('\n', start);
    const last = nl < 0;
    if (last) nl = n;
    let end = nl;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    if (end > start) {
      // Events are objects: the common case skips the blank check.
      if (text.charCodeAt(start) === 0x7b) out.push(parseRecord(text.slice(start, end), line, offset));
      else {
        const s = text.slice(start, end);
        if (s.trim() !== '') out.push(parseRecord(s, line, offset));
      }
    }
    line++;
    if (last) return line;
    offset += asciiOnly ? nl + 1 - start : Buffer.byteLength(text.slice(start, nl)) + 1;
    start = nl + 1;
  }
}

export async function* readJsonLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<RawRecord[], void, undefined> {
  let tail: Buffer[] = []; // bytes of an unfinished line (a long line may span many chunks: joined once)
  let offset = 0; // stream offset of the next line's first byte
  let line = 1;
  for await (const chunk of chunks) {
    const lastNl = chunk.lastIndexOf(NL);
    if (lastNl < 0) {
      tail.push(chunk);
      continue;
    }
    const out: RawRecord[] = [];
    let bytes: Buffer;
    if (tail.length > 0) {
      tail.push(chunk.subarray(0, lastNl));
      bytes = Buffer.concat(tail);
      tail = [];
    } else {
      bytes = chunk.subarray(0, lastNl);
    }
    const text = bytes.toString('utf8');
    line = frameText(text, text.length === bytes.length, offset, line, out);
    offset += bytes.length + 1;
    if (lastNl + 1 < chunk.length) tail.push(chunk.subarray(lastNl + 1));
    if (out.length > 0) yield out;
  }
  if (tail.length > 0) {
    const out: RawRecord[] = [];
    const bytes = Buffer.concat(tail);
    const text = bytes.toString('utf8');
    frameText(text, text.length === bytes.length, offset, line, out);
    if (out.length > 0) yield out;
  }
}
