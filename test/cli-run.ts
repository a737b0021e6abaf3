// Runs bin/pinscope.js as a user would, for the end-to-end CLI tests.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const BIN = fileURLToPath(new URL('../../bin/pinscope.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TRACE = join(ROOT, 'traces/dax-truncate.ndjson');
export const CAPTURE = join(ROOT, 'test/fixtures/bpftrace/dax-truncate.json');
export const BAD_CAPTURE = join(ROOT, 'test/fixtures/bpftrace/late-event.json');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function pinscope(args: string[], opts: { input?: string | Buffer; cwd?: string } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, ...opts });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export { tempFolder } from './temp.js';

/** Exit 2 and exactly one line on stderr, no stack trace, matching `re`. */
export function assertOneLineError(r: Run, re: RegExp, what: string): void {
  assert.equal(r.status, 2, `${what}: exit ${r.status}, stderr ${r.stderr}`);
  assert.equal(r.stderr.split('\n').length, 2, `${what}: not one line: ${JSON.stringify(r.stderr)}`);
  assert.doesNotMatch(r.stderr, /internal error|\bat .*\.js:\d+/, what);
  assert.match(r.stderr, re, what);
}
