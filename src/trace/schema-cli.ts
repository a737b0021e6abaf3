// Prints the generated JSON Schema:
//   node dist/src/trace/schema-cli.js > schema/pinscope-trace-v1.schema.json
import { schemaText } from './schema.js';

process.stdout.write(schemaText());
