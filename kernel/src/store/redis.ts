// The Redis panel store: the distributed engine every kernel replica shares. Each state change is
// one server-side script (redis-scripts.ts); a panel's lease is a key with an owner token and an
// expiry that the holder renews while its segment runs, and that every commit checks (fencing),
// so a kernel that stalls or dies can never write over a newer owner. Live fan-out is sharded
// pub/sub on the panel's own channel.

import type { Logger } from 'pino';
import { KernelError } from '../errors.js';
import { type RedisLink, type RedisReply, maybeApplied } from './redis-link.js';
import { type IndexKeys, commitMarkerKey, indexKeys, panelKeys } from './redis-keys.js';
import type { ImportTarget } from './import.js';
import * as scripts from './redis-scripts.js';
import { RedisLogs, parseLogLines } from './redis-logs.js';
import {
  type CommitResult,
  type FeedListener,
  type FeedMessage,
  type HistoryRead,
  type LogRead,
  type NewLogLine,
  type Lease,
  LeaseTimeoutError,
  type NewPanel,
  PanelExistsError,
  type PanelPhase,
  type PanelStore,
  type PanelSummary,
  type RevisionRecord,
  revisionRecord,
  type SegmentWrite,
  type StateEntries,
  type StateRead,
  type StateSnapshot,
  type StoreLimits,
  type StoredPanel,
  maxFeedFrameBytes,
  stateBytes,
} from './types.js';

export interface RedisStoreOptions {
  readonly prefix: string;
  readonly limits: StoreLimits;
  readonly origin: string;
  /** How long a lease lasts unless renewed; the holder renews it every third of that. */
  readonly leaseMs: number;
  /**
   * Replicas that must hold a commit before it is acknowledged (WAIT), and how long to wait for
   * them; unset or 0 replicas: acknowledged once the primary has it.
   */
  readonly ack?: { readonly replicas: number; readonly timeoutMs: number };
}

/**
 * A commit applied on the primary that the replicas did not acknowledge in time (or whose WAIT
 * went unanswered): it may survive, or be lost if the primary is lost now. Not retried here (the
 * change may be there); a client retries it safely with its Idempotency-Key (the executor says
 * so), else reads the state first.
 */
export class UnacknowledgedCommitError extends KernelError {
  constructor(detail: string) {
    super(
      'COMMIT_UNCONFIRMED',
      `the panel store applied the change on its primary but its replicas did not confirm it (${detail}), so the change may be applied or may be lost if the primary fails now`,
    );
  }
}

/**
 * How long a commit whose attempt went unanswered (a timeout, a dropped connection) is retried
 * until the store says whether it applied; its marker outlives that by far.
 */
const COMMIT_RETRY_MS = 10_000;
const COMMIT_MARKER_MS = 30_000;
/**
 * How often at most this kernel walks the index for ids whose panel is gone (a kernel died while
 * creating or deleting it; the panel's keys expired), when MAX_PANELS seems reached: the walk
 * reads every listed panel, so a client retrying a create at the limit cannot repeat it at will.
 */
const SWEEP_INTERVAL_MS = 5000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function entriesOf(flat: RedisReply | undefined): StateEntries {
  const entries: StateEntries = new Map();
  if (!Array.isArray(flat)) return entries;
  for (let i = 0; i + 1 < flat.length; i += 2) entries.set(String(flat[i]), String(flat[i + 1]));
  return entries;
}

function list(reply: RedisReply): RedisReply[] {
  return Array.isArray(reply) ? reply : [];
}

/** `P|origin|version|frame`, `E|origin||frame`, `D|origin||`, `L|origin||[lines]` (redis-logs.ts). */
export function parseFeedMessage(text: string): FeedMessage | undefined {
  const first = text.indexOf('|');
  const second = text.indexOf('|', first + 1);
  const third = text.indexOf('|', second + 1);
  if (first !== 1 || second < 0 || third < 0) return undefined;
  const origin = text.slice(2, second);
  switch (text[0]) {
    case 'P':
      return {
        kind: 'patch',
        origin,
        version: Number(text.slice(second + 1, third)),
        frame: text.slice(third + 1),
      };
    case 'E':
      return { kind: 'event', origin, frame: text.slice(third + 1) };
    case 'D':
      return { kind: 'deleted', origin };
    case 'L': {
      const lines = parseLogLines(text.slice(third + 1));
      return lines === undefined ? undefined : { kind: 'log', origin, lines };
    }
    default:
      return undefined;
  }
}

