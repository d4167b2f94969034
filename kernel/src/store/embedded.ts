// The embedded panel store: one kernel process, panels in memory, each written to its own file
// (files.ts) after every change. Exclusion within the process is the executor's panel gate, so a
// lease here only hands out the latest state. Its live feed is the same as a shared store's
// (types.ts, PanelEvents): every change is announced to the panel's listeners, after the call
// that made it, in order.

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { KernelError } from '../errors.js';
import { FilePersistence, type PanelRecord, recordText } from './files.js';
import { MemoryLogs } from './memory-logs.js';
import {
  type CommitResult,
  type DefinitionChange,
  entryBytes,
  type FeedListener,
  type FeedMessage,
  keepsInHistory,
  type HistoryRead,
  type LogRead,
  type NewLogLine,
  type Lease,
  type NewPanel,
  PanelExistsError,
  type PanelPhase,
  type PanelStore,
  type PanelSummary,
  type RequestRecordWrite,
  type RevisionRecord,
  type SegmentWrite,
  type StateEntries,
  type StateRead,
  type StateSnapshot,
  type StoreLimits,
  type StoredPanel,
  maxFeedFrameBytes,
  stateBytes,
} from './types.js';

interface Entry {
  readonly id: string;
  readonly createdAt: string;
  definition: string;
  title: string;
  tools: readonly string[];
  revision: number;
  /** The definitions kept (PANEL_REVISIONS), oldest first, the current one last. */
  revisions: RevisionRecord[];
  epoch: string;
  phase: PanelPhase;
  version: number;
  entries: StateEntries;
  bytes: number;
  history: string[];
  historyBytes: number;
  /** Reservations not admitted by then are dropped. */
  expiresAt?: number;
  /** A deleting panel not removed by then (its delete failed half-way) is removed by the store. */
  deleteBy?: number;
  /** Idempotency records by key, oldest first (SegmentWrite.request). */
  requests: Map<string, { readonly expiresAt: number; readonly record: string }>;
}

function summaryOf(definition: string): { title: string; tools: string[] } {
  const parsed = JSON.parse(definition) as { title?: unknown; tools?: unknown };
  return {
    title: typeof parsed.title === 'string' ? parsed.title : '',
    tools: typeof parsed.tools === 'object' && parsed.tools !== null ? Object.keys(parsed.tools) : [],
  };
}

export class EmbeddedStore implements PanelStore {
  readonly kind = 'embedded' as const;
  readonly available = true;
  readonly origin: string;
  private readonly panels = new Map<string, Entry>();
  private readonly listeners = new Map<string, Set<FeedListener>>();
  private readonly files: FilePersistence;
  /** Files of panels removed by the store itself (lapsed deletes), until they are gone. */
  private readonly removals = new Set<Promise<void>>();
  /** The log rings, in memory (memory-logs.ts says why). */
  private readonly logs: MemoryLogs;

  constructor(
    directory: string,
    private readonly limits: StoreLimits,
    private readonly logger: Logger,
    origin: string,
  ) {
    this.origin = origin;
    this.files = new FilePersistence(directory, logger);
    this.logs = new MemoryLogs(limits, origin, {
      panelOf: (id) => this.find(id),
      announce: (id, message) => this.announce(id, message),
    });
  }

  /**
   * Loads the panel files one at a time (fast: handlers are compiled when a panel is first
   * used). What stays in memory is bounded by the budgets, whatever the files hold: each panel
   * keeps the newest history frames within STORE_HISTORY and STORE_HISTORY_BYTES (the rest of a
   * file is dropped as soon as it is read), and a panel whose delete was under way when the
   * process ended is removed now.
   */
  async start(): Promise<void> {
    const unfinished: string[] = [];
    await this.files.each((record) => {
      if (record.phase === 'deleting') {
        unfinished.push(record.id);
        return;
      }
      const { title, tools } = summaryOf(record.definition);
      const history = trimHistory(record.history, this.limits);
      this.panels.set(record.id, {
        id: record.id,
        createdAt: record.createdAt,
        definition: record.definition,
        title,
        tools,
        revision: record.revision,
        revisions: record.revisions.slice(-this.limits.revisions),
        epoch: record.epoch ?? randomUUID(),
        phase: 'ready',
        version: record.version,
        entries: record.state,
        bytes: stateBytes(record.state),
        history,
        historyBytes: bytesOf(history),
        requests: new Map(
          (record.requests ?? [])
            .slice(-this.limits.requestKeys)
            .map(([key, expiresAt, text]) => [key, { expiresAt, record: text }]),
        ),
      });
    }, this.limits);
    for (const id of unfinished) await this.files.remove(id);
    if (unfinished.length > 0)
      this.logger.info({ panels: unfinished.length }, 'finished deleting panels whose delete was under way');
    if (this.panels.size > 0) this.logger.info({ panels: this.panels.size }, 'panels restored');
  }

