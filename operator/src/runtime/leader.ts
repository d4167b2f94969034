// Leader election loop: acquire, renew every retry period, step down when renewals keep failing
// for the renew deadline, release the lease on shutdown so a standby takes over at once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { describeError } from '../errors.js';
import {
  mayTakeLease,
  nextRecord,
  observe,
  releasedRecord,
  type LeaseRecord,
  type Observation,
} from './lease.js';

/** The three calls leader election needs; the production implementation wraps CoordinationV1Api. */
export interface LeaseStore {
  /** The lease, or undefined when it does not exist. */
  read(): Promise<V1Lease | undefined>;
  /** Create the lease; false when someone else created it first. */
  create(record: LeaseRecord): Promise<boolean>;
  /** Replace the lease at the given resourceVersion; false on a conflict. */
  replace(resourceVersion: string, record: LeaseRecord): Promise<boolean>;
}

export interface LeaderTiming {
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

export interface LeadershipCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private observation: Observation | undefined;
  private lastRenewMs = 0;
  /** The holder this standby last said it waits for: logged once per holder, not every retry. */
  private standingBehind: string | undefined;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly store: LeaseStore,
    private readonly timing: LeaderTiming,
    private readonly callbacks: LeadershipCallbacks,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stop campaigning; a leader releases the lease so a standby need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.store.read();
      if (lease?.spec?.holderIdentity === this.timing.identity && lease.metadata?.resourceVersion) {
        await this.store.replace(
          lease.metadata.resourceVersion,
          releasedRecord(lease.spec, new Date(this.now())),
        );
        this.log.info('released the leader lease');
      }
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'could not release the leader lease; it will expire');
    }
  }

  private async run(): Promise<void> {
    const { retryPeriodSeconds, renewDeadlineSeconds } = this.timing;
    while (!this.stopped) {
      const renewed = await this.tryAcquireOrRenew();
      const now = this.now();
      if (renewed) {
        this.lastRenewMs = now;
        if (!this.leading) this.setLeading(true);
      } else if (this.leading && now - this.lastRenewMs > renewDeadlineSeconds * 1000) {
        this.log.error({ renewDeadlineSeconds }, 'could not renew the leader lease in time; stepping down');
        this.setLeading(false);
      }
      try {
        await sleep(retryPeriodSeconds * 1000, undefined, { signal: this.abort.signal });
      } catch {
        return; // aborted by stop()
      }
    }
  }

  /**
   * `kubectl logs deploy/...` may pick this replica: say that it is a standby and who leads, once
   * per holder, so its quiet log is not mistaken for a stuck operator.
   */
  private noteStandby(holder: string | undefined): void {
    const leader = holder || '(none)';
    if (this.leading || this.standingBehind === leader) return;
    this.standingBehind = leader;
    this.log.info(
      { identity: this.timing.identity, leader },
      'standing by: another replica holds the leader lease; this one reconciles nothing until it takes over',
    );
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.standingBehind = undefined;
    if (leading) {
      this.log.info({ identity: this.timing.identity }, 'became the leader');
      this.callbacks.onStartedLeading();
    } else {
      this.log.info({ identity: this.timing.identity }, 'no longer the leader');
      this.callbacks.onStoppedLeading();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { identity, leaseDurationSeconds } = this.timing;
    try {
      const lease = await this.store.read();
      const now = this.now();
      if (!lease) {
        const created = await this.store.create(
          nextRecord(undefined, identity, new Date(now), leaseDurationSeconds),
        );
        if (created) this.observation = undefined;
        return created;
      }
      const record: LeaseRecord = lease.spec ?? {};
      this.observation = observe(this.observation, record, now);
      if (!mayTakeLease(record, this.observation, now, identity, leaseDurationSeconds)) {
        this.noteStandby(record.holderIdentity);
        return false;
      }
      const next = nextRecord(record, identity, new Date(now), leaseDurationSeconds);
      const ok = await this.store.replace(lease.metadata?.resourceVersion ?? '', next);
      if (ok && record.holderIdentity !== identity) {
        this.log.info({ previousHolder: record.holderIdentity || null }, 'acquired the leader lease');
      }
      return ok;
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'leader lease request failed');
      return false;
    }
  }
}
