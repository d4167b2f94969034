import { KernelError } from '../errors.js';
import { LeaseTimeoutError } from '../store/types.js';
import { PanelGates } from './gate.js';

describe('PanelGates', () => {
  const far = () => Date.now() + 60_000;

  it('admits one holder per panel, then the waiters in arrival order', async () => {
    const gates = new PanelGates(10);
    const order: number[] = [];
    const first = await gates.enter('p', far());
    const waiting = [1, 2, 3].map((n) =>
      gates.enter('p', far()).then((release) => {
        order.push(n);
        release();
      }),
    );
    const other = await gates.enter('q', far());
    expect(gates.waiting('p')).toBe(3);
    first();
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
    expect(gates.waiting('p')).toBe(0);
    other();
    // Released twice is released once.
    first();
    const again = await gates.enter('p', far());
    again();
  });

  it('refuses a new waiter beyond the bound with PANEL_BUSY, but lets a resumed one queue', async () => {
    const gates = new PanelGates(1);
    const held = await gates.enter('p', far());
    const queued = gates.enter('p', far());
    await expect(gates.enter('p', far())).rejects.toMatchObject({ code: 'PANEL_BUSY' });
    await expect(gates.enter('p', far())).rejects.toBeInstanceOf(KernelError);
    const resumed = gates.enter('p', far(), { bounded: false });
    held();
    (await queued)();
    (await resumed)();
  });

  it('gives up at the deadline and leaves the queue as it was', async () => {
    const gates = new PanelGates(10);
    const held = await gates.enter('p', far());
    await expect(gates.enter('p', Date.now() + 20)).rejects.toBeInstanceOf(LeaseTimeoutError);
    expect(gates.waiting('p')).toBe(0);
    const next = gates.enter('p', far());
    held();
    (await next)();
  });
});
