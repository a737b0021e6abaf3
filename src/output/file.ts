// Every file pinscope writes goes through here: missing parent folders are
// created, the bytes go to a temporary file beside the target and are
// renamed into place only once complete, so a failed command never leaves
// a half file or destroys the file that was there. '-' is standard output.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** An output that cannot be written: one line naming the path and why. */
export class OutputError extends Error {
  override readonly name = 'OutputError';
}

/** Node's system errors (ENOENT, EACCES, ...) carry a syscall; programming errors do not. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && 'syscall' in err;
}

function outputError(path: string, err: NodeJS.ErrnoException, folder = dirname(path)): OutputError {
  const why = err.code === 'ENOTDIR' || err.code === 'EEXIST' ? `${fileInTheWay(folder)} is a file, not a folder`
    : err.code === 'EISDIR' ? 'it is a folder'
      : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied'
        : err.message;
  return new OutputError(`cannot write ${path}: ${why}`);
}

/** The first part of `folder`, from the root down, that exists and is not a folder. */
function fileInTheWay(folder: string): string {
  const chain = [folder];
  while (dirname(chain[0]!) !== chain[0]) chain.unshift(dirname(chain[0]!));
  for (const p of chain) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) break;
    if (!st.isDirectory()) return p;
  }
  return folder;
}

/** Creates a folder and its parents (an existing folder is fine); `path` is what an error names. */
export async function makeFolder(folder: string, path = folder): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
  } catch (err) {
    throw isSystemError(err) ? outputError(path, err, folder) : err;
  }
}

/**
 * Runs `write(target)`, where target is a temporary file in the folder of
 * `path`, then renames it to `path`. On failure the temporary file is
 * removed and `path` is left as it was. '-' and existing non-regular files
 * (/dev/null, a FIFO) are handed to `write` as they are. Failures to write
 * become an OutputError; anything else (bad input) passes through.
 */
export async function writeAtomically<T>(path: string, write: (target: string) => Promise<T>): Promise<T> {
  if (path === '-') return write(path);
  if (path === '') throw new OutputError('cannot write an output with an empty file name');
  // Through a link, to the file it names; the link stays.
  const final = await realpath(path).catch(() => path);
  const old = await stat(final).catch(() => null);
  if (old?.isDirectory()) throw new OutputError(`cannot write ${path}: it is a folder`);
  if (old && !old.isFile()) return write(path);
  await makeFolder(dirname(final), path);
  const tmp = join(dirname(final), `.pinscope-${randomBytes(6).toString('hex')}-${basename(final)}`);
  try {
    const result = await write(tmp);
    if (old) await chmod(tmp, old.mode & 0o7777);
    await rename(tmp, final);
    return result;
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    // A system error about another file (the input) is not an output failure.
    throw isSystemError(err) && (err.path === undefined || err.path === tmp || err.path === final) ? outputError(path, err) : err;
  }
}

/** Writes `text` to `path` (see writeAtomically), or to standard output for '-'. */
export async function writeOutput(path: string, text: string): Promise<void> {
  if (path === '-') {
    // A closed standard output is the CLI's to handle (it ends quietly); here the text is simply given.
    await new Promise<void>((done) => process.stdout.write(text, () => done()));
    return;
  }
  await writeAtomically(path, (target) => writeFile(target, text));
}
