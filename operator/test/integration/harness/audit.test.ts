import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { operatorRequests } from './audit.js';
import type { HarnessState } from './cluster.js';

const user = { username: 'system:serviceaccount:nexus-system:nexus-operator' };
const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000000Z`;

describe('operatorRequests', () => {
  let runDir: string;
  beforeAll(() => {
    runDir = mkdtempSync(join(tmpdir(), 'audit-test-'));
    mkdirSync(join(runDir, 'logs'));
    const events = [
      {
        stage: 'ResponseComplete',
        verb: 'patch',
        user,
        objectRef: { resource: 'deployments' },
        stageTimestamp: at(1),
      },
      {
        stage: 'ResponseComplete',
        verb: 'patch',
        user,
        objectRef: { resource: 'nexusruntimes', subresource: 'status' },
        stageTimestamp: at(2),
      },
      {
        stage: 'ResponseComplete',
        verb: 'update',
        user,
        objectRef: { resource: 'leases' },
        stageTimestamp: at(3),
      },
      {
        stage: 'ResponseComplete',
        verb: 'get',
        user,
        objectRef: { resource: 'secrets' },
        annotations: { 'authorization.k8s.io/decision': 'forbid' },
        stageTimestamp: at(3),
      },
      {
        stage: 'ResponseStarted',
        verb: 'watch',
        user,
        objectRef: { resource: 'configmaps' },
        stageTimestamp: at(4),
      },
      // The same watch ending, another client, and a request outside the window: not counted.
      {
        stage: 'ResponseComplete',
        verb: 'watch',
        user,
        objectRef: { resource: 'configmaps' },
        stageTimestamp: at(5),
      },
      { stage: 'ResponseComplete', verb: 'get', user: { username: 'nexus-admin' }, stageTimestamp: at(5) },
      {
        stage: 'ResponseComplete',
        verb: 'get',
        user,
        objectRef: { resource: 'leases' },
        stageTimestamp: at(30),
      },
    ];
    writeFileSync(join(runDir, 'logs', 'audit.log'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  });
  afterAll(() => rmSync(runDir, { recursive: true, force: true }));

  test('counts the requests of the operator in the window, by kind', () => {
    const state = {
      runDir,
      operatorNamespace: 'nexus-system',
      operatorServiceAccount: 'nexus-operator',
    } as HarnessState;
    const counts = operatorRequests(state, new Date(at(0)), new Date(at(10)));
    expect(counts).toEqual({
      total: 5,
      reads: 2,
      writes: 2,
      leaseWrites: 1,
      forbidden: 1,
      byVerbAndResource: {
        'get secrets': 1,
        'patch deployments': 1,
        'patch nexusruntimes/status': 1,
        'update leases': 1,
        'watch configmaps': 1,
      },
    });
  });
});
