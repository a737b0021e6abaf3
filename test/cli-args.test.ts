// The command line itself: usage errors in one line, an option given twice
// refused, option values checked and echoed as typed, help that says what
// the command does, and report's options on a summary input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertOneLineError, CAPTURE, pinscope, tempFolder, TRACE } from './cli-run.js';

test('a usage error is one line ending in (see pinscope --help), exit 2', () => {
  for (const args of [['bogus'], ['replay', TRACE, '--bogus'], ['export', TRACE, '--format', 'xml'], []]) {
    assertOneLineError(pinscope(args), /^pinscope: .* \(see pinscope --help\)\n$/, args.join(' ') || '(nothing)');
  }
  assertOneLineError(pinscope(['bogus']), /^pinscope: Unknown argument: bogus \(see pinscope --help\)\n$/, 'bogus');
});

test('an option given twice is a usage error naming it, in every command, and nothing is written', () => {
  const dir = tempFolder();
  const [a, b] = [join(dir, 'a'), join(dir, 'b')];
  for (const [args, option] of [
    [['replay', TRACE, '--html', a, '--html', b], '--html'],
    [['report', TRACE, '-o', a, '-o', b], '-o/--output'],
    [['report', TRACE, '-o', a, '--output', b], '-o/--output'],
    [['export', TRACE, '-o', a, '-o', b], '-o/--output'],
    [['batch', dir, '--out', a, '--out', b], '--out'],
    [['generate', 'mixed', '-o', a, '-o', b], '-o/--output'],
    [['import', 'bpftrace', CAPTURE, '-o', a, '-o', b], '-o/--output'],
    [['replay', TRACE, '--strategy', 'none', '--strategy', 'pin'], '--strategy'],
    [['replay', TRACE, '--lease-break', '1s', '--lease-break', '2s'], '--lease-break'],
  ] as Array<[string[], string]>) {
    assertOneLineError(pinscope(args), new RegExp(`^pinscope: ${option} given more than once \\(`), args.join(' '));
  }
  assert.deepEqual(readdirSync(dir), []);
});

test('option values: undocumented units, fractions of a nanosecond, empty lists and bad counts are refused as typed', () => {
  for (const [args, re] of [
    [['replay', TRACE, '--lease-break', '500m'], /--lease-break: expected a duration .* got '500m'/],
    [['replay', TRACE, '--lease-break', '1.5'], /--lease-break: '1.5' is not a whole number of nanoseconds/],
    [['replay', TRACE, '--strategy', ''], /--strategy: empty list/],
    [['replay', TRACE, '--strategy', ' , '], /--strategy: empty list/],
    [['replay', TRACE, '--fail-on', ''], /--fail-on: empty list/],
    [['batch', '.', '--jobs', 'abc'], /--jobs: expected an integer >= 1, got 'abc'/],
    [['batch', '.', '--jobs', '1.5'], /--jobs: expected an integer >= 1, got '1.5'/],
  ] as Array<[string[], RegExp]>) {
    assertOneLineError(pinscope(args), re, args.join(' '));
  }
  const r = pinscope(['replay', TRACE, '--json', '--lease-break', '1.5s', '--strategy', 'notify']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).params.lease_break_ns, 1_500_000_000);
});

test('help: batch --json says it prints summary.json; validate shows no default for its traces', () => {
  const batch = pinscope(['batch', '--help']).stdout;
  assert.match(batch, /--json\s+print summary\.json on stdout/);
  assert.doesNotMatch(batch, /instead of a table/);
  const validate = pinscope(['validate', '--help']).stdout;
  assert.match(validate, /trace\s+trace files .*\[array\] \[required\]/);
  assert.doesNotMatch(validate, /default: \[\]/);
});

test('report of a summary: --strategy shows only those strategies; --lease-break and --lenient are refused', () => {
  const dir = tempFolder();
  const summary = join(dir, 's.json');
  const rep = pinscope(['replay', TRACE, '--json', '--strategy', 'none,pin']);
  assert.equal(rep.status, 0, rep.stderr);
  writeFileSync(summary, rep.stdout);
  const strategiesRow = (html: string) => /<th scope="row">strategies<\/th><td>([^<]*)<\/td>/.exec(html)?.[1];
  const all = pinscope(['report', summary, '-o', join(dir, 'all.html')]);
  assert.equal(all.status, 0, all.stderr);
  assert.equal(strategiesRow(readFileSync(join(dir, 'all.html'), 'utf8')), 'none, pin');
  const one = pinscope(['report', summary, '-o', join(dir, 'one.html'), '--strategy', 'pin']);
  assert.equal(one.status, 0, one.stderr);
  assert.equal(strategiesRow(readFileSync(join(dir, 'one.html'), 'utf8')), 'pin');
  assertOneLineError(pinscope(['report', summary, '-o', join(dir, 'x.html'), '--strategy', 'odp']), /--strategy: .*s\.json holds no odp \(it holds none, pin\)/, 'absent strategy');
  assertOneLineError(pinscope(['report', summary, '-o', join(dir, 'x.html'), '--lease-break', '1s']), /--lease-break: .* is a summary/, '--lease-break');
  assertOneLineError(pinscope(['report', summary, '-o', join(dir, 'x.html'), '--lenient']), /--lenient: .* is a summary/, '--lenient');
});
