// pinscope generate: synthetic traces of named workloads. The same
// workload, event count, seed and page size give the same events, and
// through the writer the same bytes.

import type { Writable } from 'node:stream';
import type { MetaEvent, TraceEvent } from '../trace/events.js';
import { FORMAT_NAME, FORMAT_VERSION, DEFAULT_PAGE_SIZE } from '../trace/events.js';
import type { ContainerFormat } from '../trace/source.js';
import { createTraceWriter } from '../trace/write.js';
import { GenContext, type Workload } from './builder.js';
import { rdmaDax } from './rdma-dax.js';
import { gpuOdp } from './gpu-odp.js';
import { pagecache } from './pagecache.js';
import { mixed } from './mixed.js';

export const WORKLOADS = {
  'rdma-dax': rdmaDax,
  'gpu-odp': gpuOdp,
  pagecache,
  mixed,
} as const satisfies Record<string, Workload>;

export type WorkloadName = keyof typeof WORKLOADS;
export const WORKLOAD_NAMES = Object.keys(WORKLOADS) as WorkloadName[];

export const WORKLOAD_DOCS: Record<WorkloadName, string> = {
  'rdma-dax': 'RDMA NICs with long-term pins on DAX files; truncates and hole punches, then another file reuses the blocks',
  'gpu-odp': 'ODP GPUs pinning anonymous and file memory; mmu notifier migrations, munmaps of pinned ranges',
  pagecache: 'page-cache and shmem files; O_DIRECT short-term pins during writeback, COW pins of private mappings, truncates',
  mixed: 'all of the above interleaved (the replay benchmark workload)',
};

/** Page sizes the generator lays out: powers of two, 512 B to 2 MiB (4 GiB address slots hold every mapping). */
export const MIN_PAGE_SIZE = 512;
export const MAX_PAGE_SIZE = 2 * 1024 * 1024;

export interface GenerateOptions {
  workload: WorkloadName;
  /** Exactly this many events (the meta header not counted). */
  events: number;
  seed: number;
  pageSize?: number;
}

export function isWorkload(name: string): name is WorkloadName {
  return Object.hasOwn(WORKLOADS, name);
}

export function generatorMeta(o: GenerateOptions): MetaEvent {
  return {
    type: 'meta',
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    page_size: o.pageSize ?? DEFAULT_PAGE_SIZE,
    source: `pinscope generate ${o.workload} seed ${o.seed}`,
  };
}

/**
 * The first `events` events of the workload. Every workload is an endless
 * valid stream, and any prefix of a valid trace is valid, so cutting it
 * anywhere keeps it valid.
 */
export function* generateEvents(o: GenerateOptions): Generator<TraceEvent, void, undefined> {
  const pageSize = o.pageSize ?? DEFAULT_PAGE_SIZE;
  const ctx = new GenContext(o.seed, pageSize);
  const stream = WORKLOADS[o.workload](ctx);
  for (let i = 0; i < o.events; i++) yield stream.next().value;
}

export interface WriteWorkloadOptions extends GenerateOptions {
  format?: ContainerFormat;
  gzip?: boolean;
}

/** Streams a generated trace to a path ('-' is standard output) or a stream; resolves when it is all written. */
export async function writeWorkload(out: Writable | string, o: WriteWorkloadOptions): Promise<void> {
  const writer = createTraceWriter(out, { format: o.format ?? 'ndjson', gzip: o.gzip ?? false, meta: generatorMeta(o) });
  try {
    // The workload's own stream, not generateEvents(): one generator less per event.
    const stream = WORKLOADS[o.workload](new GenContext(o.seed, o.pageSize ?? DEFAULT_PAGE_SIZE));
    for (let i = 0; i < o.events; i++) {
      const wait = writer.write(stream.next().value);
      if (wait) await wait;
    }
  } finally {
    await writer.close();
  }
}
