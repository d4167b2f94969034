// Live delivery to this kernel's WebSocket subscribers, in version order with no gaps or
// duplicates, whichever kernel made the change. Frames come from two sides: this kernel's own
// executions (offered as soon as their segment is committed) and other kernels' (the store's
// live feed). Every subscription tracks the last version it delivered; a frame that skips
// versions sends it to the panel's history for what it missed (or a full snapshot when the
// history no longer reaches back), with live frames held until it is caught up.

import type { Logger } from 'pino';
import { ServerMessageType } from '../messages.js';
import type { FeedMessage, HistoryRead, PanelEvents, PanelHistory, PanelLogLine } from '../store/types.js';
import type { PanelChanges } from './changes.js';
import { CachedState } from './panel.js';

/** Where a subscription's frames go (a WebSocket connection). */
export interface FeedSink {
  /**
   * Sends one message. A Buffer is UTF-8 JSON shared by every subscriber of a broadcast (encoded
   * once); an array is one message in parts (a greeting around a panel's cached state bytes).
   */
  send(frame: string | Buffer | readonly (string | Buffer)[], type: string): void;
  /** The panel was deleted (on any kernel). */
  panelDeleted(): void;
  readonly open: boolean;
  /** Whether it takes the panel's LOG messages (opted in, and allowed to read them). */
  readonly logs?: boolean;
}

/** How a subscription starts: from a version it has (resume), or from the current state. */
export interface StartRequest {
  readonly since?: number;
  readonly epoch?: string;
}

/** Builds the first message: resumed (history follows) or with the whole state's JSON bytes. */
export type Greeting = (start: {
  resumed: boolean;
  version: number;
  epoch: string;
  /** The panel's definition revision (at the newest version the read reached). */
  revision: number;
  state?: Buffer;
}) => {
  frame: string | readonly (string | Buffer)[];
  type: string;
};

/** Live frames held while a subscription catches up, at most this many and bytes (then it resyncs). */
const MAX_HELD_FRAMES = 10_000;
const MAX_HELD_BYTES = 8 * 1024 * 1024;
/** How long a RESULT waits for its PATCH to be delivered before it is sent regardless. */
const ORDER_WAIT_MS = 5000;
const RETRY_MS = 1000;

interface Held {
  readonly version?: number;
  readonly frame: string | Buffer;
  readonly type: string;
}

export class Subscription {
  private version = -1;
  private epoch = '';
  private syncing = true;
  private held: Held[] = [];
  private heldBytes = 0;
  private overflowed = false;
  private waiters: { version: number; resolve: () => void }[] = [];
  /** The newest version announced without its frame while catching up (read it after). */
  private announced = -1;
  private retry: NodeJS.Timeout | undefined;
  closed = false;

  constructor(
    private readonly feed: PanelFeed,
    readonly sink: FeedSink,
  ) {}

  /** Delivers the greeting and anything missed since `request.since`, then live frames. */
  start(request: StartRequest, greeting: Greeting): void {
    void this.synchronise(request, greeting);
  }

  patch(version: number, frame: string | Buffer): void {
    if (this.closed) return;
    if (this.syncing) {
      this.hold({ version, frame, type: ServerMessageType.PATCH });
      return;
    }
    if (version <= this.version) return;
    if (version === this.version + 1) {
      this.deliver(version, frame);
      return;
    }
    this.syncing = true;
    this.hold({ version, frame, type: ServerMessageType.PATCH });
    void this.catchUp();
  }

  /** Version `version` exists but the feed did not carry its frame (too large): read the store. */
  missed(version: number): void {
    if (this.closed) return;
    if (this.syncing) {
      this.announced = Math.max(this.announced, version);
      return;
    }
    if (version <= this.version) return;
    this.syncing = true;
    void this.catchUp();
  }

  event(frame: string | Buffer, type: string): void {
    if (this.closed) return;
    if (this.syncing) this.hold({ frame, type });
    else this.sink.send(frame, type);
  }

