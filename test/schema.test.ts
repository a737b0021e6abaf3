// The shipped JSON Schema is the generator's output, and (checked by a
// small evaluator for the subset we emit) it accepts every raw event of
// every shipped trace and rejects each per-event bad-input class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaText, buildSchema } from '../src/trace/schema.js';
import { shapeError } from '../src/trace/validate.js';
import { openBytes } from '../src/trace/readers/bytes.js';
import { detectContainer } from '../src/trace/readers/detect.js';
import { readJsonLines } from '../src/trace/readers/jsonl.js';
import { scannerReader } from '../src/trace/readers/frame-scanner.js';
import { discoverTraces } from '../src/batch/discover.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Schema = { [k: string]: unknown };

/** The subset of draft 2020-12 that schema.ts emits: type, enum, const, pattern, minimum, maximum, required, properties, oneOf, $ref. */
function errors(schema: Schema, v: unknown, root: Schema, path = '$'): string[] {
  const out: string[] = [];
  if (typeof schema.$ref === 'string') {
    const m = /^#\/\$defs\/(.+)$/.exec(schema.$ref);
    assert.ok(m, `unsupported $ref ${schema.$ref}`);
    const target = (root.$defs as Record<string, Schema>)[m[1]!];
    assert.ok(target, `dangling $ref ${schema.$ref}`);
    out.push(...errors(target, v, root, path));
  }
  if (schema.type !== undefined) {
    const t = schema.type as string;
    const ok = t === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v)
      : t === 'integer' ? typeof v === 'number' && Number.isInteger(v)
      : t === 'string' ? typeof v === 'string'
      : t === 'boolean' ? typeof v === 'boolean'
      : assert.fail(`unsupported type ${t}`);
    if (!ok) return [...out, `${path}: not ${t}`];
  }
  if ('const' in schema && v !== schema.const) out.push(`${path}: not ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(v)) out.push(`${path}: not in enum`);
  if (typeof schema.pattern === 'string' && typeof v === 'string' && !new RegExp(schema.pattern, 'u').test(v)) out.push(`${path}: pattern`);
  if (typeof schema.minimum === 'number' && typeof v === 'number' && v < schema.minimum) out.push(`${path}: < minimum`);
  if (typeof schema.maximum === 'number' && typeof v === 'number' && v > schema.maximum) out.push(`${path}: > maximum`);
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const r of (schema.required as string[] | undefined) ?? []) if (!(r in o)) out.push(`${path}.${r}: required`);
    for (const [k, s] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) {
      if (k in o) out.push(...errors(s, o[k], root, `${path}.${k}`));
    }
  }
  if (Array.isArray(schema.oneOf)) {
    const passing = (schema.oneOf as Schema[]).filter((s) => errors(s, v, root, path).length === 0).length;
    if (passing !== 1) out.push(`${path}: ${passing} oneOf branches match`);
  }
  const known = new Set(['$schema', '$id', '$ref', '$defs', 'title', 'description', 'type', 'const', 'enum', 'pattern',
    'minimum', 'maximum', 'required', 'properties', 'additionalProperties', 'oneOf']);
  for (const k of Object.keys(schema)) assert.ok(known.has(k), `the evaluator does not know keyword ${k}`);
  return out;
}

test('schema/pinscope-trace-v1.schema.json is exactly what the generator writes', async () => {
  const committed = await readFile(join(ROOT, 'schema/pinscope-trace-v1.schema.json'), 'utf8');
  assert.equal(committed, schemaText(), 'regenerate: node dist/src/trace/schema-cli.js > schema/pinscope-trace-v1.schema.json');
});

test('the schema accepts every raw event of every shipped trace under traces/', async () => {
  const schema = buildSchema();
  const { traces } = await discoverTraces(join(ROOT, 'traces'));
  assert.ok(traces.length > 0, 'traces/ holds traces');
  let n = 0;
  for (const path of traces) {
    // Raw records straight from the readers: no validation, no normalization.
    const det = await detectContainer((await openBytes(path)).chunks, path);
    const reader = det.format === 'ndjson' ? readJsonLines : scannerReader(det.format, path);
    for await (const batch of reader(det.chunks)) {
      for (const rec of batch) {
        if (rec.header) continue; // the object's meta value: a header, "type" optional
        assert.equal(rec.bad, undefined, `${path}:${rec.line}`);
        assert.deepEqual(errors(schema, rec.value, schema), [], `${path}:line ${rec.line}: ${JSON.stringify(rec.value)}`);
        n++;
      }
    }
  }
  assert.ok(n > 0);
});

test('the schema rejects each per-event bad-input class, as the validator does', () => {
  const schema = buildSchema();
  const good = { type: 'pin', ts: 1, pid: 42, pin: 7, addr: '0x10000', len: 8192, unknown_field: { fine: true } };
  assert.deepEqual(errors(schema, good, schema), []);
  assert.equal(shapeError(structuredClone(good)), null);
  const bad: [string, unknown][] = [
    ['missing field', { type: 'pin', ts: 1, pid: 42, pin: 7, addr: '0x10000' }],
    ['ill-typed field', { ...good, len: 'abc' }],
    ['ill-typed address', { ...good, addr: '7f00' }],
    ['negative integer', { ...good, ts: -1 }],
    ['below minimum', { ...good, len: 0 }],
    ['bad enum', { type: 'dma', ts: 1, pin: 7, off: 0, len: 1, dir: 'sideways' }],
    ['unknown type', { type: 'teleport', ts: 1 }],
    ['missing type', { ts: 1 }],
    ['not an object', [1, 2]],
  ];
  for (const [what, v] of bad) {
    assert.notDeepEqual(errors(schema, v, schema), [], `schema accepts ${what}`);
    assert.notEqual(shapeError(structuredClone(v)), null, `validator accepts ${what}`);
  }
});
