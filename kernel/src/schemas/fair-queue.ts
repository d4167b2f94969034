// Queues per key (a panel), served round-robin: each turn takes the oldest item of the key that
// was served longest ago, so one key with many items waits behind others' single items, never the
// other way round. Pure data structure.

export class FairQueue<T> {
  /** Map order is the rotation: the first key is served next, then moves to the back. */
  private readonly queues = new Map<string, T[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  sizeOf(key: string): number {
    return this.queues.get(key)?.length ?? 0;
  }

  push(key: string, item: T): void {
    const queue = this.queues.get(key);
    if (queue === undefined) this.queues.set(key, [item]);
    else queue.push(item);
    this.count++;
  }

  shift(): T | undefined {
    const next = this.queues.entries().next();
    if (next.done === true) return undefined;
    const [key, queue] = next.value;
    const item = queue.shift()!;
    this.queues.delete(key);
    if (queue.length > 0) this.queues.set(key, queue);
    this.count--;
    return item;
  }

  /** Removes one queued item; false when it is not queued (served already). */
  remove(key: string, item: T): boolean {
    const queue = this.queues.get(key);
    const index = queue?.indexOf(item) ?? -1;
    if (queue === undefined || index < 0) return false;
    queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(key);
    this.count--;
    return true;
  }

  drain(): T[] {
    const items = [...this.queues.values()].flat();
    this.queues.clear();
    this.count = 0;
    return items;
  }
}
