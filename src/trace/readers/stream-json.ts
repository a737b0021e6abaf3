// The stream-json framing for the JSON containers, kept as the reference
// the byte scanner is measured against (bench, tests). It knows no byte
// offsets or lines, so its records carry line 0 and offset -1; the object
// container's meta must be pre-scanned (openTrace does it for files).
import { Readable, pipeline } from 'node:stream';
import { parser } from 'stream-json';
import { pick } from 'stream-json/filters/pick.js';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import { TraceInputError } from '../errors.js';
import type { RawRecord } from './record.js';
import type { JsonContainer } from './frame-scanner.js';

const BATCH = 1024;

export function streamJsonReader(container: JsonContainer, file: string) {
  return async function* readStreamJson(chunks: AsyncIterable<Buffer>): AsyncGenerator<RawRecord[], void, undefined> {
    const stages: NodeJS.ReadWriteStream[] = [parser.asStream()];
    if (container === 'object') stages.push(pick.asStream({ filter: 'events' }));
    stages.push(streamArray.asStream());
    const last = stages[stages.length - 1]! as unknown as Readable;
    pipeline(Readable.from(chunks), ...(stages as [NodeJS.ReadWriteStream]), () => {});
    let out: RawRecord[] = [];
    try {
      for await (const item of last as AsyncIterable<{ key: number; value: unknown }>) {
        out.push({ value: item.value, line: 0, offset: -1 });
        if (out.length >= BATCH) {
          yield out;
          out = [];
        }
      }
    } catch (err) {
      if (err instanceof TraceInputError) throw err;
      if (out.length > 0) yield out;
      throw new TraceInputError('container', { file, line: 0, offset: -1, index: -1 }, null,
        `malformed JSON (stream-json): ${(err as Error).message}`);
    }
    if (out.length > 0) yield out;
  };
}
