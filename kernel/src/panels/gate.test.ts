import { LeaseTimeoutError } from '../store/types.js';
import { type GateLimits, PanelGates, StartTimeoutError, type Ticket } from './gate.js';

const far = () => Date.now() + 60_000;
const gates = (limits: Partial<GateLimits> = {}) =>
  new PanelGates({ maxWaiters: 10, instances: 4, panelMaxInstances: 2, maxQueued: 100, ...limits });
/** Lets settled promises run their callbacks. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Starts an execution and records when it is admitted. */
function track(target: PanelGates, id: string, order: string[], name: string, deadline = far()) {
  return target.start(id, deadline).then((ticket) => {
    order.push(name);
    return ticket;
  });
}

describe('PanelGates', () => {
  it('admits one segment per panel, then the waiters in arrival order; panels do not wait for each other', async () => {
    const target = gates();
    const order: string[] = [];
    const first = await target.start('p', far());
    const waiting = [1, 2, 3].map((n) =>
      track(target, 'p', order, `p${n}`).then((ticket) => {
        ticket.end();
      }),
    );
    const other = await target.start('q', far());
    expect(target.waiting('p')).toBe(3);
    first.end();
    await Promise.all(waiting);
    expect(order).toEqual(['p1', 'p2', 'p3']);
    expect(target.waiting('p')).toBe(0);
    other.end();
    // Ended twice is ended once.
    first.end();
    expect(target.busy).toBe(0);
  });

  it('lets waiting executions hold no instance: a panel with many queued holds one', async () => {
    const target = gates({ instances: 4, panelMaxInstances: 4, maxWaiters: 100 });
    const running = await target.start('p', far());
    const queued = Array.from({ length: 50 }, () => target.start('p', far()));
    await settle();
    expect(target.busy).toBe(1);
    expect(target.waiting('p')).toBe(50);
    const others = await Promise.all(['q', 'r', 's'].map((id) => target.start(id, far())));
    expect(target.busy).toBe(4);
    for (const ticket of others) ticket.end();
    running.end();
    for (const next of queued) (await next).end();
    expect(target.busy).toBe(0);
  });

  it('keeps a panel to its share of instances, running and parked, so other panels always find one', async () => {
    const target = gates({ instances: 4, panelMaxInstances: 2 });
    // Two executions of p park (they leave the gate and keep their instance).
    const parked: Ticket[] = [];
    for (let i = 0; i < 2; i += 1) {
      const ticket = await target.start('p', far());
      ticket.leave();
      parked.push(ticket);
    }
    const order: string[] = [];
    const third = track(target, 'p', order, 'p3');
    await settle();
    expect(order).toEqual([]);
    expect(target.holding('p')).toBe(2);
    // Two instances are left, and they are for the other panels.
    const q = await target.start('q', far());
    const r = await target.start('r', far());
    expect(target.busy).toBe(4);
    q.end();
    r.end();
    await settle();
    expect(order).toEqual([]);
    // p's third starts when one of p's own executions ends.
    parked[0]!.end();
    (await third).end();
    parked[1]!.end();
    expect(target.busy).toBe(0);
  });

  it('admits a resumed execution before new ones of its panel', async () => {
    const target = gates();
    const parked = await target.start('p', far());
    parked.leave();
    const running = await target.start('p', far());
    const order: string[] = [];
    const fresh = track(target, 'p', order, 'new');
    const resumed = parked.resume(far()).then(() => order.push('resumed'));
    running.end();
    await resumed;
    parked.end();
    (await fresh).end();
    expect(order).toEqual(['resumed', 'new']);
  });

  it('hands free instances to waiting panels in turn, not in arrival order', async () => {
    const target = gates({ instances: 1, panelMaxInstances: 1 });
    const other = await target.start('x', far());
    const order: string[] = [];
    // p's executions arrive first, many of them; r's one arrives last.
    const ps = [1, 2, 3].map((n) => track(target, 'p', order, `p${n}`));
    const r = track(target, 'r', order, 'r');
    other.end();
    (await ps[0]!).end();
    (await r).end();
    (await ps[1]!).end();
    (await ps[2]!).end();
    expect(order).toEqual(['p1', 'r', 'p2', 'p3']);
    expect(target.busy).toBe(0);
  });

  it('never lets a new execution waiting for an instance block the parked executions that would free one', async () => {
    const target = gates({ instances: 2, panelMaxInstances: 2 });
    const p = await target.start('p', far());
    p.leave();
    const q = await target.start('q', far());
    q.leave();
    // Every instance is parked; p's new execution waits for one without taking p's gate.
    const order: string[] = [];
    const fresh = track(target, 'p', order, 'new');
    await p.resume(far());
    order.push('p resumed');
    p.end();
    (await fresh).end();
    q.end();
    expect(order).toEqual(['p resumed', 'new']);
  });

  it('refuses a new waiter beyond PANEL_MAX_WAITERS (PANEL_BUSY) and beyond EXECUTION_QUEUE_MAX (OVERLOADED)', async () => {
    const target = gates({ maxWaiters: 1, maxQueued: 2 });
    const held = await target.start('p', far());
    const queued = target.start('p', far());
    await expect(target.start('p', far())).rejects.toMatchObject({ code: 'PANEL_BUSY' });
    const other = await target.start('q', far());
    const queuedOther = target.start('q', far());
    expect(target.queued).toBe(2);
    // One that can start at once is never refused for the queue's sake...
    const free = await target.start('r', far());
    // ...one that would wait is.
    await expect(target.start('r', far())).rejects.toMatchObject({ code: 'OVERLOADED' });
    expect(target.queued).toBe(2);
    held.end();
    (await queued).end();
    other.end();
    (await queuedOther).end();
    free.end();
    expect(target.busy).toBe(0);
  });

  it('gives up at the deadline, says what it waited for, and leaves the queue as it was', async () => {
    const target = gates({ instances: 1, panelMaxInstances: 1 });
    const held = await target.start('p', far());
    const forPanel = target.start('p', Date.now() + 20);
    await expect(forPanel).rejects.toBeInstanceOf(StartTimeoutError);
    await expect(forPanel).rejects.toMatchObject({ awaited: 'panel' });
    const forInstance = target.start('q', Date.now() + 20);
    await expect(forInstance).rejects.toMatchObject({ awaited: 'instance' });
    expect(target.waiting('p')).toBe(0);
    expect(target.queued).toBe(0);
    held.leave();
    await expect(held.resume(Date.now() + 60_000)).resolves.toBeUndefined();
    const next = target.start('q', far());
    held.end();
    (await next).end();
    expect(target.busy).toBe(0);
  });

  it('gives up a resume at its deadline with LeaseTimeoutError', async () => {
    const target = gates();
    const parked = await target.start('p', far());
    parked.leave();
    const running = await target.start('p', far());
    await expect(parked.resume(Date.now() + 20)).rejects.toBeInstanceOf(LeaseTimeoutError);
    running.end();
    parked.end();
    expect(target.busy).toBe(0);
  });
});
