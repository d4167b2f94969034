import type { V1Lease } from '@kubernetes/client-node';
import { pino } from 'pino';
import { LeaderElector, type LeaseStore } from './leader.js';
import type { LeaseRecord } from './lease.js';

/** An in-memory Lease with optimistic concurrency, shared by the electors under test. */
class MemoryLease implements LeaseStore {
  lease: V1Lease | undefined;
  failing = false;
  private version = 0;

  read(): Promise<V1Lease | undefined> {
    if (this.failing) return Promise.reject(new Error('connection refused'));
    return Promise.resolve(this.lease && structuredClone(this.lease));
  }
  create(record: LeaseRecord): Promise<boolean> {
    if (this.failing) return Promise.reject(new Error('connection refused'));
    if (this.lease) return Promise.resolve(false);
    this.write(record);
    return Promise.resolve(true);
  }
  replace(resourceVersion: string, record: LeaseRecord): Promise<boolean> {
    if (this.failing) return Promise.reject(new Error('connection refused'));
    if (this.lease?.metadata?.resourceVersion !== resourceVersion) return Promise.resolve(false);
    this.write(record);
    return Promise.resolve(true);
  }
  private write(record: LeaseRecord) {
    this.version += 1;
    this.lease = { metadata: { resourceVersion: String(this.version) }, spec: record as V1Lease['spec'] };
  }
}

const log = pino({ level: 'silent' });
const timing = (identity: string) => ({
  identity,
  leaseDurationSeconds: 0.3,
  renewDeadlineSeconds: 0.2,
  retryPeriodSeconds: 0.02,
});
const until = async (condition: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

function elector(store: MemoryLease, identity: string, logger = log) {
  const events: string[] = [];
  const e = new LeaderElector(
    store,
    timing(identity),
    { onStartedLeading: () => events.push('start'), onStoppedLeading: () => events.push('stop') },
    logger,
  );
  return { e, events };
}

describe('LeaderElector', () => {
  it('lets exactly one of two candidates lead, and hands over at once on release', async () => {
    const store = new MemoryLease();
    const a = elector(store, 'a');
    const b = elector(store, 'b');
    a.e.start();
    await until(() => a.e.isLeader);
    b.e.start();
    await new Promise((r) => setTimeout(r, 150));
    expect(b.e.isLeader).toBe(false);
    expect(store.lease?.spec?.holderIdentity).toBe('a');

    await a.e.stop();
    expect(a.events).toEqual(['start', 'stop']);
    await until(() => b.e.isLeader, 500);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    await b.e.stop();
  });

  it('a standby says once that it stands by, naming the leader', async () => {
    const lines: { msg: string; leader?: string }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as { msg: string; leader?: string }) },
    );
    const store = new MemoryLease();
    const a = elector(store, 'a');
    a.e.start();
    await until(() => a.e.isLeader);
    const b = elector(store, 'b', logger);
    b.e.start();
    // Many retry periods (20 ms) pass: still one line.
    await new Promise((r) => setTimeout(r, 150));
    const standing = lines.filter((l) => l.msg.startsWith('standing by'));
    expect(standing).toHaveLength(1);
    expect(standing[0]!.leader).toBe('a');
    await a.e.stop();
    await until(() => b.e.isLeader, 500);
    await b.e.stop();
  });

  it('takes over once a dead leader’s lease expires', async () => {
    const store = new MemoryLease();
    const a = elector(store, 'a');
    a.e.start();
    await until(() => a.e.isLeader);
    // "Kill" a without releasing: its loop stops renewing.
    (a.e as unknown as { stopped: boolean }).stopped = true;
    const b = elector(store, 'b');
    const started = Date.now();
    b.e.start();
    await until(() => b.e.isLeader);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await b.e.stop();
  });

  it('steps down when it cannot renew within the deadline, and leads again once it can', async () => {
    const store = new MemoryLease();
    const a = elector(store, 'a');
    a.e.start();
    await until(() => a.e.isLeader);
    store.failing = true;
    await until(() => !a.e.isLeader);
    expect(a.events).toEqual(['start', 'stop']);
    store.failing = false;
    await until(() => a.e.isLeader);
    expect(a.events).toEqual(['start', 'stop', 'start']);
    await a.e.stop();
    expect(store.lease?.spec?.holderIdentity).toBe('');
  });
});