  /** Every pending write is on disk. */
  async close(): Promise<void> {
    await Promise.all(this.removals);
    await this.files.flush();
  }

  onReconnect(): void {}

  /** Visits the panels of this store's files one at a time, for importing them into a shared store. */
  records(visit: (record: PanelRecord) => Promise<void>): Promise<void> {
    // A shared store starts every imported panel with a new history: none is read.
    return this.files.each(visit, { historyLength: 0, historyBytes: 0 });
  }

  retire(id: string): Promise<void> {
    return this.files.retire(id);
  }

  private live(): Entry[] {
    const now = Date.now();
    for (const [id, entry] of this.panels) {
      if (entry.expiresAt !== undefined && entry.expiresAt < now) this.panels.delete(id);
      else this.lapsed(entry, now);
    }
    return [...this.panels.values()];
  }

  /** The panel, unless it is gone or its deleting mark lapsed (then its deletion completes). */
  private find(id: string): Entry | undefined {
    const entry = this.panels.get(id);
    return entry === undefined || this.lapsed(entry, Date.now()) ? undefined : entry;
  }

  /** Completes the deletion of a panel whose delete stopped half-way; true when it did. */
  private lapsed(entry: Entry, now: number): boolean {
    if (entry.deleteBy === undefined || entry.deleteBy >= now) return false;
    this.logger.warn(
      { panelId: entry.id },
      'finishing the deletion of a panel whose delete stopped half-way',
    );
    this.panels.delete(entry.id);
    this.logs.forget(entry.id);
    this.announce(entry.id, { kind: 'deleted', origin: this.origin });
    const removal = this.files
      .remove(entry.id)
      .catch((error: unknown) =>
        this.logger.error({ panelId: entry.id, err: error }, 'removing a panel file failed'),
      );
    this.removals.add(removal);
    void removal.then(() => this.removals.delete(removal));
    return true;
  }

  create(panel: NewPanel, ttlMs: number): Promise<void> {
    const live = this.live();
    if (this.panels.has(panel.id)) return Promise.reject(new PanelExistsError(panel.id));
    if (live.length >= this.limits.maxPanels) {
      return Promise.reject(
        new KernelError(
          'PANEL_LIMIT_REACHED',
          `this kernel holds its maximum of ${this.limits.maxPanels} panels (MAX_PANELS)`,
        ),
      );
    }
    this.panels.set(panel.id, this.entryOf(panel, 'mounting', Date.now() + ttlMs));
    return Promise.resolve();
  }

  private entryOf(panel: NewPanel, phase: PanelPhase, expiresAt?: number): Entry {
    const revision = panel.revision ?? 1;
    return {
      id: panel.id,
      createdAt: panel.createdAt,
      definition: panel.definition,
      title: panel.title,
      tools: panel.tools,
      revision,
      revisions: [{ revision, createdAt: panel.createdAt, definition: panel.definition }],
      epoch: panel.epoch,
      phase,
      version: panel.version ?? 0,
      entries: new Map(panel.state),
      bytes: stateBytes(panel.state),
      history: [],
      historyBytes: 0,
      requests: new Map(),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    };
  }

  admit(id: string): Promise<void> {
    const entry = this.panels.get(id);
    if (entry !== undefined) {
      entry.phase = 'ready';
      delete entry.expiresAt;
      this.persist(entry);
    }
    return Promise.resolve();
  }

  discard(id: string): Promise<void> {
    this.panels.delete(id);
    this.logs.forget(id);
    this.announce(id, { kind: 'deleted', origin: this.origin });
    return Promise.resolve();
  }

  get(id: string): Promise<StoredPanel | undefined> {
    const entry = this.find(id);
    return Promise.resolve(
      entry && {
        id,
        epoch: entry.epoch,
        createdAt: entry.createdAt,
        phase: entry.phase,
        version: entry.version,
        revision: entry.revision,
        definition: entry.definition,
      },
    );
  }

  revisions(id: string): Promise<RevisionRecord[] | 'gone'> {
    const entry = this.find(id);
    return Promise.resolve(entry === undefined ? 'gone' : [...entry.revisions]);
  }

