import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { EmbeddedStore } from '../store/embedded.js';
import type { FeedListener, PanelStore } from '../store/types.js';
import { CachedState } from './panel.js';
import { type FeedSink, Feeds, type Greeting } from './feed.js';
import { patchFrame, storedMutations } from './state.js';
import { RETENTION } from '../testing/retention.js';

const logger = pino({ level: 'silent' });
const limits = {
  maxPanels: 10,
  maxStateBytes: 1 << 20,
  historyLength: 4,
  historyBytes: 1 << 20,
  ...RETENTION,
};

class Sink implements FeedSink {
  readonly frames: { type: string; body: Record<string, unknown> }[] = [];
  deleted = false;
  readonly open = true;
  send(frame: string | Buffer | readonly (string | Buffer)[], type: string): void {
    const text =
      typeof frame === 'string' || Buffer.isBuffer(frame) ? frame.toString() : frame.map(String).join('');
    this.frames.push({ type, body: JSON.parse(text) as Record<string, unknown> });
  }
  panelDeleted(): void {
    this.deleted = true;
  }
  versions(): unknown[] {
    return this.frames.filter((f) => f.type === 'PATCH').map((f) => f.body.version);
  }
}

const greeting: Greeting = ({ resumed, version, epoch, state }) => ({
  frame: JSON.stringify({
    type: 'CONNECTED',
    resumed,
    version,
    epoch,
    ...(state ? { state: JSON.parse(state.toString()) as unknown } : {}),
  }),
  type: 'CONNECTED',
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('Feeds', () => {
  let directory: string;
  let store: EmbeddedStore;
  let feeds: Feeds;

  /** Commits one set of `n` and returns its version and frame, as the executor would. */
  async function commit(n: number): Promise<{ version: number; frame: string }> {
    const lease = await store.lease('p', undefined);
    if (lease === 'gone') throw new Error('gone');
    const mutations = storedMutations(new Map(), [
      { key: 'n', valueJson: JSON.stringify(n), operation: 'set' },
    ]);
    const { prefix, suffix } = patchFrame('p', mutations);
    const result = await lease.commit({
      mutations,
      patchPrefix: prefix,
      patchSuffix: suffix,
      eventFrames: [],
    });
    if (result.status !== 'ok') throw new Error(result.status);
    return { version: result.version, frame: `${prefix}${result.version}${suffix}` };
  }

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'nexus-feed-'));
    store = new EmbeddedStore(directory, limits, logger, 'me');
    await store.start();
    await store.create(
      {
        id: 'p',
        epoch: 'e',
        definition: '{"title":"t"}',
        title: 't',
        tools: [],
        state: new Map([['n', '0']]),
        createdAt: 'now',
      },
      60_000,
    );
    await store.admit('p');
    const latest = async (id: string): Promise<CachedState | 'gone'> => {
      const read = await store.readState(id);
      return read === 'gone' ? 'gone' : new CachedState(read.state!);
    };
    feeds = new Feeds(store, latest, () => {}, logger);
  });
  afterEach(async () => {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('starts from the current state and delivers versions in order, filling gaps from the history', async () => {
    const sink = new Sink();
    const subscription = await feeds.join('p', sink);
    subscription.start({}, greeting);
    await settle();
    expect(sink.frames[0]).toMatchObject({
      type: 'CONNECTED',
      body: { resumed: false, version: 0, state: { n: 0 } },
    });
    const first = await commit(1);
    const second = await commit(2);
    const third = await commit(3);
    // Offered out of order (a remote frame overtaken by a local one): delivered in order, once.
    feeds.offerPatch('p', third.version, third.frame);
    feeds.offerPatch('p', first.version, first.frame);
    feeds.offerPatch('p', second.version, second.frame);
    await subscription.delivered(3);
    await settle();
    expect(sink.versions()).toEqual([1, 2, 3]);
  });

  it('resumes from a version with what was missed, or sends the state when the history is too short', async () => {
    for (let n = 1; n <= 6; n += 1) await commit(n);
    const resumed = new Sink();
    (await feeds.join('p', resumed)).start({ since: 3, epoch: 'e' }, greeting);
    await settle();
    expect(resumed.frames[0]!.body).toMatchObject({ resumed: true, version: 3 });
    expect(resumed.versions()).toEqual([4, 5, 6]);
    const tooOld = new Sink();
    (await feeds.join('p', tooOld)).start({ since: 1, epoch: 'e' }, greeting);
    await settle();
    expect(tooOld.frames).toEqual([
      {
        type: 'CONNECTED',
        body: { type: 'CONNECTED', resumed: false, version: 6, epoch: 'e', state: { n: 6 } },
      },
    ]);
  });

  it('tells every subscriber when the panel is deleted', async () => {
    const sinks = [new Sink(), new Sink()];
    for (const sink of sinks) (await feeds.join('p', sink)).start({}, greeting);
    feeds.panelDeleted('p');
    expect(sinks.map((sink) => sink.deleted)).toEqual([true, true]);
    expect(feeds.size('p')).toBe(0);
  });

  it('encodes a history frame once for every subscriber that resumes through it', async () => {
    for (let n = 1; n <= 3; n += 1) await commit(n);
    const sent: (string | Buffer | readonly (string | Buffer)[])[][] = [];
    for (let i = 0; i < 3; i += 1) {
      const frames: (string | Buffer | readonly (string | Buffer)[])[] = [];
      sent.push(frames);
      const sink: FeedSink = {
        open: true,
        send: (frame) => void frames.push(frame),
        panelDeleted: () => {},
      };
      (await feeds.join('p', sink)).start({ since: 1, epoch: 'e' }, greeting);
      await settle();
    }
    // The greeting, then versions 2 and 3: the same bytes for every subscriber.
    for (const frames of sent) expect(frames).toHaveLength(3);
    expect(Buffer.isBuffer(sent[0]![1])).toBe(true);
    expect(sent[1]![1]).toBe(sent[0]![1]);
    expect(sent[2]![2]).toBe(sent[0]![2]);
  });

  it('reads what it missed when the feed announces a version without its frame', async () => {
    const listeners: FeedListener[] = [];
    const spied = Object.assign(Object.create(store) as PanelStore, {
      subscribe: (_id: string, listener: FeedListener) => {
        listeners.push(listener);
        return Promise.resolve(() => {});
      },
    });
    const remote = new Feeds(
      spied,
      async (id) => {
        const read = await store.readState(id);
        return read === 'gone' ? 'gone' : new CachedState(read.state!);
      },
      () => {},
      logger,
    );
    const sink = new Sink();
    (await remote.join('p', sink)).start({}, greeting);
    await settle();
    // Another kernel commits version 1, whose frame was too large for the feed.
    await commit(1);
    for (const listener of listeners) listener({ kind: 'patch', origin: 'other', version: 1, frame: '' });
    await settle();
    expect(sink.versions()).toEqual([1]);
    expect(sink.frames.at(-1)!.body).toMatchObject({ mutations: [{ key: 'n', value: 1 }] });
  });

  it('shares the state between subscribers that resume from beyond the history', async () => {
    for (let n = 1; n <= 6; n += 1) await commit(n);
    const states: (Buffer | undefined)[] = [];
    const capture: Greeting = (start) => {
      states.push(start.state);
      return { frame: '{}', type: 'CONNECTED' };
    };
    for (let i = 0; i < 2; i += 1) {
      const sink: FeedSink = { open: true, send: () => {}, panelDeleted: () => {} };
      (await feeds.join('p', sink)).start({ since: 1, epoch: 'e' }, capture);
      await settle();
    }
    expect(states).toHaveLength(2);
    expect(JSON.parse(states[0]!.toString())).toEqual({ n: 6 });
    expect(states[1]).toBe(states[0]);
  });
});
