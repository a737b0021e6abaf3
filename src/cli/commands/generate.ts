// pinscope generate <workload>: a synthetic, valid, deterministic trace.
import type { CommandModule } from 'yargs';
import { parseCount, runCommand, UsageError } from '../common.js';
import { writeAtomically } from '../../output/file.js';
import {
  WORKLOAD_NAMES, WORKLOAD_DOCS, MIN_PAGE_SIZE, MAX_PAGE_SIZE, isWorkload, writeWorkload,
} from '../../generate/index.js';
import type { ContainerFormat } from '../../trace/source.js';

const FORMATS: readonly ContainerFormat[] = ['ndjson', 'array', 'object'];

interface GenerateArgs {
  workload?: string;
  events?: string;
  seed?: string;
  o?: string;
  format?: string;
  gzip?: boolean;
  'page-size'?: string;
}

export const generateCommand: CommandModule<object, GenerateArgs> = {
  command: 'generate <workload>',
  describe: 'write a synthetic trace of a named workload (deterministic for a given seed)',
  builder: (y) =>
    y
      .positional('workload', {
        type: 'string',
        describe: `one of: ${WORKLOAD_NAMES.map((w) => `${w} (${WORKLOAD_DOCS[w]})`).join('; ')}`,
      })
      .option('events', { alias: 'n', type: 'string', default: '10000', describe: 'exactly this many events (the meta header not counted)' })
      .option('seed', { alias: 's', type: 'string', default: '1', describe: 'PRNG seed, 0 to 4294967295; same arguments, same bytes' })
      .option('o', { alias: 'output', type: 'string', describe: 'output file; - for standard output (required)' })
      .option('format', { type: 'string', describe: 'ndjson | array | object (default: array for *.json[.gz], else ndjson)' })
      .option('gzip', { type: 'boolean', describe: 'gzip the output (default: when the file name ends in .gz)' })
      .option('page-size', { type: 'string', default: '4096', describe: `page size in bytes, a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}` })
      .example('$0 generate rdma-dax --events 2000 --seed 1 -o traces/generated/rdma-dax.ndjson', 'a small DAX + RDMA trace')
      .example('$0 generate mixed -n 1000000 -s 7 -o mixed.ndjson.gz', 'a million events, gzipped (inferred from .gz)')
      .example('$0 generate pagecache -n 500 --format object -o -', 'a {meta, events} object on standard output')
      .example('$0 generate gpu-odp -n 100000 --page-size 65536 -o gpu.json', 'a JSON array trace with 64 KiB pages') as never,
  handler: (argv) =>
    runCommand(async () => {
      const workload = String(argv.workload ?? '');
      if (!isWorkload(workload)) {
        throw new UsageError(`generate: unknown workload '${workload}'; expected one of ${WORKLOAD_NAMES.join(', ')}`);
      }
      const events = parseCount(argv.events, '--events');
      const seed = parseCount(argv.seed, '--seed');
      // The PRNG's state is 32 bits: a larger seed would fold onto a smaller one and repeat its trace.
      if (seed > 0xffff_ffff) throw new UsageError(`--seed: expected an integer from 0 to 4294967295 (the generator's 32-bit state), got '${argv.seed}'`);
      const pageSize = parseCount(argv['page-size'], '--page-size', MIN_PAGE_SIZE);
      if (pageSize > MAX_PAGE_SIZE || (pageSize & (pageSize - 1)) !== 0) {
        throw new UsageError(`--page-size: expected a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}, got ${pageSize}`);
      }
      const out = argv.o;
      if (out === undefined || out === '') throw new UsageError('generate: -o FILE is required (-o - for standard output)');
      const gz = /\.gz$/i.test(out);
      const format = (argv.format ?? (/\.json(\.gz)?$/i.test(out) ? 'array' : 'ndjson')) as ContainerFormat;
      if (!FORMATS.includes(format)) {
        throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got '${argv.format}'`);
      }
      try {
        await writeAtomically(out, (target) => writeWorkload(target, { workload, events, seed, pageSize, format, gzip: argv.gzip ?? gz }));
      } catch (err) {
        // `generate ... -o - | head`: the reader left; stop quietly, as a filter should.
        if (out === '-' && (err as NodeJS.ErrnoException).code === 'EPIPE') return;
        throw err;
      }
    }),
};