  list(): Promise<PanelSummary[]> {
    return Promise.resolve(
      this.live()
        .filter((entry) => entry.phase === 'ready')
        .map(({ id, title, tools, version, createdAt }) => ({ id, title, tools, version, createdAt })),
    );
  }

  count(): Promise<number> {
    return Promise.resolve(this.live().length);
  }

  private snapshot(entry: Entry): StateSnapshot {
    return {
      version: entry.version,
      epoch: entry.epoch,
      revision: entry.revision,
      entries: new Map(entry.entries),
      bytes: entry.bytes,
    };
  }

  readState(id: string, known?: StateSnapshot): Promise<StateRead | 'gone'> {
    const entry = this.find(id);
    if (entry === undefined) return Promise.resolve('gone');
    const unchanged = known !== undefined && known.version === entry.version && known.epoch === entry.epoch;
    return Promise.resolve({ phase: entry.phase, state: unchanged ? undefined : this.snapshot(entry) });
  }

  lease(
    id: string,
    known: StateSnapshot | undefined,
    _deadline?: number,
    requestKey?: string,
  ): Promise<Lease | 'gone'> {
    const entry = this.find(id);
    if (entry === undefined) return Promise.resolve('gone');
    const fresh = known === undefined || known.version !== entry.version || known.epoch !== entry.epoch;
    const request = requestKey === undefined ? undefined : entry.requests.get(requestKey);
    const recorded = request !== undefined && request.expiresAt > Date.now() ? request.record : undefined;
    const lease: Lease = {
      version: entry.version,
      epoch: entry.epoch,
      revision: entry.revision,
      phase: entry.phase,
      state: fresh ? this.snapshot(entry) : undefined,
      ...(recorded === undefined ? {} : { recorded }),
      commit: (write) => Promise.resolve(this.commit(id, write)),
      release: () => Promise.resolve(),
    };
    return Promise.resolve(lease);
  }

  private commit(id: string, write: SegmentWrite): CommitResult {
    const entry = this.panels.get(id);
    if (entry === undefined) return { status: 'gone' };
    if (write.mutations.length === 0 && write.definition === undefined) {
      if (write.request !== undefined) {
        this.record(entry, write.request);
        if (entry.phase !== 'mounting') this.persist(entry);
      }
      this.announceEvents(id, write.eventFrames);
      return { status: 'ok', version: entry.version, bytes: entry.bytes, revision: entry.revision };
    }
    const final = new Map<string, string | undefined>();
    for (const mutation of write.mutations) final.set(mutation.key, mutation.json);
    let size = entry.bytes;
    for (const [key, json] of final) {
      const old = entry.entries.get(key);
      if (old !== undefined) size -= entryBytes(key, old);
      if (json !== undefined) size += entryBytes(key, json);
    }
    if (size > this.limits.maxStateBytes && size > entry.bytes) return { status: 'too_large', bytes: size };
    if (write.definition !== undefined) this.define(entry, write.definition);
    for (const [key, json] of final) {
      if (json === undefined) entry.entries.delete(key);
      else entry.entries.set(key, json);
    }
    entry.bytes = size;
    entry.version += 1;
    const frameBytes =
      Buffer.byteLength(write.patchPrefix) +
      String(entry.version).length +
      Buffer.byteLength(write.patchSuffix);
    if (keepsInHistory(frameBytes, this.limits)) {
      entry.history.push(`${write.patchPrefix}${entry.version}${write.patchSuffix}`);
      entry.historyBytes += frameBytes;
      while (
        entry.history.length > 0 &&
        (entry.history.length > this.limits.historyLength || entry.historyBytes > this.limits.historyBytes)
      ) {
        entry.historyBytes -= Buffer.byteLength(entry.history.shift()!);
      }
    } else {
      // Too large to keep: a client resuming from before it takes the state instead.
      entry.history = [];
      entry.historyBytes = 0;
    }
    if (write.request !== undefined) this.record(entry, write.request);
    if (entry.phase !== 'mounting') this.persist(entry);
    // Too large for the feed: a notice of the version, and subscribers read the state.
    const frame =
      frameBytes <= maxFeedFrameBytes(this.limits)
        ? `${write.patchPrefix}${entry.version}${write.patchSuffix}`
        : '';
    this.announce(id, { kind: 'patch', origin: this.origin, version: entry.version, frame });
    this.announceEvents(id, write.eventFrames);
    return { status: 'ok', version: entry.version, bytes: entry.bytes, revision: entry.revision };
  }

