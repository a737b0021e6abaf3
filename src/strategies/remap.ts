// remap: reprogram the device's page table to the dummy page right away
// and free the frames; a device that cannot remap falls back to pin.
import type { Pin } from '../model/pin.js';
import { BasePolicy } from './base.js';
import type { TruncateAction } from './policy.js';

export class RemapPolicy extends BasePolicy {
  readonly id = 'remap' as const;
  override onTruncate(pin: Pin): TruncateAction {
    return pin.dev.remap ? 'dummy' : 'leak';
  }
}
