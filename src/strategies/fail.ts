// fail (S3): truncate / punch hole / munmap over long-term pinned pages
// fails with EBUSY and changes nothing.
import type { Pin } from '../model/pin.js';
import { BasePolicy } from './base.js';
import type { TruncateAction } from './policy.js';

export class FailPolicy extends BasePolicy {
  readonly id = 'fail' as const;
  override readonly munmapFails = true;
  override onTruncate(_pin: Pin): TruncateAction {
    return 'fail';
  }
}
