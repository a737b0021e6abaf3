// Finds traces under a folder by content, not by name: a file is a trace
// when its (decompressed) first bytes look like one of the containers of
// trace format v1. Everything else is listed as ignored, with why.
import { open, readdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface IgnoredFile {
  path: string;
  reason: string;
}

export interface Discovery {
  /** Trace paths (the folder joined with the relative path), sorted. */
  traces: string[];
  ignored: IgnoredFile[];
}

const SNIFF_BYTES = 16 * 1024;
const TYPE_KEY = /"type"\s*:\s*"(meta|device|file|proc|mmap|munmap|exit|pin|dma|unpin|truncate|punch_hole|write|writeback|mmu_notifier)"/;
const OBJECT_KEYS = /^\{\s*"(meta|events)"\s*:/;

/** Why `head` (the first bytes of a file) is not a trace, or null if it looks like one. */
export function sniffTrace(head: Buffer): string | null {
  let bytes = head;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      // A partial gzip member: inflate what we have and ignore the missing end.
      bytes = gunzipSync(bytes, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
    } catch {
      return 'gzip data that does not inflate';
    }
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text.length === 0) return 'empty';
  if (text[0] === '[') {
    return TYPE_KEY.test(text.slice(0, 4096)) ? null : 'a JSON array whose first element is not a trace event';
  }
  if (text[0] === '{') {
    if (OBJECT_KEYS.test(text)) return null;
    const firstObject = text.slice(0, Math.min(text.length, 4096));
    return TYPE_KEY.test(firstObject) ? null : 'JSON that is not a trace (no event "type", no "meta"/"events")';
  }
  return 'not JSON, JSON Lines or gzip';
}

async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function walk(dir: string, skip: string | null, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      if (skip && resolve(p) === skip) continue;
      await walk(p, skip, out);
    } else if (e.isFile()) {
      out.push(p);
    }
  }
}

/** Every file under `dir` (recursively), split into traces and ignored files. `exclude` (a folder) is not entered. */
export async function discoverTraces(dir: string, exclude?: string): Promise<Discovery> {
  const files: string[] = [];
  await walk(dir, exclude ? resolve(exclude) : null, files);
  files.sort((a, b) => (relative(dir, a).split(sep).join('/') < relative(dir, b).split(sep).join('/') ? -1 : 1));
  const traces: string[] = [];
  const ignored: IgnoredFile[] = [];
  for (const f of files) {
    const why = sniffTrace(await readHead(f));
    if (why === null) traces.push(f);
    else ignored.push({ path: f, reason: why });
  }
  return { traces, ignored };
}
