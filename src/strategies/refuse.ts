// refuse: what mainline chose. check_vma_flags() (mm/gup.c) refuses
// FOLL_LONGTERM on fs-dax mappings (-EOPNOTSUPP), and
// writable_file_mapping_allowed() refuses writable long-term pins of
// shared file mappings that need dirty tracking (-EFAULT). Everything
// else pins and behaves as pin (selftests/mm/gup_longterm.c truth table).
import type { DeviceState } from '../model/device.js';
import { BasePolicy } from './base.js';
import type { Admission, PinTarget } from './policy.js';

export class RefusePolicy extends BasePolicy {
  readonly id = 'refuse' as const;
  override readonly needsTarget = true;
  override admit(_dev: DeviceState, write: boolean, target: PinTarget): Admission {
    if (target.dax) return 'refuse';
    if (write && target.sharedDirtyTracked) return 'refuse';
    return 'pin';
  }
}
