// docs/trace-format.md's field tables are rendered from EVENT_SPECS here,
// and the test fails when the page and the table disagree. To refresh the
// page after changing src/trace/events.ts:
//   npx tsc -p . && PINSCOPE_UPDATE_DOCS=1 node --test dist/test/generate-doc.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { EVENT_SPECS, type FieldSpec } from '../src/trace/events.js';

const DOC = new URL('../../docs/trace-format.md', import.meta.url);
const BEGIN = /<!-- fields:begin[^\n]*-->\n/;
const END = '<!-- fields:end -->';

/** What a consumer assumes when an optional field is absent (docs/trace-format.md "Decisions"). */
const DEFAULTS: Record<string, string> = {
  'meta.format': '`"pinscope-trace"`',
  'meta.version': '`1`',
  'meta.page_size': '`4096`',
  'device.odp': '`false`',
  'device.iommu': '`false`',
  'device.remap': '`false`',
  'device.fault_tolerant': '`false`',
  'file.dax': '`false`',
  'file.shmem': '`false`',
  'proc.notify_response_ns': 'absent: never answers a notification',
  'mmap.file': 'absent: anonymous memory',
  'mmap.off': '`0`',
  'mmap.shared': '`true`',
  'pin.dev': 'absent: no capabilities',
  'pin.longterm': '`false`',
  'pin.write': '`false`',
  'dma.dur': '`0`',
};

function typeText(f: FieldSpec): string {
  switch (f.kind) {
    case 'ts': return 'integer ns ≥ 0';
    case 'uint': return `integer ≥ ${f.min ?? 0}`;
    case 'addr': return 'address: `"0x…"` or integer';
    case 'string': return 'string';
    case 'bool': return 'boolean';
    case 'enum': return (f.values ?? []).map((v) => `\`"${v}"\``).join(', ');
  }
}

function renderFieldTables(): string {
  const out: string[] = [];
  for (const [type, spec] of Object.entries(EVENT_SPECS) as Array<[string, { doc: string; fields: Record<string, FieldSpec> }]>) {
    out.push(`#### \`${type}\``, '', spec.doc, '', '| field | type | default | meaning |', '| --- | --- | --- | --- |');
    for (const [name, f] of Object.entries(spec.fields)) {
      const def = f.required ? '**required**' : (DEFAULTS[`${type}.${name}`] ?? '—');
      out.push(`| \`${name}\` | ${typeText(f)} | ${def} | ${f.doc.replace(/\|/g, '\\|')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function split(doc: string): { before: string; block: string; after: string } {
  const b = BEGIN.exec(doc);
  const e = doc.indexOf(END);
  assert.ok(b && e > b.index, 'docs/trace-format.md lacks the fields:begin / fields:end markers');
  const start = b.index + b[0].length;
  return { before: doc.slice(0, start), block: doc.slice(start, e), after: doc.slice(e) };
}

test('docs/trace-format.md field tables are the ones EVENT_SPECS renders', () => {
  const doc = readFileSync(DOC, 'utf8');
  const { before, block, after } = split(doc);
  const want = renderFieldTables();
  if (process.env.PINSCOPE_UPDATE_DOCS === '1' && block !== want) writeFileSync(DOC, before + want + after);
  else assert.equal(block, want, 'run PINSCOPE_UPDATE_DOCS=1 node --test dist/test/generate-doc.test.js');
});

test('every event type and every field of EVENT_SPECS is in the doc, with its type', () => {
  const { block } = split(readFileSync(DOC, 'utf8'));
  const sections = block.split(/^#### /m).slice(1);
  assert.deepEqual(sections.map((s) => /^`([a-z_]+)`/.exec(s)?.[1]), Object.keys(EVENT_SPECS));
  for (const s of sections) {
    const type = /^`([a-z_]+)`/.exec(s)![1]! as keyof typeof EVENT_SPECS;
    const fields = EVENT_SPECS[type].fields as Record<string, FieldSpec>;
    for (const [name, f] of Object.entries(fields)) {
      const row = s.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      assert.ok(row, `${type}.${name} has no row`);
      assert.ok(row.includes(f.required ? '**required**' : ''), `${type}.${name}: required flag`);
      if (f.kind === 'enum') for (const v of f.values ?? []) assert.ok(row.includes(`"${v}"`), `${type}.${name}: value ${v}`);
    }
  }
});

test('the defaults the doc states are the ones the event table documents', () => {
  // Where a field's own doc string names a default, the doc's default column agrees.
  for (const [type, spec] of Object.entries(EVENT_SPECS) as Array<[string, { fields: Record<string, FieldSpec> }]>) {
    for (const [name, f] of Object.entries(spec.fields)) {
      const m = /\(default ([^)]+)\)/.exec(f.doc);
      if (m) assert.equal(DEFAULTS[`${type}.${name}`], `\`${m[1]}\``, `${type}.${name}`);
    }
  }
});
