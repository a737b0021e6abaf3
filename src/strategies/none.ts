// none: the baseline that ignores pins. Frames are freed at once and
// reused, pages migrate under the device: shows where data WOULD be corrupted.
import { BasePolicy } from './base.js';

export class NonePolicy extends BasePolicy {
  readonly id = 'none' as const;
  override readonly ignoresPins = true;
}