export class RedisStore implements PanelStore, ImportTarget {
  readonly kind = 'redis' as const;
  private readonly index: IndexKeys;
  private readonly channels = new Map<
    string,
    { listeners: Set<FeedListener>; handler: (text: string) => void }
  >();
  private tokens = 0;
  private lastSweep = -Infinity;
  private readonly logs: RedisLogs;

  constructor(
    private readonly link: RedisLink,
    private readonly options: RedisStoreOptions,
    private readonly logger: Logger,
  ) {
    this.index = indexKeys(options.prefix);
    this.logs = new RedisLogs(link, options);
  }

  get available(): boolean {
    return this.link.available;
  }

  get origin(): string {
    return this.options.origin;
  }

  async start(): Promise<void> {
    await this.link.connect();
    await this.checkEvictionPolicy();
    // What a kernel that died mid-create or mid-delete left in the index.
    await this.sweep().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'could not check the panel index at start-up'),
    );
  }

  close(): Promise<void> {
    return this.link.close();
  }

  onReconnect(listener: () => void): void {
    this.link.onReconnect(listener);
  }

  private keys(id: string) {
    return panelKeys(this.options.prefix, id);
  }

  /** Evicted keys would silently lose panels: only `noeviction` is accepted. */
  private async checkEvictionPolicy(): Promise<void> {
    let policy: string | undefined;
    try {
      const reply = list(await this.link.command(this.index.panels, ['CONFIG', 'GET', 'maxmemory-policy']));
      policy = reply.length >= 2 ? String(reply[1]) : undefined;
    } catch (error) {
      this.logger.warn(
        { err: error },
        'cannot read the store\'s maxmemory-policy (CONFIG GET refused): make sure it is "noeviction", or Redis may evict panels under memory pressure',
      );
      return;
    }
    if (policy !== undefined && policy !== 'noeviction') {
      throw new KernelError(
        'STORE_UNAVAILABLE',
        `the panel store's maxmemory-policy is "${policy}"; it must be "noeviction" (an evicting Redis silently loses panels): set it with CONFIG SET maxmemory-policy noeviction or in redis.conf`,
      );
    }
  }

  async create(panel: NewPanel, ttlMs: number): Promise<void> {
    let reserved = await this.reserve(panel.id, ttlMs);
    // Full, or so it seems: ids of panels whose kernel died while creating or deleting them may
    // still be listed. Forget those (at most every SWEEP_INTERVAL_MS) and try once more.
    if (!reserved && Date.now() - this.lastSweep >= SWEEP_INTERVAL_MS && (await this.sweep()) > 0)
      reserved = await this.reserve(panel.id, ttlMs);
    if (!reserved) {
      throw new KernelError(
        'PANEL_LIMIT_REACHED',
        `the panel store holds its maximum of ${this.options.limits.maxPanels} panels (MAX_PANELS, counted across every kernel)`,
      );
    }
    let written: boolean;
    try {
      written = await this.write(panel, 'mounting', ttlMs);
    } catch (error) {
      await this.settle(panel.id, false).catch(() => {});
      throw error;
    }
    // The id is another creation's or an existing panel's: its place in the index is theirs.
    if (!written) throw new PanelExistsError(panel.id);
  }

  private async reserve(id: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const reply = await this.link.run(
      scripts.RESERVE,
      [this.index.panels, this.index.pending],
      [id, now, now + ttlMs, this.options.limits.maxPanels],
    );
    return reply === 1;
  }

  /**
   * Drops from the index every id whose panel no longer exists: its keys expired after its
   * kernel died while creating it (between listing and making it permanent) or while deleting it
   * (BEGIN_DELETE's expiry). Returns how many were dropped.
   */
  private async sweep(): Promise<number> {
    this.lastSweep = Date.now();
    const { dangling } = await this.indexed();
    return dangling.length;
  }

  /** The listed panels' summaries (ready ones), forgetting listed ids whose panel is gone. */
  private async indexed(): Promise<{ summaries: PanelSummary[]; dangling: string[] }> {
    const ids = list(await this.link.command(this.index.panels, ['SMEMBERS', this.index.panels])).map(String);
    const rows = await Promise.all(
      ids.map((id) =>
        this.link.command(this.keys(id).meta, ['HMGET', this.keys(id).meta, 'v', 'c', 't', 'ph']),
      ),
    );
    const summaries: PanelSummary[] = [];
    const dangling: string[] = [];
    rows.forEach((row, i) => {
      const [version, createdAt, summary, phase] = list(row);
      const id = ids[i]!;
      if (version === null || version === undefined) {
        dangling.push(id);
        return;
      }
      if (phase !== 'ready') return;
      const { title, tools } = JSON.parse(String(summary)) as { title: string; tools: string[] };
      summaries.push({ id, title, tools, version: Number(version), createdAt: String(createdAt) });
    });
    if (dangling.length > 0) {
      // SREM needs no memory: it runs when Redis is full.
      await this.link.command(this.index.panels, ['SREM', this.index.panels, ...dangling]).catch(() => {});
      // A panel whose keys expired told nobody: every kernel's subscribers of it hear it now.
      await Promise.all(
        dangling.map((id) => {
          const { channel } = this.keys(id);
          return this.link
            .command(channel, ['SPUBLISH', channel, `D|${this.options.origin}||`])
            .catch(() => {});
        }),
      );
      this.logger.info({ panels: dangling.length }, 'forgot listed panels that no longer exist');
    }
    return { summaries, dangling };
  }

  private async write(panel: NewPanel, phase: PanelPhase, ttlMs: number): Promise<boolean> {
    const keys = this.keys(panel.id);
    const pairs: string[] = [];
    for (const [key, json] of panel.state) pairs.push(key, json);
    const reply = await this.link.run(
      scripts.CREATE,
      [keys.meta, keys.definition, keys.state, keys.revisions, keys.requests, keys.requestExpiry],
      [
        panel.epoch,
        phase,
        panel.createdAt,
        JSON.stringify({ title: panel.title, tools: panel.tools }),
        panel.definition,
        ttlMs,
        stateBytes(panel.state),
        panel.version ?? 0,
        panel.revision ?? 1,
        ...pairs,
      ],
    );
    return reply === 1;
  }

  private async settle(id: string, listed: boolean): Promise<void> {
    await this.link.run(scripts.SETTLE, [this.index.panels, this.index.pending], [id, listed ? '1' : '0']);
  }

  async admit(id: string): Promise<void> {
    await this.settle(id, true);
    const keys = this.keys(id);
    await this.link.run(
      scripts.FINALIZE,
      [keys.meta, keys.definition, keys.state, keys.history, keys.revisions, keys.logs],
      [],
    );
  }

  async discard(id: string): Promise<void> {
    await this.remove(id);
    await this.settle(id, false);
  }

  async get(id: string): Promise<StoredPanel | undefined> {
    const keys = this.keys(id);
    const reply = list(await this.link.run(scripts.GET, [keys.meta, keys.definition], []));
    if (reply.length < 6) return undefined;
    return {
      id,
      version: Number(reply[0]),
      epoch: String(reply[1]),
      phase: String(reply[2]) as PanelPhase,
      createdAt: String(reply[3]),
      definition: String(reply[4]),
      revision: Number(reply[5]),
    };
  }

  async revisions(id: string): Promise<RevisionRecord[] | 'gone'> {
    const keys = this.keys(id);
    const [exists, kept] = await Promise.all([
      this.link.command(keys.meta, ['EXISTS', keys.meta]),
      this.link.command(keys.revisions, ['LRANGE', keys.revisions, '0', '-1']),
    ]);
    if (Number(exists) !== 1) return 'gone';
    return list(kept).map((item) => revisionRecord(String(item)));
  }

  async list(): Promise<PanelSummary[]> {
    const { summaries } = await this.indexed();
    return summaries.sort((x, y) => x.createdAt.localeCompare(y.createdAt) || x.id.localeCompare(y.id));
  }

  async count(): Promise<number> {
    return Number(await this.link.run(scripts.COUNT, [this.index.panels, this.index.pending], []));
  }

  /**
   * With replicas acknowledging commits: returns once the replicas hold everything the primary
   * held when `read` was answered, so no client is shown a change that a promotion could still
   * undo (a commit applied on the primary whose WAIT is still pending, or timed out). A
   * replicated command after the read (SPUBLISH on a probe channel of the panel) moves this
   * connection's replication offset past it, and WAIT waits for that offset; refused (503) when the replicas do not
   * confirm it within STORE_ACK_TIMEOUT_MS.
   */
  private async acknowledgedRead<T>(id: string, read: Promise<T>): Promise<T> {
    const generation = this.link.generation;
    const answer = await read;
    await this.replicasHold(id, generation);
    return answer;
  }

  /** See acknowledgedRead: what this connection read since `generation` began is on the replicas. */
  private async replicasHold(id: string, generation: number): Promise<void> {
    const ack = this.options.ack;
    if (ack === undefined || ack.replicas === 0) return;
    // A message nobody listens to, on a channel of the panel's slot: replicated like a write, so
    // it moves the connection's offset, yet it needs no memory (a full store still answers reads).
    const probe = `${this.keys(id).lock}:ack`;
    await this.link.command(probe, ['SPUBLISH', probe, '']);
    const replicas = await this.link.acknowledged(probe, ack.replicas, ack.timeoutMs);
    if (this.link.generation !== generation) {
      throw new KernelError(
        'STORE_UNAVAILABLE',
        "the panel store's connection changed (a reconnect or a new primary) before its replicas confirmed what was read; retry shortly",
      );
    }
    if (replicas < ack.replicas) {
      throw new KernelError(
        'STORE_UNAVAILABLE',
        `the panel store's replicas did not confirm what its primary holds (${replicas} of STORE_ACK_REPLICAS=${ack.replicas} within STORE_ACK_TIMEOUT_MS=${ack.timeoutMs} ms); retry shortly`,
      );
    }
  }

  async readState(id: string, known?: StateSnapshot): Promise<StateRead | 'gone'> {
    const keys = this.keys(id);
    const reply = list(
      await this.acknowledgedRead(
        id,
        this.link.run(scripts.READ, [keys.meta, keys.state], [known?.version ?? -1, known?.epoch ?? '']),
      ),
    );
    if (reply.length < 5) return 'gone';
    const phase = String(reply[2]) as PanelPhase;
    if (reply.length === 5) return { phase, state: undefined };
    return {
      phase,
      state: {
        version: Number(reply[0]),
        epoch: String(reply[1]),
        bytes: Number(reply[3]),
        revision: Number(reply[4]),
        entries: entriesOf(reply[5]),
      },
    };
  }

  async lease(
    id: string,
    known: StateSnapshot | undefined,
    deadline: number,
    requestKey?: string,
  ): Promise<Lease | 'gone'> {
    const keys = this.keys(id);
    this.tokens += 1;
    const token = `${this.options.origin}:${this.tokens}`;
    let backoff = 1;
    for (;;) {
      const generation = this.link.generation;
      let answer: RedisReply;
      try {
        answer = await this.link.run(
          scripts.ACQUIRE,
          [keys.meta, keys.state, keys.lock, keys.requests, keys.requestExpiry],
          [
            token,
            this.options.leaseMs,
            known?.version ?? -1,
            known?.epoch ?? '',
            requestKey ?? '',
            Date.now(),
          ],
        );
      } catch (error) {
        // An unanswered attempt may have taken the lock: give it back rather than block the
        // panel for leaseMs.
        if (maybeApplied(error)) void this.link.run(scripts.UNLOCK, [keys.lock], [token]).catch(() => {});
        throw error;
      }
      const reply = list(answer);
      if (reply[0] === 'gone') return 'gone';
      if (reply[0] === 'ok') {
        const version = Number(reply[1]);
        const epoch = String(reply[2]);
        const revision = Number(reply[5]);
        const recorded = String(reply[6] ?? '');
        const state =
          reply.length > 7
            ? { version, epoch, revision, bytes: Number(reply[4]), entries: entriesOf(reply[7]) }
            : undefined;
        const lease = new RedisLease(
          this.link,
          this.options,
          keys,
          commitMarkerKey(this.options.prefix, id, token),
          token,
          version,
          epoch,
          revision,
          String(reply[3]) as PanelPhase,
          state,
          recorded.length > 0 ? recorded : undefined,
        );
        // A retry is answered from its record only once the replicas hold it: a record a
        // promotion could still undo would answer for a change that is then lost.
        if (lease.recorded !== undefined) {
          try {
            await this.replicasHold(id, generation);
          } catch (error) {
            await lease.release();
            throw error;
          }
        }
        return lease;
      }
      // Busy: another kernel holds the panel for one segment. Poll soon, backing off a little.
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new LeaseTimeoutError();
      const holderLeft = Math.max(1, Number(reply[1]));
      await sleep(Math.min(backoff, holderLeft, remaining));
      backoff = Math.min(backoff * 2, 16);
    }
  }

  async history(id: string, since: number, epoch: string): Promise<HistoryRead | 'gone'> {
    const keys = this.keys(id);
    const reply = list(
      await this.acknowledgedRead(
        id,
        this.link.run(scripts.HISTORY, [keys.meta, keys.history, keys.state], [since, epoch]),
      ),
    );
    if (reply[0] === 'history') {
      return {
        kind: 'history',
        version: Number(reply[1]),
        epoch: String(reply[2]),
        revision: Number(reply[3]),
        frames: list(reply[4] ?? []).map(String),
      };
    }
    if (reply[0] === 'snapshot') {
      return {
        kind: 'snapshot',
        state: {
          version: Number(reply[1]),
          epoch: String(reply[2]),
          bytes: Number(reply[3]),
          revision: Number(reply[4]),
          entries: entriesOf(reply[5]),
        },
      };
    }
    return 'gone';
  }

  async beginDelete(id: string, ttlMs: number): Promise<boolean> {
    const keys = this.keys(id);
    return (
      (await this.link.run(
        scripts.BEGIN_DELETE,
        [
          keys.meta,
          keys.definition,
          keys.state,
          keys.history,
          keys.revisions,
          keys.logs,
          keys.requests,
          keys.requestExpiry,
        ],
        [Math.max(1, Math.ceil(ttlMs))],
      )) === 1
    );
  }

  async finishDelete(id: string): Promise<void> {
    await this.remove(id);
    await this.settle(id, false);
  }

  private async remove(id: string): Promise<void> {
    const keys = this.keys(id);
    await this.link.run(
      scripts.REMOVE,
      [
        keys.meta,
        keys.definition,
        keys.state,
        keys.history,
        keys.lock,
        keys.revisions,
        keys.logs,
        keys.requests,
        keys.requestExpiry,
      ],
      [keys.channel, this.options.origin],
    );
  }

  async publish(id: string, frame: string): Promise<void> {
    const { channel } = this.keys(id);
    await this.link.command(channel, ['SPUBLISH', channel, `E|${this.options.origin}||${frame}`]);
  }

  async subscribe(id: string, listener: FeedListener): Promise<() => void> {
    const { channel } = this.keys(id);
    let entry = this.channels.get(channel);
    if (entry === undefined) {
      const listeners = new Set<FeedListener>();
      const handler = (text: string): void => {
        const message = parseFeedMessage(text);
        if (message === undefined) return;
        for (const each of listeners) each(message);
      };
      entry = { listeners, handler };
      this.channels.set(channel, entry);
      entry.listeners.add(listener);
      try {
        await this.link.subscribe(channel, handler);
      } catch (error) {
        this.channels.delete(channel);
        throw error;
      }
    } else {
      entry.listeners.add(listener);
    }
    const subscribed = entry;
    return () => {
      subscribed.listeners.delete(listener);
      if (subscribed.listeners.size === 0 && this.channels.get(channel) === subscribed) {
        this.channels.delete(channel);
        void this.link.unsubscribe(channel, subscribed.handler);
      }
    };
  }

  appendLogs(id: string, lines: readonly NewLogLine[]): Promise<'ok' | 'gone'> {
    return this.logs.appendLogs(id, lines);
  }

  readLogs(id: string, since: number, limit: number): Promise<LogRead | 'gone'> {
    return this.logs.readLogs(id, since, limit);
  }

  /** Writes a panel found in an embedded store's files, unless one with its id exists (import.ts). */
  async import(panel: NewPanel): Promise<boolean> {
    const now = Date.now();
    const reserved = await this.link.run(
      scripts.RESERVE,
      [this.index.panels, this.index.pending],
      [panel.id, now, now + 60_000, this.options.limits.maxPanels],
    );
    if (reserved !== 1) {
      throw new KernelError(
        'PANEL_LIMIT_REACHED',
        `MAX_PANELS (${this.options.limits.maxPanels}) reached while importing`,
      );
    }
    const written = await this.write(panel, 'ready', 0);
    await this.settle(panel.id, true);
    return written;
  }
}

