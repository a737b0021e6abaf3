// The one source of truth for trace format v1: every event type and its
// fields are declared once here. The TypeScript types below are inferred
// from this table, the JSON Schema (schema/pinscope-trace-v1.schema.json)
// is generated from it (src/trace/schema.ts), and the validator walks it.

/** How a field is written in a trace. */
export type FieldKind =
  | 'ts' // integer nanoseconds >= 0
  | 'uint' // non-negative safe integer (bytes, pids, handles)
  | 'addr' // hex string "0x..." or non-negative integer; normalized to a number
  | 'string'
  | 'bool'
  | 'enum';

export interface FieldSpec {
  readonly kind: FieldKind;
  readonly required: boolean;
  readonly values?: readonly string[];
  readonly min?: number; // for uint: smallest accepted value
  readonly doc: string;
}

const req = <K extends FieldKind>(kind: K, doc: string, min?: number) =>
  ({ kind, required: true as const, doc, ...(min === undefined ? {} : { min }) });
const opt = <K extends FieldKind>(kind: K, doc: string, min?: number) =>
  ({ kind, required: false as const, doc, ...(min === undefined ? {} : { min }) });
const reqEnum = <V extends readonly string[]>(values: V, doc: string) =>
  ({ kind: 'enum' as const, required: true as const, values, doc });

export const DMA_DIRS = ['read', 'write'] as const;
export const WRITEBACK_PHASES = ['start', 'end'] as const;
/** The kernel's enum mmu_notifier_event, lower case, without MMU_NOTIFY_. */
export const MMU_NOTIFIER_EVENTS = [
  'unmap', 'clear', 'protection_vma', 'protection_page', 'soft_dirty', 'release', 'migrate', 'exclusive',
] as const;

const ts = req('ts', 'time of the event in nanoseconds from any origin; non-decreasing in file order');
const comm = opt('string', 'process name, informative only');

