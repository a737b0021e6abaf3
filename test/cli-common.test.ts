import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseKinds, parseStrategies, UsageError } from '../src/cli/common.js';
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
  assert.doesNotThrow(() => checkInputFile('/no/such/file'), 'a missing file is left to the reader, which names it');
});
