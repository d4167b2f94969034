import { WorkQueue, backoffDelay } from './queue.js';

const options = { baseDelayMs: 5, maxDelayMs: 40 };

describe('WorkQueue', () => {
  it('collapses duplicate keys', async () => {
    const q = new WorkQueue(options);
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands a key in progress to a second worker, and re-queues it when done if it changed', async () => {
    const q = new WorkQueue(options);
    q.add('a');
    const first = await q.get();
    q.add('a'); // changed while a worker holds it
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await new Promise((r) => setImmediate(r));
    expect(second).toBeUndefined();
    q.done(first!);
    await new Promise((r) => setImmediate(r));
    expect(second).toBe('a');
  });

  it('does not re-queue a key that did not change while in progress', () => {
    const q = new WorkQueue(options);
    q.add('a');
    void q.get().then((k) => q.done(k!));
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(q.length).toBe(0);
        resolve();
      }),
    );
  });

  it('backs off exponentially per key and forgets on success', () => {
    const q = new WorkQueue(options);
    expect(q.addRateLimited('a')).toBe(5);
    expect(q.addRateLimited('a')).toBe(10);
    expect(q.addRateLimited('a')).toBe(20);
    expect(q.addRateLimited('a')).toBe(40);
    expect(q.addRateLimited('a')).toBe(40);
    expect(q.addRateLimited('b')).toBe(5);
    expect(q.retries('a')).toBe(5);
    q.forget('a');
    expect(q.addRateLimited('a')).toBe(5);
    q.shutDown();
  });

  it('delivers delayed keys after their delay', async () => {
    const q = new WorkQueue(options);
    const started = Date.now();
    q.addAfter('later', 20);
    expect(q.length).toBe(0);
    expect(await q.get()).toBe('later');
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('holds keys while paused and hands them out on resume', async () => {
    const q = new WorkQueue(options);
    q.pause();
    q.add('a');
    let got: string | undefined;
    void q.get().then((k) => (got = k));
    await new Promise((r) => setImmediate(r));
    expect(got).toBeUndefined();
    q.resume();
    await new Promise((r) => setImmediate(r));
    expect(got).toBe('a');
  });

  it('releases waiting workers on shutdown', async () => {
    const q = new WorkQueue(options);
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('x');
    expect(q.length).toBe(0);
  });

  it('reports its depth', () => {
    const depths: number[] = [];
    const q = new WorkQueue({ ...options, onDepthChange: (d) => depths.push(d) });
    q.add('a');
    q.add('b');
    void q.get();
    expect(depths).toEqual([1, 2, 1]);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 100, 500))).toEqual([100, 200, 400, 500]);
    expect(backoffDelay(1000, 100, 500)).toBe(500);
  });
});
