// One segment at a time per panel within this kernel: a first-come first-served gate per panel,
// with a bound on how many executions may wait (beyond it PANEL_BUSY) and each waiter's own
// deadline. Only the gate's holder asks the store for the panel's lease, so the store sees at
// most one contender per kernel and panel.

import { KernelError } from '../errors.js';
import { LeaseTimeoutError } from '../store/types.js';

interface Waiter {
  readonly admit: () => void;
  readonly timer: NodeJS.Timeout;
}

interface Gate {
  held: boolean;
  readonly queue: Waiter[];
}

export class PanelGates {
  private readonly gates = new Map<string, Gate>();

  constructor(private readonly maxWaiters: number) {}

  /** Executions waiting for `id` (not counting the one holding it). */
  waiting(id: string): number {
    return this.gates.get(id)?.queue.length ?? 0;
  }

  /**
   * Resolves with the release once this caller holds the panel. Rejects with PANEL_BUSY when
   * maxWaiters are queued already (unless `bounded` is false: a resumed handler holds an instance
   * and is let in line regardless), or LeaseTimeoutError when `deadline` (Date.now()) passes.
   */
  enter(
    id: string,
    deadline: number,
    options: { bounded: boolean } = { bounded: true },
  ): Promise<() => void> {
    let gate = this.gates.get(id);
    if (gate === undefined) {
      gate = { held: false, queue: [] };
      this.gates.set(id, gate);
    }
    const release = this.releaser(id, gate);
    if (!gate.held) {
      gate.held = true;
      return Promise.resolve(release);
    }
    if (options.bounded && gate.queue.length >= this.maxWaiters) {
      return Promise.reject(
        new KernelError(
          'PANEL_BUSY',
          `${gate.queue.length} executions are already waiting for panel "${id}" on this kernel (PANEL_MAX_WAITERS)`,
        ),
      );
    }
    const queue = gate.queue;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(waiter.timer);
          resolve(release);
        },
        timer: setTimeout(
          () => {
            const at = queue.indexOf(waiter);
            if (at >= 0) queue.splice(at, 1);
            reject(new LeaseTimeoutError());
          },
          Math.max(0, deadline - Date.now()),
        ),
      };
      queue.push(waiter);
    });
  }

  private releaser(id: string, gate: Gate): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = gate.queue.shift();
      if (next !== undefined) {
        next.admit();
      } else {
        gate.held = false;
        if (this.gates.get(id) === gate) this.gates.delete(id);
      }
    };
  }
}
