// odp: "ODP only". Long-term registrations become mmu_interval_notifier
// mirrors on odp devices (fault on demand, invalidated by truncate) and are
// refused on others.
import type { DeviceState } from '../model/device.js';
import { BasePolicy } from './base.js';
import type { Admission, PinTarget } from './policy.js';

export class OdpPolicy extends BasePolicy {
  readonly id = 'odp' as const;
  override admit(dev: DeviceState, _write: boolean, _target: PinTarget): Admission {
    return dev.odp ? 'odp' : 'refuse';
  }
}
