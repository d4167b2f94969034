import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { ResilientInformer, type Source } from './informers.js';

type Callback = (arg?: unknown) => void;

/** A stand-in for client-node's ListWatch: it lists on start() and stops for good on an error. */
class FakeSource {
  readonly callbacks = new Map<string, Callback[]>();
  readonly objects = new Map<string, KubernetesObject>();
  starts = 0;
  failNextStart = false;

  constructor(private readonly onListed: () => void) {}

  on(verb: string, cb: Callback): void {
    this.callbacks.set(verb, [...(this.callbacks.get(verb) ?? []), cb]);
  }
  off(): void {}
  start(): Promise<void> {
    this.starts += 1;
    if (this.failNextStart) {
      this.failNextStart = false;
      this.emit('error', new Error('connect ECONNREFUSED'));
      return Promise.resolve();
    }
    this.onListed();
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  get(name: string): KubernetesObject | undefined {
    return this.objects.get(name);
  }
  list(): KubernetesObject[] {
    return [...this.objects.values()];
  }
  emit(verb: string, arg?: unknown): void {
    if (verb !== 'error' && arg) this.objects.set((arg as KubernetesObject).metadata!.name!, arg);
    for (const cb of this.callbacks.get(verb) ?? []) cb(arg);
  }
}

const until = async (condition: () => boolean) => {
  const end = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

function setup() {
  let source!: FakeSource;
  const events: string[] = [];
  let restarts = 0;
  const informer = new ResilientInformer<KubernetesObject>(
    (onListed) => {
      source = new FakeSource(onListed);
      return source as unknown as Source<KubernetesObject>;
    },
    'Deployment',
    (event, object) => events.push(`${event} ${object.metadata?.name}`),
    pino({ level: 'silent' }),
    () => (restarts += 1),
    { baseMs: 10, maxMs: 40 },
  );
  return { informer, source, events, restarts: () => restarts };
}

describe('ResilientInformer', () => {
  it('is synced once it has listed, and passes events on without managedFields', async () => {
    const { informer, source, events } = setup();
    expect(informer.hasSynced).toBe(false);
    await informer.start();
    expect(informer.hasSynced).toBe(true);
    const object: KubernetesObject = { metadata: { name: 'a', managedFields: [{ manager: 'x' }] } };
    source.emit('add', object);
    expect(events).toEqual(['add a']);
    expect(informer.get('a', '')?.metadata?.managedFields).toBeUndefined();
    await informer.stop();
  });

  it('starts again with backoff after the watch fails', async () => {
    const { informer, source, restarts } = setup();
    await informer.start();
    source.failNextStart = true;
    source.emit('error', new Error('watch closed: 500'));
    // The first restart fails too; the second comes after a longer delay and succeeds.
    await until(() => source.starts === 3);
    expect(restarts()).toBe(2);
    await informer.stop();
  });

  it('does not restart once stopped', async () => {
    const { informer, source, restarts } = setup();
    await informer.start();
    await informer.stop();
    source.emit('error', new Error('late'));
    await new Promise((r) => setTimeout(r, 50));
    expect(restarts()).toBe(0);
    expect(source.starts).toBe(1);
  });
});
