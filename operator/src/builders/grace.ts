// How long a kernel may take to stop, derived from the longest an execution may last: in-flight
// executions run on for SHUTDOWN_GRACE_MS after SIGTERM, then sockets close over a few seconds;
// the kubelet waits terminationGracePeriodSeconds before it kills the container.
import { SHUTDOWN_DRAIN_MS, TERMINATION_MARGIN_SECONDS } from '../api/defaults.js';
import type { ResolvedSpec } from '../api/defaults.js';

export function shutdownGraceMs(spec: ResolvedSpec): number {
  return spec.runtime.executionDeadlineMs + SHUTDOWN_DRAIN_MS;
}

export function terminationGracePeriodSeconds(spec: ResolvedSpec): number {
  return Math.ceil(shutdownGraceMs(spec) / 1000) + TERMINATION_MARGIN_SECONDS;
}
