// Writes the imported trace as JSON Lines (gzip when the name ends in
// .gz), waiting for the stream to drain so memory stays bounded however
// large the capture. Kept here so the importer does not depend on a
// writer still being built elsewhere.
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { createGzip, type Gzip } from 'node:zlib';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export class NdjsonOut {
  private readonly sink: Writable;
  private readonly file: WriteStream | null;
  private readonly gzip: Gzip | null;
  private buf: string[] = [];
  private bufLen = 0;
  /** A write error (say ENOENT for the output's folder), kept to throw from the next call instead of crashing. */
  private error: Error | null = null;

  constructor(readonly path: string) {
    if (path === '-') {
      this.file = null;
      this.gzip = null;
      this.sink = process.stdout;
    } else {
      this.file = createWriteStream(path);
      this.gzip = path.endsWith('.gz') ? createGzip() : null;
      if (this.gzip) this.gzip.pipe(this.file);
      this.sink = this.gzip ?? this.file;
      const keep = (err: Error) => { this.error ??= err; };
      this.file.on('error', keep);
      this.gzip?.on('error', keep);
    }
  }

  /** Queues one event; flushes in 64 KiB writes. */
  async line(obj: unknown): Promise<void> {
    if (this.error) throw this.error;
    const s = JSON.stringify(obj);
    this.buf.push(s);
    this.bufLen += s.length + 1;
    if (this.bufLen >= 65536) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const text = this.buf.join('\n') + '\n';
    this.buf = [];
    this.bufLen = 0;
    if (!this.sink.write(text)) await once(this.sink, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.error) throw this.error;
    if (!this.file) return;
    const done = once(this.file, 'finish');
    (this.gzip ?? this.file).end();
    await done;
  }

  /** On failure: stop writing and remove the partial file, so no half trace is left behind. */
  async abort(): Promise<void> {
    if (!this.file) return;
    const closed = this.file.closed ? Promise.resolve() : once(this.file, 'close').catch(() => undefined);
    this.gzip?.destroy();
    this.file.destroy();
    await closed;
    rmSync(this.path, { force: true });
  }
}