class RedisLease implements Lease {
  private readonly renewal: NodeJS.Timeout;
  private done = false;

  constructor(
    private readonly link: RedisLink,
    private readonly options: RedisStoreOptions,
    private readonly keys: ReturnType<typeof panelKeys>,
    private readonly marker: string,
    private readonly token: string,
    readonly version: number,
    readonly epoch: string,
    readonly revision: number,
    readonly phase: PanelPhase,
    readonly state: StateSnapshot | undefined,
    readonly recorded: string | undefined,
  ) {
    // A segment may wait for a bridge thread; keep the lease while it does. A kernel that dies
    // stops renewing and the lease lapses after leaseMs; one starved past it takes the lease
    // again if nobody used the panel meanwhile (RENEW), else its commit is refused (fencing).
    this.renewal = setInterval(
      () => {
        void this.link
          .run(scripts.RENEW, [keys.lock, keys.meta], [token, options.leaseMs, version, epoch])
          .catch(() => {});
      },
      Math.max(100, Math.floor(options.leaseMs / 3)),
    );
    this.renewal.unref();
  }

  async commit(write: SegmentWrite): Promise<CommitResult> {
    this.finish();
    const { limits } = this.options;
    const args: (string | number)[] = [
      this.token,
      limits.maxStateBytes,
      limits.historyLength,
      limits.historyBytes,
      this.options.origin,
      this.keys.channel,
      write.patchPrefix,
      write.patchSuffix,
      write.eventFrames.length,
      this.version,
      this.epoch,
      COMMIT_MARKER_MS,
      maxFeedFrameBytes(limits),
      write.definition?.text ?? '',
      write.definition === undefined
        ? ''
        : JSON.stringify({ title: write.definition.title, tools: write.definition.tools }),
      write.definition?.createdAt ?? '',
      limits.revisions,
      this.acknowledging ? '0' : '1',
      write.request?.key ?? '',
      write.request?.record ?? '',
      write.request?.expiresAt ?? 0,
      limits.requestKeys,
      Date.now(),
      ...write.eventFrames,
    ];
    for (const mutation of write.mutations) {
      if (mutation.json === undefined) args.push('d', mutation.key, '');
      else args.push('s', mutation.key, mutation.json);
    }
    const generation = this.link.generation;
    const reply = list(await this.commitOnce(args));
    switch (reply[0]) {
      case 'ok': {
        const version = Number(reply[1]);
        if (this.acknowledging) await this.acknowledge(write, version, generation);
        return { status: 'ok', version, bytes: Number(reply[2]), revision: Number(reply[3]) };
      }
      case 'too_large':
        return { status: 'too_large', bytes: Number(reply[1]) };
      case 'gone':
        return { status: 'gone' };
      default:
        return { status: 'lost' };
    }
  }