/** Every event type of format v1 and its fields (common fields included). */
export const EVENT_SPECS = {
  meta: {
    doc: 'Optional header: the first event of a trace.',
    fields: {
      format: opt('string', 'always "pinscope-trace"'),
      version: opt('uint', 'format version; 1', 1),
      page_size: opt('uint', 'page size in bytes, a power of two (default 4096)', 512),
      source: opt('string', 'what recorded or wrote the trace'),
    },
  },
  device: {
    doc: 'A DMA-capable device and what it can do.',
    fields: {
      ts,
      dev: req('string', 'device name, e.g. mlx5_0'),
      odp: opt('bool', 'can mirror an address space with mmu notifiers and fault on demand'),
      iommu: opt('bool', 'sits behind an IOMMU that can revoke its mappings'),
      remap: opt('bool', 'its page table can be reprogrammed to point at other pages'),
      fault_tolerant: opt('bool', 'survives a faulting DMA and reports an error instead of hanging'),
    },
  },
  file: {
    doc: 'Declares a file whose pages [0, size) are backed by storage.',
    fields: {
      ts,
      file: req('string', 'path of the file'),
      size: req('uint', 'size in bytes'),
      dax: opt('bool', 'lives on a DAX filesystem: its pages are the storage blocks'),
      shmem: opt('bool', 'lives in memory (tmpfs, memfd, hugetlbfs): no backing store'),
    },
  },
  proc: {
    doc: 'Optional facts about a process.',
    fields: {
      ts,
      pid: req('uint', 'process id'),
      comm,
      notify_response_ns: opt('uint', 'releases notified pins this long after a notification'),
    },
  },
  mmap: {
    doc: 'A mapping of a file (or anonymous memory, without file) into an address space.',
    fields: {
      ts,
      pid: req('uint', 'process id'),
      comm,
      addr: req('addr', 'start address'),
      len: req('uint', 'length in bytes', 1),
      file: opt('string', 'mapped file; absent for anonymous memory'),
      off: opt('uint', 'file offset of addr (default 0)'),
      shared: opt('bool', 'MAP_SHARED (default true); false for MAP_PRIVATE'),
    },
  },
  munmap: {
    doc: 'Removes mappings of [addr, addr+len).',
    fields: {
      ts,
      pid: req('uint', 'process id'),
      comm,
      addr: req('addr', 'start address'),
      len: req('uint', 'length in bytes', 1),
    },
  },
  exit: {
    doc: 'The process ends: its mappings go and its pins are released.',
    fields: { ts, pid: req('uint', 'process id'), comm },
  },
  pin: {
    doc: 'get_user_pages / pin_user_pages on [addr, addr+len) of pid.',
    fields: {
      ts,
      pid: req('uint', 'process id'),
      comm,
      pin: req('uint', 'handle (an MR key, say), unique among live pins'),
      dev: opt('string', 'device that will DMA through the pin'),
      addr: req('addr', 'start address'),
      len: req('uint', 'length in bytes', 1),
      longterm: opt('bool', 'FOLL_LONGTERM (default false)'),
      write: opt('bool', 'FOLL_WRITE (default false)'),
    },
  },
  dma: {
    doc: 'The device behind pin reads or writes bytes [off, off+len) of the pinned range.',
    fields: {
      ts,
      pin: req('uint', 'handle of a live pin'),
      off: req('uint', 'offset from the pin\'s addr'),
      len: req('uint', 'length in bytes', 1),
      dir: reqEnum(DMA_DIRS, 'read or write, from the device\'s point of view'),
      dur: opt('uint', 'duration in ns; in flight during [ts, ts+dur) (default 0)'),
    },
  },
  unpin: {
    doc: 'The pin is released (unpin_user_pages, ibv_dereg_mr).',
    fields: { ts, pin: req('uint', 'handle of a live pin') },
  },
  truncate: {
    doc: 'ftruncate to size.',
    fields: {
      ts,
      pid: opt('uint', 'process id'),
      comm,
      file: req('string', 'path of the file'),
      size: req('uint', 'new size in bytes'),
    },
  },
  punch_hole: {
    doc: 'fallocate(PUNCH_HOLE): frees the pages fully inside [off, off+len).',
    fields: {
      ts,
      pid: opt('uint', 'process id'),
      comm,
      file: req('string', 'path of the file'),
      off: req('uint', 'offset in bytes'),
      len: req('uint', 'length in bytes'),
    },
  },
  write: {
    doc: 'write(2) to a file: extends it and allocates storage for pages that have none.',
    fields: {
      ts,
      pid: opt('uint', 'process id'),
      comm,
      file: req('string', 'path of the file'),
      off: req('uint', 'offset in bytes'),
      len: req('uint', 'length in bytes'),
    },
  },
  writeback: {
    doc: 'The kernel writes a page-cache range back to disk between phase start and end.',
    fields: {
      ts,
      file: req('string', 'path of the file'),
      off: req('uint', 'offset in bytes'),
      len: req('uint', 'length in bytes'),
      phase: reqEnum(WRITEBACK_PHASES, 'start or end of the writeback'),
    },
  },
  mmu_notifier: {
    doc: 'An mmu notifier invalidation of [start, end) that the kernel issued for its own reasons.',
    fields: {
      ts,
      pid: req('uint', 'process id'),
      comm,
      start: req('addr', 'start address'),
      end: req('addr', 'end address (exclusive), > start'),
      event: reqEnum(MMU_NOTIFIER_EVENTS, 'the kernel\'s enum mmu_notifier_event'),
    },
  },
} as const satisfies Record<string, { doc: string; fields: Record<string, FieldSpec> }>;

export type EventType = keyof typeof EVENT_SPECS;
export const EVENT_TYPES = Object.keys(EVENT_SPECS) as EventType[];
/** The types of a trace's body: every type but meta. */
export type BodyType = Exclude<EventType, 'meta'>;
export const BODY_TYPES = EVENT_TYPES.filter((t): t is BodyType => t !== 'meta');

