// What `pinscope stats` reports about a trace: one streaming pass with
// state proportional to live pins, devices, files and processes.
import type { OpenedTrace } from './source.js';

export interface TraceStats {
  path: string;
  format: string;
  gzip: boolean;
  page_size: number;
  source: string | null;
  events: number;
  events_read: number;
  events_skipped: number;
  skipped_by_reason: Record<string, number>;
  by_type: Record<string, number>;
  time: { first_ts: number | null; last_ts: number | null; duration_ns: number };
  pins: { count: number; longterm: number; write: number; max_live: number; bytes: number; live_at_end: number };
  dma: { count: number; read_bytes: number; write_bytes: number };
  devices: { count: number; names: string[]; odp: number; iommu: number; remap: number };
  files: { count: number; dax: number; shmem: number; page_cache: number };
  processes: { count: number; exited: number };
}

export async function traceStats(trace: OpenedTrace): Promise<TraceStats> {
  const byType: Record<string, number> = {};
  const live = new Map<number, number>(); // pin -> pid
  const pidPins = new Map<number, Set<number>>();
  const pins = { count: 0, longterm: 0, write: 0, max_live: 0, bytes: 0, live_at_end: 0 };
  const dma = { count: 0, read_bytes: 0, write_bytes: 0 };
  const devices = new Map<string, { odp: boolean; iommu: boolean; remap: boolean }>();
  const files = new Map<string, 'dax' | 'shmem' | 'page_cache'>();
  const pids = new Set<number>();
  let exited = 0;
  let events = 0;

  for await (const batch of trace.batches()) {
    for (const ev of batch) {
      events++;
      byType[ev.type] = (byType[ev.type] ?? 0) + 1;
      if ('pid' in ev && typeof ev.pid === 'number') pids.add(ev.pid);
      switch (ev.type) {
        case 'device':
          devices.set(ev.dev, { odp: ev.odp === true, iommu: ev.iommu === true, remap: ev.remap === true });
          break;
        case 'file':
          files.set(ev.file, ev.dax ? 'dax' : ev.shmem ? 'shmem' : 'page_cache');
          break;
        case 'mmap':
          if (ev.file !== undefined && !files.has(ev.file)) files.set(ev.file, 'page_cache');
          break;
        case 'truncate': case 'punch_hole': case 'write': case 'writeback':
          // A file used without a declaration is a page-cache file (trace-format.md).
          if (!files.has(ev.file)) files.set(ev.file, 'page_cache');
          break;
        case 'pin': {
          pins.count++;
          if (ev.longterm) pins.longterm++;
          if (ev.write) pins.write++;
          pins.bytes += ev.len;
          if (ev.dev !== undefined && !devices.has(ev.dev)) devices.set(ev.dev, { odp: false, iommu: false, remap: false });
          live.set(ev.pin, ev.pid);
          let s = pidPins.get(ev.pid);
          if (!s) pidPins.set(ev.pid, (s = new Set()));
          s.add(ev.pin);
          if (live.size > pins.max_live) pins.max_live = live.size;
          break;
        }
        case 'unpin': {
          const pid = live.get(ev.pin);
          live.delete(ev.pin);
          if (pid !== undefined) pidPins.get(pid)?.delete(ev.pin);
          break;
        }
        case 'exit': {
          exited++;
          for (const h of pidPins.get(ev.pid) ?? []) live.delete(h);
          pidPins.delete(ev.pid);
          break;
        }
        case 'dma':
          dma.count++;
          if (ev.dir === 'read') dma.read_bytes += ev.len;
          else dma.write_bytes += ev.len;
          break;
        default:
          break;
      }
    }
  }
  pins.live_at_end = live.size;
  const s = trace.stats;
  const sortedTypes: Record<string, number> = {};
  for (const k of Object.keys(byType).sort()) sortedTypes[k] = byType[k]!;
  const fileKinds = [...files.values()];
  const devs = [...devices.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    path: trace.path,
    format: trace.format,
    gzip: trace.gzip,
    page_size: trace.header.page_size,
    source: trace.header.source ?? null,
    events,
    events_read: s.events_read,
    events_skipped: s.events_skipped,
    skipped_by_reason: { ...s.skipped_by_reason },
    by_type: sortedTypes,
    time: {
      first_ts: s.first_ts,
      last_ts: s.last_ts,
      duration_ns: s.first_ts !== null && s.last_ts !== null ? s.last_ts - s.first_ts : 0,
    },
    pins,
    dma,
    devices: {
      count: devs.length,
      names: devs.map(([n]) => n),
      odp: devs.filter(([, d]) => d.odp).length,
      iommu: devs.filter(([, d]) => d.iommu).length,
      remap: devs.filter(([, d]) => d.remap).length,
    },
    files: {
      count: fileKinds.length,
      dax: fileKinds.filter((k) => k === 'dax').length,
      shmem: fileKinds.filter((k) => k === 'shmem').length,
      page_cache: fileKinds.filter((k) => k === 'page_cache').length,
    },
    processes: { count: pids.size, exited },
  };
}

function ns(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(3)} s`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(3)} ms`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(3)} us`;
  return `${v} ns`;
}

/** The readable form, one fact per line. */
export function formatTraceStats(st: TraceStats): string {
  const lines: string[] = [];
  lines.push(`${st.path}: ${st.format}${st.gzip ? ', gzip' : ''}, page size ${st.page_size}${st.source ? `, source: ${st.source}` : ''}`);
  lines.push(`  events      ${st.events}${st.events_skipped ? ` (${st.events_read} read, ${st.events_skipped} skipped: ${Object.entries(st.skipped_by_reason).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`);
  const types = Object.entries(st.by_type).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`  by type     ${types || '-'}`);
  lines.push(st.time.first_ts === null
    ? '  time        -'
    : `  time        ${st.time.first_ts} .. ${st.time.last_ts} ns (${ns(st.time.duration_ns)})`);
  lines.push(`  pins        ${st.pins.count} (${st.pins.longterm} long-term, ${st.pins.write} writable), max live ${st.pins.max_live}, ${st.pins.bytes} bytes, live at end ${st.pins.live_at_end}`);
  lines.push(`  dma         ${st.dma.count} (${st.dma.read_bytes} bytes read, ${st.dma.write_bytes} bytes written by devices)`);
  lines.push(`  devices     ${st.devices.count}${st.devices.count ? `: ${st.devices.names.join(', ')} (${st.devices.odp} odp, ${st.devices.iommu} iommu, ${st.devices.remap} remap)` : ''}`);
  lines.push(`  files       ${st.files.count} (${st.files.dax} dax, ${st.files.shmem} shmem, ${st.files.page_cache} page cache)`);
  lines.push(`  processes   ${st.processes.count} (${st.processes.exited} exited)`);
  return lines.join('\n');
}
