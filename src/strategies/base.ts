// Shared defaults: today's kernel (S1). Long-term pins are granted
// (pin_user_pages with FOLL_LONGTERM), a truncate leaves pinned pages with
// the pin (truncate_pagecache / dax: the block stays pinned).
import type { DeviceState } from '../model/device.js';
import type { Pin } from '../model/pin.js';
import type { StrategyId } from '../replay/types.js';
import type { Admission, PinTarget, StrategyPolicy, TruncateAction } from './policy.js';

export abstract class BasePolicy implements StrategyPolicy {
  abstract readonly id: StrategyId;
  readonly ignoresPins: boolean = false;
  readonly munmapFails: boolean = false;
  readonly needsTarget: boolean = false;
  admit(_dev: DeviceState, _write: boolean, _target: PinTarget): Admission {
    return 'pin';
  }
  onTruncate(_pin: Pin): TruncateAction {
    return 'leak';
  }
  atDeadline(pin: Pin): 'bounce' | 'kill' {
    return pin.dev.remap ? 'bounce' : 'kill';
  }
}
