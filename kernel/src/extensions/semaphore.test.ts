import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('admits up to its capacity and hands slots over in order', async () => {
    const semaphore = new Semaphore(2);
    const first = await semaphore.acquire();
    const second = await semaphore.acquire();
    const order: number[] = [];
    const third = semaphore.acquire().then((release) => (order.push(3), release));
    const fourth = semaphore.acquire().then((release) => (order.push(4), release));
    expect(semaphore.waiting).toBe(2);
    first();
    first();
    (await third)();
    second();
    (await fourth)();
    expect(order).toEqual([3, 4]);
    expect(semaphore.waiting).toBe(0);
  });

  it('drops a waiter whose signal aborts', async () => {
    const semaphore = new Semaphore(1);
    const held = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new Error('timed out'));
    await expect(waiting).rejects.toThrow('timed out');
    expect(semaphore.waiting).toBe(0);
    held();
    const again = await semaphore.acquire();
    again();
  });
});
