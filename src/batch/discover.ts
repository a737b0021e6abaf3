// Finds traces under a folder by content, not by name: a file is a trace
// when its (decompressed) first bytes look like one of the containers of
// trace format v1. Everything else is listed as ignored, with why.
import { open, readdir, stat } from 'node:fs/promises';
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
const ANY_TYPE = /"type"\s*:\s*"/;
const TS_KEY = /"ts"\s*:/;

/** Why `head` (the first bytes of a file) is not a trace, or null if it looks like one. */
export function sniffTrace(head: Buffer): string | null {
  let bytes = head;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      // A partial gzip member: inflate what we have and ignore the missing end.
      bytes = gunzipSync(bytes, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
    } catch {
      // Corrupt or cut short before any text: nothing says it is not a trace, so replaying it reports the gzip error.
      return null;
    }
    if (bytes.length === 0) return null;
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text.length === 0) return 'empty';
  const first = text.slice(0, 4096);
  if (text[0] === '[') {
    return looksLikeEvent(first) ? null : 'a JSON array whose first element is not a trace event';
  }
  if (text[0] === '{') {
    if (OBJECT_KEYS.test(text)) return null;
    return looksLikeEvent(first) ? null : 'JSON that is not a trace (no event "type", no "meta"/"events")';
  }
  return 'not JSON, JSON Lines or gzip';
}

/** A known event type, or a "type" string beside a "ts" (an unknown type: replaying it says which). */
function looksLikeEvent(text: string): boolean {
  return TYPE_KEY.test(text) || (ANY_TYPE.test(text) && TS_KEY.test(text));
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

async function walk(dir: string, skip: string | null, out: string[], links: IgnoredFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      if (skip && resolve(p) === skip) continue;
      await walk(p, skip, out, links);
    } else if (e.isFile()) {
      out.push(p);
    } else if (e.isSymbolicLink()) {
      // A link to a file is read as the file; folders are not followed (no loops, no trace found twice).
      const target = await stat(p).catch(() => null);
      if (target?.isFile()) out.push(p);
      else links.push({ path: p, reason: target ? 'a symbolic link to a folder (not followed)' : 'a symbolic link to nothing' });
    }
  }
}

/** Every file under `dir` (recursively), split into traces and ignored files. `exclude` (a folder) is not entered. */
export async function discoverTraces(dir: string, exclude?: string): Promise<Discovery> {
  const files: string[] = [];
  const links: IgnoredFile[] = [];
  await walk(dir, exclude ? resolve(exclude) : null, files, links);
  const key = (p: string) => relative(dir, p).split(sep).join('/');
  files.sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const traces: string[] = [];
  const ignored: IgnoredFile[] = [...links];
  for (const f of files) {
    const why = sniffTrace(await readHead(f));
    if (why === null) traces.push(f);
    else ignored.push({ path: f, reason: why });
  }
  ignored.sort((a, b) => (key(a.path) < key(b.path) ? -1 : 1));
  return { traces, ignored };
}
