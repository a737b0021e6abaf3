import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TOOL_VERSION } from '../src/version.js';

test('src/version.ts agrees with package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(TOOL_VERSION, pkg.version);
  assert.equal(pkg.name, 'pinscope');
  assert.deepEqual(Object.keys(pkg.bin), ['pinscope']);
});
