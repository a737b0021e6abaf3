import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oneLine, parseCount, parseDuration, parseKinds, parseStrategies, printable, UsageError } from '../src/cli/common.js';
import { STRATEGY_IDS } from '../src/replay/types.js';

test('parseDuration takes ns and units', () => {
  assert.equal(parseDuration('45s'), 45_000_000_000);
  assert.equal(parseDuration('500ms'), 500_000_000);
  assert.equal(parseDuration('2000000'), 2_000_000);
  assert.equal(parseDuration('1.5us'), 1500);
  assert.equal(parseDuration('2min'), 120_000_000_000);
  assert.throws(() => parseDuration('soon'), UsageError);
  assert.throws(() => parseDuration('-1s'), /--lease-break/);
});

test('parseDuration: only documented units, and whole nanoseconds computed exactly', () => {
  assert.throws(() => parseDuration('500m'), /got '500m'/, 'm is not a unit (min is)');
  assert.throws(() => parseDuration('1.5'), /'1.5' is not a whole number of nanoseconds/);
  assert.throws(() => parseDuration('1.0001us'), /not a whole number/);
  assert.equal(parseDuration('1.1us'), 1100, 'no binary rounding (1.1 * 1000 is 1100.0000000000002)');
  assert.equal(parseDuration('1.5s'), 1_500_000_000);
  assert.equal(parseDuration('0.5min'), 30_000_000_000);
  assert.equal(parseDuration('2.0'), 2);
  assert.equal(parseDuration('3µs'), 3000);
});

test('empty lists are refused: they would silently mean all strategies, or no --fail-on', () => {
  assert.throws(() => parseStrategies(''), /--strategy: empty list/);
  assert.throws(() => parseStrategies(' , '), /--strategy: empty list/);
  assert.throws(() => parseKinds(''), /--fail-on: empty list/);
  assert.throws(() => parseKinds(','), /--fail-on: empty list/);
});

test('parseCount echoes the text given', () => {
  assert.equal(parseCount('1_000', '--jobs', 1), 1000);
  assert.throws(() => parseCount('abc', '--jobs', 1), /--jobs: expected an integer >= 1, got 'abc'/);
  assert.throws(() => parseCount('0', '--jobs', 1), /got '0'/);
});

test('printable quotes a name with control characters (C0, DEL, C1); oneLine escapes them in a message', () => {
  assert.equal(printable('plain name.ndjson'), 'plain name.ndjson');
  assert.equal(printable('a\u001b[31m'), '"a\\u001b[31m"');
  assert.equal(printable('a\nb"c'), '"a\\nb\\"c"');
  assert.equal(printable('del\u007f c1\u009b'), '"del\\u007f c1\\u009b"');
  assert.equal(oneLine('file\nname: bad \u0085'), 'file\\nname: bad \\u0085');
  assert.equal(oneLine('café ✓'), 'café ✓', 'printable text is left alone');
});

test('parseStrategies: all, lists in canonical order, unknown names', () => {
  assert.deepEqual(parseStrategies('all'), [...STRATEGY_IDS]);
  assert.deepEqual(parseStrategies(undefined), [...STRATEGY_IDS]);
  assert.deepEqual(parseStrategies('odp,none,pin,odp'), ['none', 'pin', 'odp']);
  assert.throws(() => parseStrategies('pin,bogus'), /unknown strategy 'bogus'/);
});

test('parseKinds validates --fail-on', () => {
  assert.deepEqual(parseKinds('stall,corruption'), ['corruption', 'stall']);
  assert.deepEqual(parseKinds(undefined), []);
  assert.throws(() => parseKinds('corruption,oops'), /unknown finding kind 'oops'/);
});

test('checkInputFile names a folder given where a trace file belongs', async () => {
  const { checkInputFile } = await import('../src/cli/common.js');
  const { tmpdir } = await import('node:os');
  assert.throws(() => checkInputFile(tmpdir()), (e: Error) => e instanceof UsageError && e.message.startsWith(`${tmpdir()}: a folder`));
  assert.doesNotThrow(() => checkInputFile('-'));
  assert.throws(() => checkInputFile(''), /empty trace file name/);
  assert.doesNotThrow(() => checkInputFile('/no/such/file'), 'a missing file is left to the reader, which names it');
});