  private get acknowledging(): boolean {
    return (this.options.ack?.replicas ?? 0) > 0;
  }

  /**
   * Waits until STORE_ACK_REPLICAS replicas hold the commit, then publishes its PATCH and events
   * (COMMIT left that to here). A commit the replicas do not confirm is reported as maybe applied
   * and published nowhere: if it survives, subscribers find its version missing at the next
   * PATCH and read it from the history; if a promotion loses it, nobody saw it.
   */
  private async acknowledge(write: SegmentWrite, version: number, generation: number): Promise<void> {
    const { replicas, timeoutMs } = this.options.ack!;
    let held: number;
    try {
      held = await this.link.acknowledged(this.keys.meta, replicas, timeoutMs);
    } catch (error) {
      throw new UnacknowledgedCommitError(`WAIT failed: ${(error as Error).message}`);
    }
    // WAIT counts its own connection's writes: on another one (the commit's connection dropped,
    // or the primary changed, in between) it confirms nothing of this commit.
    if (this.link.generation !== generation) {
      throw new UnacknowledgedCommitError('the connection to the primary changed before WAIT answered');
    }
    if (held < replicas) {
      throw new UnacknowledgedCommitError(
        `${held} of STORE_ACK_REPLICAS=${replicas} within STORE_ACK_TIMEOUT_MS=${timeoutMs} ms`,
      );
    }
    const { origin, limits } = this.options;
    const messages: string[] = [];
    if (version !== this.version) {
      const frame = `${write.patchPrefix}${version}${write.patchSuffix}`;
      messages.push(
        Buffer.byteLength(frame) <= maxFeedFrameBytes(limits)
          ? `P|${origin}|${version}|${frame}`
          : `P|${origin}|${version}|`,
      );
    }
    for (const event of write.eventFrames) messages.push(`E|${origin}||${event}`);
    if (messages.length === 0) return;
    // The change is durable and acknowledged; a feed message lost here is found by subscribers
    // in the history at the next PATCH (or their next resync), so it does not fail the commit.
    await this.link.run(scripts.FEED, [this.keys.meta], [this.keys.channel, ...messages]).catch(() => {});
  }