/** Where a type stands in a trace's usual bulk (DMA, then pins): switchOnType tests types in this order. */
function typeRank(t: string): number {
  const i = ['dma', 'pin', 'unpin', 'write', 'writeback', 'mmu_notifier'].indexOf(t);
  return i < 0 ? 6 : i;
}

/**
 * One function for events of any type that calls the function of the
 * event's type: a generated switch on the type string (`typeOf`, an
 * expression over `params`), DMA first, each case a call site with one
 * target (inlined by the JIT) passed all of `params`. A lookup keyed by the
 * type string instead was a megamorphic or dictionary probe per event. A
 * type not in `byType` runs `otherwise` (a statement).
 */
export function switchOnType<F>(byType: Record<string, F>, params: string[], typeOf: string, otherwise: string): F {
  const types = Object.keys(byType).sort((a, b) => typeRank(a) - typeRank(b));
  const args = params.join(', ');
  const cases = types.map((t, i) => `case ${JSON.stringify(t)}: return F[${i}](${args});`).join('\n');
  const body = `"use strict"; return function switchOnType(${args}) { switch (${typeOf}) {\n${cases}\n} ${otherwise} };`;
  return new Function('F', body)(types.map((t) => byType[t])) as F;
}

/** A type's fields as [name, spec] pairs, in table order (ts first). */
export function fieldsOf(type: EventType): [string, FieldSpec][] {
  return Object.entries(EVENT_SPECS[type].fields as Record<string, FieldSpec>);
}

// ---- types inferred from the table (normalized form: addresses are numbers) ----

type ValueOf<F> = F extends { kind: 'enum'; values: readonly (infer V)[] }
  ? V
  : F extends { kind: 'string' }
    ? string
    : F extends { kind: 'bool' }
      ? boolean
      : number;

type Fields<T extends EventType> = (typeof EVENT_SPECS)[T]['fields'];
type RequiredKeys<F> = { [K in keyof F]: F[K] extends { required: true } ? K : never }[keyof F];
type OptionalKeys<F> = Exclude<keyof F, RequiredKeys<F>>;

export type EventOf<T extends EventType> = { type: T } & {
  [K in RequiredKeys<Fields<T>>]: ValueOf<Fields<T>[K]>;
} & { [K in OptionalKeys<Fields<T>>]?: ValueOf<Fields<T>[K]> };

export type MetaEvent = EventOf<'meta'>;
export type DeviceEvent = EventOf<'device'>;
export type FileEvent = EventOf<'file'>;
export type ProcEvent = EventOf<'proc'>;
export type MmapEvent = EventOf<'mmap'>;
export type MunmapEvent = EventOf<'munmap'>;
export type ExitEvent = EventOf<'exit'>;
export type PinEvent = EventOf<'pin'>;
export type DmaEvent = EventOf<'dma'>;
export type UnpinEvent = EventOf<'unpin'>;
export type TruncateEvent = EventOf<'truncate'>;
export type PunchHoleEvent = EventOf<'punch_hole'>;
export type WriteEvent = EventOf<'write'>;
export type WritebackEvent = EventOf<'writeback'>;
export type MmuNotifierEvent = EventOf<'mmu_notifier'>;

/** A validated event of the trace body (every type but meta). */
export type TraceEvent = { [T in Exclude<EventType, 'meta'>]: EventOf<T> }[Exclude<EventType, 'meta'>];

/**
 * A validated event with its position. `index` is the 0-based ordinal of
 * the event among the trace's events (a meta header is not counted), the
 * same whatever the container; causal chains in findings use it.
 */
export type IndexedEvent = TraceEvent & { index: number };

export const FORMAT_NAME = 'pinscope-trace';
export const FORMAT_VERSION = 1;
export const DEFAULT_PAGE_SIZE = 4096;
