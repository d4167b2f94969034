// Values of the spec that the kernel parses with more rules than the schema's types and patterns
// can state: checked with the kernel's own parsers (@nexus/kernel/config-table), so that a value
// the kernels would refuse at start is an invalid spec here instead of a fleet of kernels that
// cannot start.
import { parseAllowList } from '@nexus/kernel/config-table';
import { Reason } from '../api/conditions.js';
import type { ResolvedSpec } from '../api/defaults.js';
import type { PolicyResult } from './result.js';

/** What the kernel would refuse in the spec, or undefined. */
export function kernelRefusal(spec: ResolvedSpec): PolicyResult | undefined {
  try {
    // Joined as the ConfigMap joins them into HTTP_ALLOWED_DOMAINS.
    parseAllowList(spec.server.allowedDomains.join(','));
  } catch (error) {
    return {
      reason: Reason.InvalidSpec,
      message: `server.extensions.http.allowedDomains: ${(error as Error).message}; the kernels would refuse HTTP_ALLOWED_DOMAINS`,
    };
  }
  return undefined;
}