  /**
   * Runs COMMIT until the store answers. An attempt that went unanswered may have been applied,
   * so it is not reported as a failure (the client would retry and apply it twice): it is retried
   * with the same token, and the store's marker says whether it applied.
   */
  private async commitOnce(args: readonly (string | number)[]): Promise<RedisReply> {
    const keys = [
      this.keys.meta,
      this.keys.state,
      this.keys.history,
      this.keys.lock,
      this.marker,
      this.keys.definition,
      this.keys.revisions,
      this.keys.requests,
      this.keys.requestExpiry,
    ];
    const giveUp = Date.now() + COMMIT_RETRY_MS;
    let unanswered = false;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.link.run(scripts.COMMIT, keys, args);
      } catch (error) {
        unanswered ||= maybeApplied(error);
        if (!unanswered) throw error;
        if (Date.now() >= giveUp) {
          throw new KernelError(
            'COMMIT_UNCONFIRMED',
            `the panel store did not confirm a segment within ${COMMIT_RETRY_MS} ms, so whether it was applied is unknown: ${(error as Error).message}`,
          );
        }
        await sleep(Math.min(50 * 2 ** attempt, 1000));
      }
    }
  }

  async release(): Promise<void> {
    this.finish();
    await this.link.run(scripts.UNLOCK, [this.keys.lock], [this.token]).catch(() => {});
  }

  private finish(): void {
    if (this.done) throw new Error('the lease was already committed or released');
    this.done = true;
    clearInterval(this.renewal);
  }
}
