// Counts the API requests the operator made, from the API server's audit log (hack/cluster-up.sh
// audits exactly the requests made with ServiceAccount tokens, i.e. the operator's).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { HarnessState } from './cluster.js';

interface AuditEvent {
  stage: string;
  verb: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
  annotations?: Record<string, string>;
  stageTimestamp: string;
}

export interface RequestCounts {
  total: number;
  /** get, list, watch */
  reads: number;
  /** create, update, patch, delete outside the leader-election Lease */
  writes: number;
  /** writes to the leader-election Lease (renewals) */
  leaseWrites: number;
  /** requests the authorizer (RBAC) refused; a 403 for other causes, such as a terminating namespace, is not one */
  forbidden: number;
  byVerbAndResource: Record<string, number>;
}

const READ_VERBS = new Set(['get', 'list', 'watch']);

export function operatorRequests(state: HarnessState, from: Date, to: Date = new Date()): RequestCounts {
  const username = `system:serviceaccount:${state.operatorNamespace}:${state.operatorServiceAccount}`;
  const counts: RequestCounts = {
    total: 0,
    reads: 0,
    writes: 0,
    leaseWrites: 0,
    forbidden: 0,
    byVerbAndResource: {},
  };
  const text = readFileSync(join(state.runDir, 'logs', 'audit.log'), 'utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    const event = JSON.parse(line) as AuditEvent;
    // One event per request: ResponseStarted for a watch (it completes when it ends), else ResponseComplete.
    if (event.stage !== (event.verb === 'watch' ? 'ResponseStarted' : 'ResponseComplete')) continue;
    if (event.user?.username !== username) continue;
    const at = new Date(event.stageTimestamp);
    if (at < from || at > to) continue;
    const resource = [event.objectRef?.resource, event.objectRef?.subresource].filter(Boolean).join('/');
    counts.total += 1;
    const key = `${event.verb} ${resource || '-'}`;
    counts.byVerbAndResource[key] = (counts.byVerbAndResource[key] ?? 0) + 1;
    if (event.annotations?.['authorization.k8s.io/decision'] === 'forbid') counts.forbidden += 1;
    if (READ_VERBS.has(event.verb)) counts.reads += 1;
    else if (resource === 'leases') counts.leaseWrites += 1;
    else counts.writes += 1;
  }
  return counts;
}