  /** Resolves once the PATCH of `version` was delivered (or soon regardless, or when closed). */
  delivered(version: number): Promise<void> {
    if (this.closed || (!this.syncing && this.version >= version)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ORDER_WAIT_MS);
      this.waiters.push({
        version,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** After a store outage: live frames may have been lost, ask the history. */
  resync(): void {
    if (this.closed || this.syncing) return;
    this.syncing = true;
    void this.catchUp();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.held = [];
    this.heldBytes = 0;
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
  }

  private hold(item: Held): void {
    if (this.held.length >= MAX_HELD_FRAMES || this.heldBytes + item.frame.length > MAX_HELD_BYTES) {
      // The history (or a snapshot) will bring it up to date; live frames past it are dropped
      // as duplicates.
      this.held = [];
      this.heldBytes = 0;
      this.overflowed = true;
    }
    this.held.push(item);
    this.heldBytes += item.frame.length;
  }

  private deliver(version: number, frame: string | Buffer): void {
    this.version = version;
    this.sink.send(frame, ServerMessageType.PATCH);
    if (this.waiters.length > 0) {
      this.waiters = this.waiters.filter((waiter) => {
        if (waiter.version > version) return true;
        waiter.resolve();
        return false;
      });
    }
  }

  private async synchronise(request: StartRequest, greeting: Greeting): Promise<void> {
    try {
      if (request.since !== undefined && request.epoch !== undefined) {
        const read = await this.feed.history(request.since, request.epoch);
        if (read === 'gone') return this.sink.panelDeleted();
        this.applyRead(read, request.since, greeting);
      } else {
        const state = await this.feed.snapshot();
        if (state === 'gone') return this.sink.panelDeleted();
        this.startFrom(state, greeting);
      }
      this.drain();
    } catch (error) {
      this.feed.logger.debug({ err: error }, 'subscription could not start');
      this.retryLater(() => this.synchronise(request, greeting));
    }
  }

  private async catchUp(): Promise<void> {
    if (this.closed) return;
    try {
      const read = await this.feed.history(this.version, this.epoch);
      if (read === 'gone') return this.sink.panelDeleted();
      if (this.closed) return;
      this.applyRead(read, this.version, (start) => ({
        frame: snapshotFrame(
          this.feed.id,
          start.version,
          start.epoch,
          start.revision,
          start.state ?? Buffer.from('{}'),
        ),
        type: ServerMessageType.SNAPSHOT,
      }));
      this.drain();
    } catch (error) {
      this.feed.logger.debug({ err: error }, 'subscription could not catch up');
      this.retryLater(() => this.catchUp());
    }
  }

  private retryLater(again: () => Promise<void>): void {
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void again(), RETRY_MS);
    this.retry.unref();
  }

  private applyRead(read: HistoryRead, since: number, greeting: Greeting): void {
    this.overflowed = false;
    if (read.kind === 'snapshot') {
      this.startFrom(new CachedState(read.state), greeting);
      return;
    }
    if (this.version < 0) {
      const { frame, type } = greeting({
        resumed: true,
        version: since,
        epoch: read.epoch,
        revision: read.revision,
      });
      this.sink.send(frame, type);
    }
    this.epoch = read.epoch;
    this.version = since;
    read.frames.forEach((frame, index) => {
      const version = since + index + 1;
      // One encoding per frame, shared by every subscriber that resumes through it.
      if (version > this.version) this.deliver(version, this.feed.encoded(read.epoch, version, frame));
    });
  }

  private startFrom(state: CachedState, greeting: Greeting): void {
    this.epoch = state.snapshot.epoch;
    this.version = state.version;
    // The state's bytes are encoded once per version and shared by every greeting, including
    // those of subscribers whose snapshot came from separate reads of the store.
    const { frame, type } = greeting({
      resumed: false,
      version: state.version,
      epoch: this.epoch,
      revision: state.snapshot.revision,
      state: this.feed.stateBytes(state),
    });
    this.sink.send(frame, type);
    for (const waiter of this.waiters.filter((w) => w.version <= state.version)) waiter.resolve();
    this.waiters = this.waiters.filter((w) => w.version > state.version);
  }

  /** Delivers held frames in order; a gap among them starts another catch-up. */
  private drain(): void {
    while (this.held.length > 0) {
      const item = this.held.shift()!;
      this.heldBytes -= item.frame.length;
      if (item.version === undefined) {
        this.sink.send(item.frame, item.type);
        continue;
      }
      if (item.version <= this.version) continue;
      if (item.version !== this.version + 1) {
        this.held.unshift(item);
        this.heldBytes += item.frame.length;
        void this.catchUp();
        return;
      }
      this.deliver(item.version, item.frame);
    }
    if (this.overflowed || this.announced > this.version) {
      void this.catchUp();
      return;
    }
    this.syncing = false;
  }
}

/** Forgets an encoded frame once no socket holds it any longer. */
const released = new FinalizationRegistry<{ frames: Map<string, WeakRef<Buffer>>; key: string }>(
  ({ frames, key }) => {
    if (frames.get(key)?.deref() === undefined) frames.delete(key);
  },
);

/** One panel's subscriptions on this kernel, fed by local executions and the store. */
export class PanelFeed {
  readonly subscriptions = new Set<Subscription>();
  private readonly reads = new Map<string, Promise<HistoryRead | 'gone'>>();
  /**
   * History frames and states as the UTF-8 bytes sockets send, by epoch and version, for as long
   * as any socket still holds them (weakly: this map keeps none alive). N clients resuming
   * through the same frame, or taking the same state, reading or not, share one copy of it.
   */
  private readonly frames = new Map<string, WeakRef<Buffer>>();
  unsubscribe: (() => void) | undefined;

  constructor(
    readonly id: string,
    private readonly store: FeedStore,
    private readonly currentState: () => Promise<CachedState | 'gone'>,
    readonly logger: Logger,
  ) {}

  /**
   * From the store's live feed: other kernels' frames (this kernel's own are offered directly),
   * and every deletion, whoever made it (a store that removes a lapsed panel itself announces it
   * in this kernel's name too).
   */
  receive(message: FeedMessage, onDeleted: () => void): void {
    if (message.kind === 'deleted') {
      onDeleted();
      return;
    }
    // Log lines reach this kernel's subscribers through the store only, its own included.
    if (message.kind === 'log') {
      this.logLines(message.lines);
      return;
    }
    if (message.origin === this.store.origin) return;
    switch (message.kind) {
      case 'patch': {
        if (message.frame === '') {
          // Too large for the feed (maxFeedFrameBytes): each subscriber reads what it missed.
          for (const subscription of this.subscriptions) subscription.missed(message.version);
          break;
        }
        const frame = Buffer.from(message.frame);
        for (const subscription of this.subscriptions) subscription.patch(message.version, frame);
        break;
      }
      case 'event': {
        const frame = Buffer.from(message.frame);
        const type = eventType(message.frame);
        for (const subscription of this.subscriptions) subscription.event(frame, type);
        break;
      }
    }
  }

  /** One LOG message, encoded once, to every subscriber that opted in. */
  private logLines(lines: readonly PanelLogLine[]): void {
    let frame: Buffer | undefined;
    for (const subscription of this.subscriptions) {
      if (subscription.sink.logs !== true) continue;
      frame ??= Buffer.from(JSON.stringify({ type: ServerMessageType.LOG, panelId: this.id, lines }));
      subscription.event(frame, ServerMessageType.LOG);
    }
  }

  /** The history after `since`; concurrent readers of the same range share one store call. */
  history(since: number, epoch: string): Promise<HistoryRead | 'gone'> {
    const key = `${epoch}:${since}`;
    let read = this.reads.get(key);
    if (read === undefined) {
      read = this.store.history(this.id, since, epoch);
      this.reads.set(key, read);
      const forget = (): void => {
        this.reads.delete(key);
      };
      read.then(forget, forget);
    }
    return read;
  }

  snapshot(): Promise<CachedState | 'gone'> {
    return this.currentState();
  }

  /** The bytes of a history frame, encoded once while any subscriber holds them. */
  encoded(epoch: string, version: number, frame: string): Buffer {
    const key = `${epoch}:${version}`;
    return this.frames.get(key)?.deref() ?? this.remember(key, Buffer.from(frame));
  }

  /** The JSON bytes of a state, encoded once per version while any subscriber holds them. */
  stateBytes(state: CachedState): Buffer {
    const key = `state:${state.snapshot.epoch}:${state.version}`;
    return this.frames.get(key)?.deref() ?? this.remember(key, state.bytes);
  }

  private remember(key: string, bytes: Buffer): Buffer {
    this.frames.set(key, new WeakRef(bytes));
    released.register(bytes, { frames: this.frames, key });
    return bytes;
  }
}

/** SNAPSHOT: a subscriber missed more than the history holds; `state` replaces its state. */
function snapshotFrame(
  panelId: string,
  version: number,
  epoch: string,
  revision: number,
  state: Buffer,
): (string | Buffer)[] {
  return [
    `{"type":"${ServerMessageType.SNAPSHOT}","panelId":${JSON.stringify(panelId)},"version":${version},"epoch":${JSON.stringify(epoch)},"revision":${revision},"state":`,
    state,
    '}',
  ];
}

function eventType(frame: string): string {
  return frame.startsWith('{"type":"PROGRESS"') ? ServerMessageType.PROGRESS : ServerMessageType.EVENT;
}

/** What the feeds need of the store. */
export type FeedStore = PanelEvents & PanelHistory;

/** Every panel feed of this kernel. */
export class Feeds {
  private readonly feeds = new Map<string, PanelFeed>();
  private readonly joining = new Map<string, Promise<PanelFeed>>();

  constructor(
    private readonly store: FeedStore,
    private readonly currentState: (id: string) => Promise<CachedState | 'gone'>,
    private readonly onDeleted: (id: string) => void,
    private readonly logger: Logger,
  ) {
    store.onReconnect(() => {
      for (const feed of this.feeds.values())
        for (const subscription of feed.subscriptions) subscription.resync();
    });
  }

  /** Subscribers of `id` on this kernel. */
  size(id: string): number {
    return this.feeds.get(id)?.subscriptions.size ?? 0;
  }

  get total(): number {
    let count = 0;
    for (const feed of this.feeds.values()) count += feed.subscriptions.size;
    return count;
  }

  /** Subscribes `sink` to the panel; rejects (STORE_UNAVAILABLE) when the store cannot be reached. */
  async join(id: string, sink: FeedSink): Promise<Subscription> {
    const feed = await this.feed(id);
    const subscription = new Subscription(feed, sink);
    feed.subscriptions.add(subscription);
    return subscription;
  }

  leave(id: string, subscription: Subscription): void {
    subscription.close();
    const feed = this.feeds.get(id);
    if (feed === undefined || !feed.subscriptions.delete(subscription) || feed.subscriptions.size > 0) return;
    this.feeds.delete(id);
    feed.unsubscribe?.();
  }

  /** Frames of this kernel's own execution, delivered at once to local subscribers. */
  offerPatch(id: string, version: number, frame: string): Subscription[] {
    const feed = this.feeds.get(id);
    if (feed === undefined) return [];
    const bytes = Buffer.from(frame);
    for (const subscription of feed.subscriptions) subscription.patch(version, bytes);
    return [...feed.subscriptions];
  }

  offerEvent(id: string, frame: string, type: string): void {
    const feed = this.feeds.get(id);
    if (feed === undefined) return;
    const bytes = Buffer.from(frame);
    for (const subscription of feed.subscriptions) subscription.event(bytes, type);
  }

  /** Follows the registry's announcements: a deleted panel's subscribers are told and dropped. */
  follow(changes: PanelChanges): () => void {
    return changes.on((change) => {
      if (change.kind === 'deleted') this.panelDeleted(change.id);
    });
  }

  /** The panel is gone: every local subscriber is told and dropped (again: nothing happens). */
  panelDeleted(id: string): void {
    const feed = this.feeds.get(id);
    if (feed === undefined) return;
    this.feeds.delete(id);
    feed.unsubscribe?.();
    for (const subscription of feed.subscriptions) {
      subscription.close();
      subscription.sink.panelDeleted();
    }
  }

  private async feed(id: string): Promise<PanelFeed> {
    const existing = this.feeds.get(id);
    if (existing !== undefined) return existing;
    let joining = this.joining.get(id);
    if (joining === undefined) {
      joining = (async () => {
        const feed = new PanelFeed(id, this.store, () => this.currentState(id), this.logger);
        feed.unsubscribe = await this.store.subscribe(id, (message) =>
          feed.receive(message, () => {
            this.onDeleted(id);
            this.panelDeleted(id);
          }),
        );
        this.feeds.set(id, feed);
        return feed;
      })();
      this.joining.set(id, joining);
      const forget = (): void => {
        this.joining.delete(id);
      };
      joining.then(forget, forget);
    }
    return joining;
  }
}