  /** Switches the panel to a new definition, one revision on, keeping the last PANEL_REVISIONS. */
  private define(entry: Entry, change: DefinitionChange): void {
    entry.revision += 1;
    entry.definition = change.text;
    entry.title = change.title;
    entry.tools = change.tools;
    entry.revisions.push({ revision: entry.revision, createdAt: change.createdAt, definition: change.text });
    if (entry.revisions.length > this.limits.revisions)
      entry.revisions.splice(0, entry.revisions.length - this.limits.revisions);
  }

  history(id: string, since: number, epoch: string): Promise<HistoryRead | 'gone'> {
    const entry = this.find(id);
    if (entry === undefined) return Promise.resolve('gone');
    const missing = entry.version - since;
    if (epoch === entry.epoch && missing >= 0 && missing <= entry.history.length) {
      return Promise.resolve({
        kind: 'history',
        version: entry.version,
        epoch: entry.epoch,
        revision: entry.revision,
        frames: entry.history.slice(entry.history.length - missing),
      });
    }
    return Promise.resolve({ kind: 'snapshot', state: this.snapshot(entry) });
  }

  beginDelete(id: string, ttlMs: number): Promise<boolean> {
    const entry = this.find(id);
    if (entry?.phase !== 'ready') return Promise.resolve(false);
    entry.phase = 'deleting';
    entry.deleteBy = Date.now() + ttlMs;
    // On disk too: a restart completes a delete that was under way.
    this.persist(entry);
    return Promise.resolve(true);
  }

  async finishDelete(id: string): Promise<void> {
    this.panels.delete(id);
    this.logs.forget(id);
    try {
      await this.files.remove(id);
    } finally {
      this.announce(id, { kind: 'deleted', origin: this.origin });
    }
  }

  publish(id: string, frame: string): Promise<void> {
    this.announce(id, { kind: 'event', origin: this.origin, frame });
    return Promise.resolve();
  }

  appendLogs(id: string, lines: readonly NewLogLine[]): Promise<'ok' | 'gone'> {
    return this.logs.appendLogs(id, lines);
  }

  readLogs(id: string, since: number, limit: number): Promise<LogRead | 'gone'> {
    return this.logs.readLogs(id, since, limit);
  }

  private announceEvents(id: string, frames: readonly string[]): void {
    for (const frame of frames) this.announce(id, { kind: 'event', origin: this.origin, frame });
  }

  /**
   * Tells the panel's listeners, after the current call returns (as a shared store's feed does):
   * a listener never runs inside the change it hears of. Messages keep their order.
   */
  private announce(id: string, message: FeedMessage): void {
    const listeners = this.listeners.get(id);
    if (listeners === undefined) return;
    const now = [...listeners];
    queueMicrotask(() => {
      for (const listener of now) if (listeners.has(listener)) listener(message);
    });
  }

  subscribe(id: string, listener: FeedListener): Promise<() => void> {
    let set = this.listeners.get(id);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    const listeners = set;
    return Promise.resolve(() => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.listeners.get(id) === listeners) this.listeners.delete(id);
    });
  }

  /** Keeps a request's record; expired ones go, and the oldest beyond IDEMPOTENCY_KEYS. */
  private record(entry: Entry, request: RequestRecordWrite): void {
    const now = Date.now();
    entry.requests.delete(request.key);
    entry.requests.set(request.key, { expiresAt: request.expiresAt, record: request.record });
    for (const [key, kept] of entry.requests) {
      if (kept.expiresAt > now && entry.requests.size <= this.limits.requestKeys) break;
      entry.requests.delete(key);
    }
  }

  private persist(entry: Entry): void {
    this.files.save(entry.id, () =>
      recordText({
        id: entry.id,
        createdAt: entry.createdAt,
        epoch: entry.epoch,
        version: entry.version,
        definition: entry.definition,
        revision: entry.revision,
        revisions: entry.revisions,
        state: entry.entries,
        history: entry.history,
        requests: [...entry.requests].map(([key, kept]) => [key, kept.expiresAt, kept.record] as const),
        ...(entry.phase === 'deleting' ? { phase: 'deleting' as const } : {}),
      }),
    );
  }
}

function bytesOf(frames: readonly string[]): number {
  return frames.reduce((sum, frame) => sum + Buffer.byteLength(frame), 0);
}

/** The newest frames within the history's budgets (count and bytes), oldest first. */
export function trimHistory(frames: readonly string[], limits: StoreLimits): string[] {
  let bytes = 0;
  let first = frames.length;
  while (first > 0 && frames.length - first < limits.historyLength) {
    const size = Buffer.byteLength(frames[first - 1]!);
    if (bytes + size > limits.historyBytes) break;
    bytes += size;
    first -= 1;
  }
  return frames.slice(first);
}
