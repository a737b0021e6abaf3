// JSON Schema (draft 2020-12) for one record of a trace, generated from
// EVENT_SPECS so it cannot drift from the validator. Every record is one
// branch of a oneOf discriminated by `type`; unknown fields are allowed
// (forward compatibility). The stateful rules (ts order, live pins, file
// declarations, ranges) are beyond a schema: `pinscope validate` checks them.
import { EVENT_SPECS, FORMAT_NAME, FORMAT_VERSION, type FieldSpec } from './events.js';

const MAX = Number.MAX_SAFE_INTEGER;
export const SCHEMA_ID = 'https://github.com/pinscope/pinscope/schema/pinscope-trace-v1.schema.json';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function fieldSchema(f: FieldSpec): { [k: string]: Json } {
  const doc = { description: f.doc };
  switch (f.kind) {
    case 'ts':
      return { ...doc, type: 'integer', minimum: 0, maximum: MAX };
    case 'uint':
      return { ...doc, type: 'integer', minimum: f.min ?? 0, maximum: MAX };
    case 'addr':
      return { ...doc, $ref: '#/$defs/addr' };
    case 'string':
      return { ...doc, type: 'string' };
    case 'bool':
      return { ...doc, type: 'boolean' };
    case 'enum':
      return { ...doc, enum: [...(f.values ?? [])] };
  }
}

export function buildSchema(): { [k: string]: Json } {
  const defs: { [k: string]: Json } = {
    addr: {
      description: 'an address: a hex string "0x..." or a non-negative integer (at most 2^53 - 1)',
      oneOf: [
        { type: 'string', pattern: '^0x[0-9a-fA-F]+$' },
        { type: 'integer', minimum: 0, maximum: MAX },
      ],
    },
  };
  const branches: Json[] = [];
  for (const [type, spec] of Object.entries(EVENT_SPECS)) {
    const fields = spec.fields as Record<string, FieldSpec>;
    const properties: { [k: string]: Json } = { type: { const: type } };
    const required: string[] = ['type'];
    for (const [name, f] of Object.entries(fields)) {
      properties[name] = fieldSchema(f);
      if (f.required) required.push(name);
    }
    defs[type] = {
      description: spec.doc,
      type: 'object',
      required,
      properties,
      additionalProperties: true,
    };
    branches.push({ $ref: `#/$defs/${type}` });
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: `${FORMAT_NAME} v${FORMAT_VERSION}: one trace record`,
    description:
      'One event of a pinscope trace (a line of JSON Lines, an element of a JSON array, or of the "events" array of ' +
      'the {"meta", "events"} object). Generated from src/trace/events.ts; unknown fields are allowed. Ordering rules ' +
      '(ts non-decreasing, dma/unpin naming a live pin, files declared once) are checked by `pinscope validate`.',
    type: 'object',
    required: ['type'],
    properties: { type: { enum: Object.keys(EVENT_SPECS) } },
    oneOf: branches,
    $defs: defs,
  };
}

/** The committed file's exact text. */
export function schemaText(): string {
  return `${JSON.stringify(buildSchema(), null, 2)}\n`;
}
