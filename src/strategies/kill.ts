// kill (S2, "be mean"): as notify, but at the deadline the owner is killed.
import type { Pin } from '../model/pin.js';
import { BasePolicy } from './base.js';
import type { TruncateAction } from './policy.js';

export class KillPolicy extends BasePolicy {
  readonly id = 'kill' as const;
  override onTruncate(_pin: Pin): TruncateAction {
    return 'wait';
  }
  override atDeadline(_pin: Pin): 'bounce' | 'kill' {
    return 'kill';
  }
}
