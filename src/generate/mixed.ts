// mixed: the three workloads at once on one machine, interleaved event by
// event. They share the clock (so ts stays non-decreasing), the pid and
// pin-handle allocators (so nothing collides) and the address space
// slots; their devices and file names are distinct by construction.

import type { TraceEvent } from '../trace/events.js';
import type { GenContext } from './builder.js';
import { rdmaDax } from './rdma-dax.js';
import { gpuOdp } from './gpu-odp.js';
import { pagecache } from './pagecache.js';

export function* mixed(ctx: GenContext): Generator<TraceEvent, never, undefined> {
  const parts = [rdmaDax(ctx), gpuOdp(ctx), pagecache(ctx)];
  for (;;) {
    const r = ctx.rng.next();
    yield parts[r < 0.4 ? 0 : r < 0.7 ? 1 : 2]!.next().value;
  }
}
