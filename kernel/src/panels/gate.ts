// Who may run a segment, and when: the one place that shares this kernel's sandbox instances
// between panels and keeps each panel to one segment at a time (docs/kernel.md, "Fairness
// between panels").
//
// - An execution holds a sandbox instance from its first segment to its end (a handler parked on
//   `$ext` keeps its instance in the sandbox), so instances are what panels compete for.
// - Each panel has a lane: new executions queue in it first come, first served (at most
//   `maxWaiters`; beyond that PANEL_BUSY), and its gate admits one segment at a time. A waiting
//   execution holds no instance: it takes one only when it is next in its lane's gate, so a panel
//   with a thousand queued executions holds one instance, not a thousand.
// - A panel's executions hold at most `panelMaxInstances` instances (running and parked); its
//   next execution waits for one of them to end, never for other panels' instances.
// - When every instance is taken, lanes wait for the next free one in turn (one place per lane
//   in a round-robin queue), so a quiet panel is next in line however many executions a noisy
//   one has queued.
// - A resumed execution already holds its instance: its lane admits it before new executions,
//   so an execution waiting for an instance never blocks the parked ones whose end would free one.
//
// Only the gate's holder asks the store for the panel's lease, so the store sees at most one
// contender per kernel and panel.

import { KernelError } from '../errors.js';
import { LeaseTimeoutError } from '../store/types.js';

export interface GateLimits {
  /** Executions of one panel that may wait to start on this kernel (429 PANEL_BUSY beyond). */
  readonly maxWaiters: number;
  /** The sandbox's instances (MAX_INSTANCES): running and parked executions together. */
  readonly instances: number;
  /** Instances the executions of one panel may hold at once (PANEL_MAX_INSTANCES). */
  readonly panelMaxInstances: number;
  /** Executions that may wait to start, every panel together (503 OVERLOADED beyond). */
  readonly maxQueued: number;
}

/** What a new execution waited for when its deadline passed. */
export type Awaited = 'panel' | 'instance';

/** The deadline passed before a new execution could start; nothing of it ran. */
export class StartTimeoutError extends Error {
  constructor(readonly awaited: Awaited) {
    super(
      `the execution deadline passed while waiting for ${awaited === 'panel' ? 'its panel' : 'a sandbox instance'}`,
    );
    this.name = 'StartTimeoutError';
  }
}

/** One execution's hold on a sandbox instance and, during a segment, on its panel's gate. */
export interface Ticket {
  /**
   * Resolves once the resumed execution holds its panel's gate again (resumed executions go
   * before new ones); rejects with LeaseTimeoutError when `deadline` passes first.
   */
  resume(deadline: number): Promise<void>;
  /** Leaves the panel's gate after a segment (the instance stays held). */
  leave(): void;
  /** Ends the execution: leaves the gate if held and frees the instance. Idempotent. */
  end(): void;
}

interface Starter {
  readonly resolve: (ticket: Ticket) => void;
  readonly reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
  /** Given an instance while the gate was taken (by a resumed execution). */
  instance: boolean;
}

interface Resumer {
  readonly resolve: () => void;
  timer?: NodeJS.Timeout;
}

interface Lane {
  readonly id: string;
  /** A segment of this panel runs (or is about to). */
  held: boolean;
  /** Instances held by this panel's executions: running, parked, or given and waiting for the gate. */
  holding: number;
  readonly starters: Starter[];
  readonly resumers: Resumer[];
  /** In the round-robin queue of lanes waiting for a free instance. */
  wanting: boolean;
}

export class PanelGates {
  private readonly lanes = new Map<string, Lane>();
  /** Lanes whose next execution waits for a free instance, in turn. */
  private readonly wanting: Lane[] = [];
  private free: number;
  private starting = 0;
  readonly panelMaxInstances: number;

  constructor(private readonly limits: GateLimits) {
    this.free = limits.instances;
    this.panelMaxInstances = Math.max(1, Math.min(limits.panelMaxInstances, limits.instances));
  }

  /** New executions waiting to start (for their panel or an instance), every panel together. */
  get queued(): number {
    return this.starting;
  }

  /** Instances held by running and parked executions. */
  get busy(): number {
    return this.limits.instances - this.free;
  }

  /** New executions waiting for panel `id` on this kernel. */
  waiting(id: string): number {
    return this.lanes.get(id)?.starters.length ?? 0;
  }

  /** Instances held by the executions of panel `id`. */
  holding(id: string): number {
    return this.lanes.get(id)?.holding ?? 0;
  }

