import { FairQueue } from './fair-queue.js';

describe('FairQueue', () => {
  it('serves keys round-robin, each key in order', () => {
    const queue = new FairQueue<string>();
    for (let i = 0; i < 5; i++) queue.push('busy', `busy${i}`);
    queue.push('quiet', 'quiet0');
    queue.push('other', 'other0');
    queue.push('quiet', 'quiet1');
    const order: string[] = [];
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) order.push(item);
    expect(order).toEqual(['busy0', 'quiet0', 'other0', 'busy1', 'quiet1', 'busy2', 'busy3', 'busy4']);
    expect(queue.size).toBe(0);
  });

  it('counts per key and removes queued items', () => {
    const queue = new FairQueue<number>();
    queue.push('a', 1);
    queue.push('a', 2);
    queue.push('b', 3);
    expect(queue.sizeOf('a')).toBe(2);
    expect(queue.remove('a', 1)).toBe(true);
    expect(queue.remove('a', 1)).toBe(false);
    expect(queue.size).toBe(2);
    expect(queue.drain().sort()).toEqual([2, 3]);
    expect(queue.sizeOf('a')).toBe(0);
  });
});
