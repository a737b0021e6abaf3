// writeAtomically / writeOutput: the old file survives a failed write, no
// temporary file is left, links and devices are written through, and
// errors name the output in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputError, writeAtomically, writeOutput } from '../src/output/file.js';

const dir = mkdtempSync(join(tmpdir(), 'pinscope-output-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a write that fails half way leaves the old file and no temporary file', async () => {
  const out = join(dir, 'keep.txt');
  writeFileSync(out, 'old\n');
  const boom = new Error('input went bad');
  await assert.rejects(writeAtomically(out, async (target) => {
    writeFileSync(target, 'half');
    throw boom;
  }), (e) => e === boom, 'a failure that is not the output\'s passes through as it is');
  assert.equal(readFileSync(out, 'utf8'), 'old\n');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('keep')), ['keep.txt']);
});

test('a write that succeeds replaces the file and keeps its permissions', async () => {
  const out = join(dir, 'mode.txt');
  writeFileSync(out, 'old\n');
  chmodSync(out, 0o640);
  await writeOutput(out, 'new\n');
  assert.equal(readFileSync(out, 'utf8'), 'new\n');
  assert.equal(statSync(out).mode & 0o777, 0o640);
});

test('through a symbolic link the target is written and the link stays; a device is written as it is', async () => {
  const real = join(dir, 'real.txt');
  const link = join(dir, 'link.txt');
  writeFileSync(real, 'old\n');
  symlinkSync(real, link);
  await writeOutput(link, 'new\n');
  assert.equal(readlinkSync(link), real);
  assert.equal(readFileSync(real, 'utf8'), 'new\n');
  let given = '';
  await writeAtomically('/dev/null', async (target) => {
    given = target;
  });
  assert.equal(given, '/dev/null', 'never a temporary file renamed over a device');
});

test('output errors name the output and the reason in one line', async () => {
  const file = join(dir, 'plain');
  writeFileSync(file, '');
  await assert.rejects(writeOutput(join(file, 'a', 'b.html'), 'x'),
    (e) => e instanceof OutputError && e.message === `cannot write ${file}/a/b.html: ${file} is a file, not a folder`);
  await assert.rejects(writeOutput(dir, 'x'), (e) => e instanceof OutputError && e.message === `cannot write ${dir}: it is a folder`);
  await assert.rejects(writeOutput('', 'x'), OutputError);
});

test('a refused write (EACCES, EPERM) names the output and says permission denied', async () => {
  for (const code of ['EACCES', 'EPERM']) {
    const out = join(dir, `denied-${code}.txt`);
    await assert.rejects(writeAtomically(out, async (target) => {
      // As fs reports it: a system error with a syscall, about the file being written.
      throw Object.assign(new Error(`${code}: open '${target}'`), { code, syscall: 'open', path: target });
    }), (e) => e instanceof OutputError && e.message === `cannot write ${out}: permission denied`, code);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('denied')), [], 'no temporary file left');
  }
});
