// `npm run bench`: runs every section and prints the markdown. Other areas
// add their module to SECTIONS (each exports a BenchSection).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSection } from './section.js';
import { ingestSection } from './ingest.js';
import { replaySection } from './replay.js';
import { batchSection } from './batch.js';

export type { BenchSection, BenchContext } from './section.js';

const SECTIONS: BenchSection[] = [ingestSection, batchSection, replaySection];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args.filter((a) => !a.startsWith('--'));
  const tmpDir = await mkdtemp(join(tmpdir(), 'pinscope-bench-'));
  try {
    for (const s of SECTIONS) {
      if (only.length > 0 && !only.includes(s.name)) continue;
      const md = await s.run({ tmpDir, quick, log: (l) => process.stdout.write(`${l}\n`) });
      process.stdout.write(`\n${md}\n`);
    }
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}

await main();
