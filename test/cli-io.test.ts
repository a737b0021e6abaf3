// Where the CLI reads and writes: '-' for standard input and output in every
// command, output folders created or refused in one line, an existing output
// kept when a command fails, and a reader that leaves early (| head).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeWorkload } from '../src/generate/index.js';
import { assertOneLineError, BAD_CAPTURE, BIN, CAPTURE, pinscope, tempFolder, TRACE } from './cli-run.js';

const traceText = readFileSync(TRACE, 'utf8');
const SCENARIOS = join(TRACE, '..', 'scenarios');

test("every command that reads a trace or capture takes '-' for standard input", () => {
  const dir = tempFolder();
  const exp = pinscope(['export', '-', '-o', join(dir, 'x.json'), '--quiet'], { input: traceText });
  assert.equal(exp.status, 0, exp.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, 'x.json'), 'utf8')).otherData.events_replayed, 14);
  const rep = pinscope(['report', '-', '-o', join(dir, 'x.html')], { input: traceText });
  assert.equal(rep.status, 0, rep.stderr);
  assert.match(readFileSync(join(dir, 'x.html'), 'utf8'), /^<!DOCTYPE html>/);
  const imp = pinscope(['import', 'bpftrace', '-', '-o', join(dir, 'y.ndjson'), '--quiet'], { input: readFileSync(CAPTURE) });
  assert.equal(imp.status, 0, imp.stderr);
  assert.ok(readFileSync(join(dir, 'y.ndjson'), 'utf8').split('\n').length > 10);
  // Among other files, in its place; and in the long form of an option.
  const val = pinscope(['validate', TRACE, '-'], { input: traceText });
  assert.equal(val.status, 0, val.stderr);
  assert.deepEqual(val.stdout.split('\n').map((l) => l.split(':')[0]), [`ok ${TRACE}`, 'ok -', '']);
  const gen = pinscope(['generate', 'mixed', '-n', '3', '--output', '-']);
  assert.equal(gen.status, 0, gen.stderr);
  assert.equal(gen.stdout.trimEnd().split('\n').length, 4);
});

test("report -o - writes the page to standard output; replay --html - is refused", () => {
  const dir = tempFolder();
  const r = pinscope(['report', TRACE, '-o', '-'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^<!DOCTYPE html>[^]*<\/html>\n$/);
  assert.deepEqual(readdirSync(dir), [], 'no file named -');
  assertOneLineError(pinscope(['replay', TRACE, '--html', '-'], { cwd: dir }), /^pinscope: --html: /, 'replay --html -');
  assert.deepEqual(readdirSync(dir), []);
});

/** Every command that writes a file, writing `out`. */
const writers = (out: string): string[][] => [
  ['generate', 'mixed', '-n', '5', '-o', out],
  ['export', TRACE, '-o', out, '--quiet'],
  ['import', 'bpftrace', CAPTURE, '-o', out, '--quiet'],
  ['report', TRACE, '-o', out],
  ['replay', TRACE, '--html', out],
];

test('every output creates its missing folders', () => {
  const dir = tempFolder();
  for (let i = 0; i < writers('').length; i++) {
    const out = join(dir, `new${i}`, 'a', 'file');
    const args = writers(out)[i]!;
    const r = pinscope(args);
    assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
    assert.ok(existsSync(out), `${args[0]} wrote ${out}`);
  }
  const b = pinscope(['batch', SCENARIOS, '--out', join(dir, 'newb', 'reports'), '--quiet', '--lenient']);
  assert.equal(b.status, 0, b.stderr);
  assert.ok(existsSync(join(dir, 'newb', 'reports', 'index.html')));
});

test('an output that cannot be written is one line and exit 2, never a stack', () => {
  const dir = tempFolder();
  const file = join(dir, 'afile');
  writeFileSync(file, 'in the way\n');
  for (const args of [...writers(join(file, 'x')), ['batch', SCENARIOS, '--out', file], ['batch', SCENARIOS, '--out', join(file, 'sub')]]) {
    assertOneLineError(pinscope(args), new RegExp(`^pinscope: cannot write ${file}\\S*: ${file} is a file, not a folder\\n$`), args.join(' '));
  }
  assertOneLineError(pinscope(['report', TRACE, '-o', dir]), /^pinscope: cannot write .*: it is a folder\n$/, 'a folder as output');
  assert.equal(readFileSync(file, 'utf8'), 'in the way\n');
  // Permission denied is worded by the output helper (test/output-file.test.ts): root, running these, may write anywhere.
});

test('a failed command leaves an existing output file as it was, and no temporary file', () => {
  const dir = tempFolder();
  const out = join(dir, 'trace.ndjson');
  writeFileSync(out, 'precious\n');
  const r = pinscope(['import', 'bpftrace', BAD_CAPTURE, '-o', out]);
  assertOneLineError(r, /late-event.json:line \d+: .*sort window/, 'import of a bad capture');
  assert.equal(readFileSync(out, 'utf8'), 'precious\n');
  assert.deepEqual(readdirSync(dir), ['trace.ndjson']);
});

/** Runs the CLI, closes its stdout after the first bytes, and resolves with the exit code and stderr. */
function readerLeavesEarly(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('close', (code) => done({ code, stderr }));
  });
}

test('a closed standard output ends the command quietly, with the exit code it computes', async () => {
  const dir = tempFolder();
  const big = join(dir, 'big.ndjson');
  await writeWorkload(big, { workload: 'mixed', events: 20000, seed: 1 });
  for (const [args, code] of [
    [['replay', big, '--json', '--findings'], 0],
    [['replay', big, '--json', '--findings', '--fail-on', 'corruption'], 1],
    [['export', big, '-o', '-', '--strategy', 'none,pin'], 0],
  ] as Array<[string[], number]>) {
    const r = await readerLeavesEarly(args);
    assert.equal(r.stderr, '', args.join(' '));
    assert.equal(r.code, code, args.join(' '));
  }
});
