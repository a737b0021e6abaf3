// Strategy id -> policy.
import type { StrategyId } from '../replay/types.js';
import type { StrategyPolicy } from './policy.js';
import { NonePolicy } from './none.js';
import { PinPolicy } from './pin.js';
import { NotifyPolicy } from './notify.js';
import { KillPolicy } from './kill.js';
import { FailPolicy } from './fail.js';
import { RemapPolicy } from './remap.js';
import { IommuPolicy } from './iommu.js';
import { OdpPolicy } from './odp.js';
import { RefusePolicy } from './refuse.js';

const MAKERS: Record<StrategyId, () => StrategyPolicy> = {
  none: () => new NonePolicy(),
  pin: () => new PinPolicy(),
  notify: () => new NotifyPolicy(),
  kill: () => new KillPolicy(),
  fail: () => new FailPolicy(),
  remap: () => new RemapPolicy(),
  iommu: () => new IommuPolicy(),
  odp: () => new OdpPolicy(),
  refuse: () => new RefusePolicy(),
};

export function policyFor(id: StrategyId): StrategyPolicy {
  return MAKERS[id]();
}
