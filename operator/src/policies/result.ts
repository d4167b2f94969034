import type { Reason } from '../api/conditions.js';

/** What a policy concludes, in the shape a condition takes: a CamelCase reason and a sentence. */
export interface PolicyResult {
  reason: Reason;
  message: string;
}