  /**
   * Resolves once the new execution holds an instance and its panel's gate. Rejects with
   * PANEL_BUSY (maxWaiters wait for this panel already), OVERLOADED (maxQueued wait in all), or
   * StartTimeoutError when `deadline` (a Date.now() value) passes first.
   */
  start(id: string, deadline: number): Promise<Ticket> {
    const lane = this.lane(id);
    if (lane.starters.length >= this.limits.maxWaiters) {
      return Promise.reject(
        new KernelError(
          'PANEL_BUSY',
          `${lane.starters.length} executions are already waiting for panel "${id}" on this kernel (PANEL_MAX_WAITERS)`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      let admitted = false;
      const starter: Starter = {
        resolve: (ticket) => {
          admitted = true;
          resolve(ticket);
        },
        reject,
        instance: false,
      };
      lane.starters.push(starter);
      this.starting += 1;
      this.pump(lane);
      if (admitted) return;
      // It has to wait: the kernel-wide bound on waiting executions applies.
      if (this.starting > this.limits.maxQueued) {
        this.drop(lane, starter);
        reject(
          new KernelError(
            'OVERLOADED',
            `${this.starting} executions are waiting to start on this kernel already (EXECUTION_QUEUE_MAX)`,
          ),
        );
        return;
      }
      // Unreferenced: a deadline is no reason to keep the process alive.
      starter.timer = setTimeout(() => this.expire(lane, starter), Math.max(0, deadline - Date.now()));
      starter.timer.unref();
    });
  }

  private lane(id: string): Lane {
    let lane = this.lanes.get(id);
    if (lane === undefined) {
      lane = { id, held: false, holding: 0, starters: [], resumers: [], wanting: false };
      this.lanes.set(id, lane);
    }
    return lane;
  }

  /** Admits whoever may go next in `lane`: a resumed execution first, then the next new one. */
  private pump(lane: Lane): void {
    if (lane.held) return;
    const resumer = lane.resumers.shift();
    if (resumer !== undefined) {
      clearTimeout(resumer.timer);
      lane.held = true;
      resumer.resolve();
      return;
    }
    const head = lane.starters[0];
    if (head === undefined) {
      this.forget(lane);
      return;
    }
    if (!head.instance) {
      // Past its share the lane waits for one of its own executions to end (end() pumps it).
      if (lane.holding >= this.panelMaxInstances) return;
      if (this.free === 0) {
        this.want(lane);
        return;
      }
      this.give(lane, head);
    }
    lane.starters.shift();
    this.starting -= 1;
    clearTimeout(head.timer);
    lane.held = true;
    head.resolve(this.ticket(lane));
  }

  private give(lane: Lane, starter: Starter): void {
    this.free -= 1;
    lane.holding += 1;
    starter.instance = true;
  }

  private want(lane: Lane): void {
    if (lane.wanting) return;
    lane.wanting = true;
    this.wanting.push(lane);
  }

  /** Hands free instances to the lanes waiting for one, one per lane in turn. */
  private dispatch(): void {
    while (this.free > 0 && this.wanting.length > 0) {
      const lane = this.wanting.shift()!;
      lane.wanting = false;
      const head = lane.starters[0];
      if (head === undefined || head.instance || lane.holding >= this.panelMaxInstances) {
        this.forget(lane);
        continue;
      }
      this.give(lane, head);
      // Admitted now, or (a resumed segment runs) as soon as the gate is left.
      this.pump(lane);
    }
  }

  private expire(lane: Lane, starter: Starter): void {
    const at = lane.starters.indexOf(starter);
    if (at < 0) return;
    const awaited: Awaited = at === 0 && lane.wanting && !starter.instance ? 'instance' : 'panel';
    this.drop(lane, starter);
    starter.reject(new StartTimeoutError(awaited));
  }

  /** Removes a waiting execution (and the instance it may have been given meanwhile). */
  private drop(lane: Lane, starter: Starter): void {
    const at = lane.starters.indexOf(starter);
    if (at < 0) return;
    lane.starters.splice(at, 1);
    this.starting -= 1;
    if (starter.instance) {
      this.free += 1;
      lane.holding -= 1;
    }
    this.dispatch();
    this.pump(lane);
  }

  private ticket(lane: Lane): Ticket {
    let gate = true;
    let instance = true;
    return {
      resume: (deadline) => {
        if (!instance || gate) return Promise.reject(new Error('resume() needs a ticket between segments'));
        return this.resumeIn(lane, deadline).then(() => {
          gate = true;
        });
      },
      leave: () => {
        if (!gate) return;
        gate = false;
        lane.held = false;
        this.pump(lane);
      },
      end: () => {
        if (!instance) return;
        instance = false;
        if (gate) {
          gate = false;
          lane.held = false;
        }
        this.free += 1;
        lane.holding -= 1;
        // Lanes already waiting for an instance get it first; then this lane goes on.
        this.dispatch();
        this.pump(lane);
      },
    };
  }

  private resumeIn(lane: Lane, deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const resumer: Resumer = { resolve };
      lane.resumers.push(resumer);
      this.pump(lane);
      if (!lane.resumers.includes(resumer)) return;
      resumer.timer = setTimeout(
        () => {
          const at = lane.resumers.indexOf(resumer);
          if (at < 0) return;
          lane.resumers.splice(at, 1);
          reject(new LeaseTimeoutError());
        },
        Math.max(0, deadline - Date.now()),
      );
      resumer.timer.unref();
    });
  }

  /** Drops an idle lane (nothing held, nobody waiting). */
  private forget(lane: Lane): void {
    if (
      !lane.held &&
      lane.holding === 0 &&
      lane.starters.length === 0 &&
      lane.resumers.length === 0 &&
      !lane.wanting &&
      this.lanes.get(lane.id) === lane
    ) {
      this.lanes.delete(lane.id);
    }
  }
}
