// The one interface every strategy implements: what happens to long-term
// pinned pages when the filesystem or mm wants them back. Everything else
// (page faults, DMA, frees, timers) is common replay behaviour
// (src/replay/); the defaults are today's kernel (base.ts).
import type { DeviceState } from '../model/device.js';
import type { Pin } from '../model/pin.js';
import type { StrategyId } from '../replay/types.js';

/** What a long-term pin of a page a truncate / punch hole removes gets. */
export type TruncateAction =
  | 'leak' // the pin keeps the frame, disconnected (S1): an orphaned page cache page, a leaked DAX block
  | 'dummy' // redirect the device to the dummy page, free the frame
  | 'revoke' // revoke the IOMMU mapping, free the frame
  | 'wait' // notify the owner and wait for a release or the lease-break deadline
  | 'fail'; // EBUSY: the operation fails

/** How a long-term pin request is answered. */
export type Admission = 'pin' | 'odp' | 'refuse';

/** Facts about the pages a long-term pin resolves through (for `refuse`). */
export interface PinTarget {
  /** Some page is a DAX file page (shared or private mapping). */
  dax: boolean;
  /** Some page is a shared mapping of a page-cache file that needs dirty tracking. */
  sharedDirtyTracked: boolean;
}

export interface StrategyPolicy {
  readonly id: StrategyId;
  /** `none`: pins are ignored; frames are freed at once, pages migrate. */
  readonly ignoresPins: boolean;
  /** admit() looks at the mappings behind the pin (refuse): only then does the replay gather them. */
  readonly needsTarget: boolean;
  /** Long-term pins are answered by the strategy (odp, refuse); short-term pins always pin. `target` is refilled for the next pin: read it, never keep it. */
  admit(dev: DeviceState, write: boolean, target: PinTarget): Admission;
  onTruncate(pin: Pin): TruncateAction;
  /** notify/kill at the lease-break deadline, for a pin still held: bounce copy or kill. */
  atDeadline(pin: Pin): 'bounce' | 'kill';
  /** munmap over long-term pinned pages fails with EBUSY (fail). */
  readonly munmapFails: boolean;
}
