// iommu: the IOMMU backstop. Revoke the device's IOMMU mappings of the
// pinned pages and free the frames; later DMA faults. Without an IOMMU the
// device falls back to pin.
import type { Pin } from '../model/pin.js';
import { BasePolicy } from './base.js';
import type { TruncateAction } from './policy.js';

export class IommuPolicy extends BasePolicy {
  readonly id = 'iommu' as const;
  override onTruncate(pin: Pin): TruncateAction {
    return pin.dev.iommu ? 'revoke' : 'leak';
  }
}
