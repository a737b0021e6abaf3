// pin (S1, status quo): truncate completes; pinned frames stay with the
// pin, disconnected. A page cache page is orphaned; a DAX block leaks.
import { BasePolicy } from './base.js';

export class PinPolicy extends BasePolicy {
  readonly id = 'pin' as const;
}
