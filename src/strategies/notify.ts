// notify (S2): a lease break. Owners are notified; the truncate waits for
// the pins to go or the lease-break deadline (fs/locks.c lease_break_time);
// at the deadline pages are bounce-copied when the device can be
// repointed, else the owner is killed.
import type { Pin } from '../model/pin.js';
import { BasePolicy } from './base.js';
import type { TruncateAction } from './policy.js';

export class NotifyPolicy extends BasePolicy {
  readonly id = 'notify' as const;
  override onTruncate(_pin: Pin): TruncateAction {
    return 'wait';
  }
  override atDeadline(pin: Pin): 'bounce' | 'kill' {
    return pin.dev.remap ? 'bounce' : 'kill';
  }
}
