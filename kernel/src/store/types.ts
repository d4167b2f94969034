// The panel store: where panel definitions, state, version and PATCH history live, shared by
// every kernel that uses the same store. The registry, executor and WebSocket code talk to this
// interface only; embedded.ts and redis.ts implement it (docs/kernel.md, "Panel store").
//
// State travels as the JSON text of each top-level key and is never parsed on the way through:
// the store keeps it, the kernel caches it, and the sandbox reads it on its own thread.

export type StoreKind = 'embedded' | 'redis';

/** Where a panel is in its life: mounting (created, not yet listed), ready, deleting. */
export type PanelPhase = 'mounting' | 'ready' | 'deleting';

/** The JSON text of each top-level key of a panel's state. */
export type StateEntries = Map<string, string>;

/** The bytes one key takes in the state's size accounting (MAX_STATE_BYTES). */
export function entryBytes(key: string, json: string): number {
  return Buffer.byteLength(key) + Buffer.byteLength(json) + 4;
}

export function stateBytes(entries: ReadonlyMap<string, string>): number {
  let total = 0;
  for (const [key, json] of entries) total += entryBytes(key, json);
  return total;
}

/**
 * A panel's state at one version. `epoch` names the panel's history (see history()); `revision`
 * is the definition the panel ran at that version (a definition change takes a version of its own).
 */
export interface StateSnapshot {
  readonly version: number;
  readonly epoch: string;
  readonly revision: number;
  readonly entries: StateEntries;
  readonly bytes: number;
}

/** What a store keeps of a panel besides its state. */
export interface StoredPanel {
  readonly id: string;
  readonly epoch: string;
  readonly createdAt: string;
  readonly phase: PanelPhase;
  readonly version: number;
  /** The current definition's revision (1 for a new panel, one more for every change). */
  readonly revision: number;
  /** The definition as it was accepted, as JSON text. */
  readonly definition: string;
}

/** One of the definitions a panel keeps (PANEL_REVISIONS); stores keep it as this JSON. */
export interface RevisionRecord {
  readonly revision: number;
  /** When it became the panel's definition. */
  readonly createdAt: string;
  /** The definition, as JSON text. */
  readonly definition: string;
}

export interface PanelSummary {
  readonly id: string;
  readonly title: string;
  readonly tools: readonly string[];
  readonly version: number;
  readonly createdAt: string;
}

export interface NewPanel {
  readonly id: string;
  /** Names this panel's history; a new one for every panel (and every import). */
  readonly epoch: string;
  readonly definition: string;
  readonly title: string;
  readonly tools: readonly string[];
  readonly state: StateEntries;
  readonly createdAt: string;
  /** Imports keep their version; new panels start at 0. */
  readonly version?: number;
  /** Imports keep their revision; new panels start at 1. */
  readonly revision?: number;
}

/** One state mutation as the store applies it: `json` undefined deletes the key. */
export interface StoredMutation {
  readonly key: string;
  readonly json?: string;
}

/**
 * One segment's writes. The PATCH frame is `patchPrefix + version + patchSuffix` (the version is
 * assigned by the store); event frames are complete. Frames are what WebSocket clients receive.
 */
export interface SegmentWrite {
  readonly mutations: readonly StoredMutation[];
  readonly patchPrefix: string;
  readonly patchSuffix: string;
  readonly eventFrames: readonly string[];
  /**
   * A new definition, switched to atomically with the mutations: the panel's revision becomes the
   * lease's plus one, the commit takes a version of its own even without mutations, and its frame
   * (a REVISION message) goes into the history and onto the feed like a PATCH.
   */
  readonly definition?: DefinitionChange;
  /**
   * The outcome so far of the client request this segment belongs to (an `Idempotency-Key`),
   * recorded in the same step as the writes: a retry of the request finds it (Lease.recorded)
   * exactly when the writes were applied. A write with only a record applies nothing else.
   */
  readonly request?: RequestRecordWrite;
}

/** A client request's outcome, recorded under its key (see SegmentWrite.request). */
export interface RequestRecordWrite {
  /** The client's key (1-128 visible ASCII characters). */
  readonly key: string;
  /** What a retry is answered with: opaque JSON text (panels/requests.ts). */
  readonly record: string;
  /** When the record may be forgotten (ms since the epoch). */
  readonly expiresAt: number;
}

export interface DefinitionChange {
  /** The definition's JSON text. */
  readonly text: string;
  readonly title: string;
  readonly tools: readonly string[];
  /** When the change was made (the revision's createdAt). */
  readonly createdAt: string;
}

export type CommitResult =
  | { readonly status: 'ok'; readonly version: number; readonly bytes: number; readonly revision: number }
  /** The state would grow beyond MAX_STATE_BYTES: nothing was applied. */
  | { readonly status: 'too_large'; readonly bytes: number }
  /** The lease expired before the commit (another kernel may hold the panel now). */
  | { readonly status: 'lost' }
  | { readonly status: 'gone' };

/**
 * Exclusive use of one panel for one segment, across every kernel of the store. `state` is the
 * panel's latest state (undefined when it equals the `known` snapshot passed to lease()).
 */
export interface Lease {
  readonly version: number;
  readonly epoch: string;
  /** The panel's definition revision: an execution starting on another one must load it first. */
  readonly revision: number;
  readonly phase: PanelPhase;
  readonly state: StateSnapshot | undefined;
  /**
   * The record of the request key passed to lease(), when a commit recorded one that has not
   * expired: that request was applied (in part, while its record says it is running).
   */
  readonly recorded?: string;
  /** Applies the writes atomically, appends the PATCH to the history, publishes, releases. */
  commit(write: SegmentWrite): Promise<CommitResult>;
  /** Releases without writing. */
  release(): Promise<void>;
}

export interface StateRead {
  readonly phase: PanelPhase;
  readonly state: StateSnapshot | undefined;
}

export type HistoryRead =
  /** `frames` are the PATCH frames after `since`, in order, up to `version`. */
  | {
      readonly kind: 'history';
      readonly version: number;
      readonly epoch: string;
      /** The revision at `version` (REVISION frames among `frames` say when it changed). */
      readonly revision: number;
      readonly frames: string[];
    }
  /** The history does not reach back to `since` (or the epoch differs): the whole state. */
  | { readonly kind: 'snapshot'; readonly state: StateSnapshot };

/**
 * What arrives on a panel's live feed. `origin` is the publishing kernel's instance id. A patch
 * whose `frame` is empty is a notice: version `version` exists but its frame was too large to
 * carry (maxFeedFrameBytes), so subscribers read the history (a snapshot) instead.
 */
export type FeedMessage =
  | { readonly kind: 'patch'; readonly origin: string; readonly version: number; readonly frame: string }
  | { readonly kind: 'event'; readonly origin: string; readonly frame: string }
  | { readonly kind: 'deleted'; readonly origin: string }
  /** Log lines appended to the panel's ring (PanelLogs.appendLogs), as stored, seq included. */
  | { readonly kind: 'log'; readonly origin: string; readonly lines: readonly PanelLogLine[] };

export type FeedListener = (message: FeedMessage) => void;

export interface StoreLimits {
  readonly maxPanels: number;
  readonly maxStateBytes: number;
  readonly historyLength: number;
  readonly historyBytes: number;
  /** Definitions kept per panel, the current one included (at least 1). */
  readonly revisions: number;
  /** The per-panel log ring: at most this many lines and bytes (0 lines: no ring). */
  readonly logLines: number;
  readonly logBytes: number;
  /** Request records kept per panel (IDEMPOTENCY_KEYS); the oldest are forgotten beyond. */
  readonly requestKeys: number;
}

/**
 * What a PATCH frame may carry beyond the state's bytes: its envelope and each mutation's
 * `{"key","operation","value"}` wrapping. A frame within maxFeedFrameBytes() travels on the
 * store's live feed; a larger one (a segment whose frame lists far more than its net change)
 * travels as a notice of its version, and every subscriber reads the state instead.
 */
export const PATCH_FRAME_ALLOWANCE = 64 * 1024;

/** The largest PATCH frame a store carries on its live feed (see PATCH_FRAME_ALLOWANCE). */
export function maxFeedFrameBytes(limits: StoreLimits): number {
  return Math.max(limits.maxStateBytes, limits.historyBytes) + PATCH_FRAME_ALLOWANCE;
}

/**
 * Whether a PATCH frame of `frameBytes` is kept in a panel's history: only one that fits the
 * history's byte budget (STORE_HISTORY_BYTES) on its own. A larger one empties the history, so
 * a client resuming from before it takes the whole state (a snapshot), and the history never
 * holds more than its budget.
 */
export function keepsInHistory(frameBytes: number, limits: StoreLimits): boolean {
  return frameBytes <= limits.historyBytes && limits.historyLength > 0;
}

// The store's interface, by concern. An engine implements them all (PanelStore); each consumer
// depends only on what it uses: the registry on PanelLifecycle and PanelReads, the executor on
// PanelLeases and PanelEvents, the live feeds on PanelEvents and PanelHistory. A new engine is
// one file implementing PanelStore and passing the shared contract suite (contract.test.ts).

/** The store as a service: which engine, whether it can be reached, opening and closing it. */
export interface StoreConnection {
  readonly kind: StoreKind;
  /** False while the store cannot be reached; requests that need it fail fast meanwhile. */
  readonly available: boolean;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A panel's life in the store: admission (MAX_PANELS, fleet-wide) and removal. Every removal —
 * finishDelete, discard, or the store's own once a deleting mark lapsed — is announced on the
 * panel's feed (PanelEvents).
 */
export interface PanelLifecycle {
  /**
   * Reserves a place (MAX_PANELS, fleet-wide) and writes the panel in phase `mounting`; it is
   * neither listed nor served until admit(). A reservation not admitted within `ttlMs` lapses.
   */
  create(panel: NewPanel, ttlMs: number): Promise<void>;
  /** Lists the panel and makes it servable (phase ready). */
  admit(id: string): Promise<void>;
  /** Removes a panel that was never admitted (announced `deleted`). */
  discard(id: string): Promise<void>;
  /**
   * Marks a ready panel as deleting (no longer served); false when there is no such panel. The
   * mark lapses after `ttlMs` (longer than the unmount may run): a panel whose kernel died while
   * deleting it is then removed by time or by the next kernel that meets it (and announced
   * `deleted` then), and stops counting against MAX_PANELS. Needs no memory the store does not
   * have (it runs when Redis is full).
   */
  beginDelete(id: string, ttlMs: number): Promise<boolean>;
  /** Removes everything of the panel and tells every kernel (a `deleted` feed message). */
  finishDelete(id: string): Promise<void>;
}

/** What the store holds, read without holding anything. */
export interface PanelReads {
  /** The panel, in any phase; undefined when it does not exist. */
  get(id: string): Promise<StoredPanel | undefined>;
  /** The ready panels. */
  list(): Promise<PanelSummary[]>;
  /** Every panel that counts against MAX_PANELS (reservations included). */
  count(): Promise<number>;
  /** The panel's phase and latest state (`state` undefined when it equals `known`). */
  readState(id: string, known?: StateSnapshot): Promise<StateRead | 'gone'>;
  /** The definitions the panel keeps, oldest first; 'gone' when there is no such panel. */
  revisions(id: string): Promise<RevisionRecord[] | 'gone'>;
}

/** Exclusive use of a panel across every kernel, one segment at a time. */
export interface PanelLeases {
  /**
   * Waits (until `deadline`, a Date.now() value) for exclusive use of the panel across kernels.
   * In-process exclusion is the caller's (panels/gate.ts). A commit is announced on the feed.
   * With `requestKey`, the lease carries that request's record if one was committed
   * (Lease.recorded), read in the same step and, on a replicated store, acknowledged by the
   * replicas like a read: a retry is answered only from a record that survives a failover.
   */
  lease(
    id: string,
    known: StateSnapshot | undefined,
    deadline: number,
    requestKey?: string,
  ): Promise<Lease | 'gone'>;
}

/** The PATCH frames a client that resumes from a version missed. */
export interface PanelHistory {
  /** The PATCH frames after `since` when the history of `epoch` still holds them. */
  history(id: string, since: number, epoch: string): Promise<HistoryRead | 'gone'>;
}

/**
 * A panel's live feed, the same for every engine (contract.test.ts runs it against each): every
 * change is announced to every listener of the panel on every kernel — the kernel that made it
 * included — after the call that made it, in the order made, carrying that kernel's `origin`:
 * - a commit that changed the state: `patch` with its version and frame (the frame empty when
 *   it is larger than maxFeedFrameBytes: a notice, subscribers read the state), then each of
 *   its events as `event`; a commit that changed nothing: its events only;
 * - publish(): `event`;
 * - a panel removed in any way (finishDelete, discard, a lapsed deleting mark): `deleted`.
 * A listener hears only its panel, and nothing once unsubscribed. Messages while the store is
 * unreachable may be lost: onReconnect says when they may have been.
 */
export interface PanelEvents {
  /** This kernel's instance id, carried by what it publishes. */
  readonly origin: string;
  /** Publishes an ephemeral frame (EVENT, PROGRESS) to every kernel's subscribers. */
  publish(id: string, frame: string): Promise<void>;
  /** Listens to the panel's live feed; resolves once listening. Returns the unsubscribe. */
  subscribe(id: string, listener: FeedListener): Promise<() => void>;
  /** Called after the store comes back from an outage: live messages may have been missed. */
  onReconnect(listener: () => void): void;
}

/** Where a ring line came from: a handler's own line, or one the kernel wrote about its execution. */
export type LogSource = 'handler' | 'kernel';

/** A line for a panel's log ring, as an execution hands it over (the store assigns `seq`). */
export interface NewLogLine {
  /** When it was written, ms since the epoch. */
  readonly at: number;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  /** The tool (or lifecycle handler) that ran. */
  readonly tool: string;
  /** The handler's kind: tool, mount, unmount. */
  readonly kind: string;
  readonly source: LogSource;
  readonly requestId?: string;
  /** The panel definition's revision that ran, when the kernel knows it. */
  readonly revision?: number;
  readonly location?: { readonly line: number; readonly column: number };
}

/** A line of the ring: `seq` grows by one per line of the panel, whichever kernel appended it. */
export interface PanelLogLine extends NewLogLine {
  readonly seq: number;
}

export interface LogRead {
  /** The lines after `since`, oldest first, at most `limit` (the newest ones when more are kept). */
  readonly lines: PanelLogLine[];
  /** The newest seq assigned (0 before the first line): a reader's next `since`. */
  readonly last: number;
}

/**
 * A panel's ring of recent log lines (PANEL_LOG_LINES, PANEL_LOG_BYTES), shared by every kernel
 * of the store and removed with the panel. Lines are appended once per execution; each append is
 * announced on the panel's feed (a `log` message) so opted-in subscribers on every kernel see it.
 */
export interface PanelLogs {
  /**
   * Appends one execution's lines, then trims the ring to its bounds (oldest first) and announces
   * them. 'gone' when the panel does not exist (or is being deleted): nothing is kept.
   */
  appendLogs(id: string, lines: readonly NewLogLine[]): Promise<'ok' | 'gone'>;
  /** The ring's lines after `since` (0: all), at most `limit`. */
  readLogs(id: string, since: number, limit: number): Promise<LogRead | 'gone'>;
}

/** A store engine: every concern above. */
export interface PanelStore
  extends StoreConnection, PanelLifecycle, PanelReads, PanelLeases, PanelHistory, PanelEvents, PanelLogs {}

/** The bytes a ring line counts against PANEL_LOG_BYTES: its stored JSON text. */
export function logLineText(line: PanelLogLine): string {
  return JSON.stringify(line);
}

/**
 * The newest of `lines` that fit a ring of `maxLines` lines and `maxBytes` bytes on their own
 * (counting each line's JSON text without its seq plus a margin for it): an append never
 * carries lines the ring would drop at once.
 */
export function newestFitting(
  lines: readonly NewLogLine[],
  maxLines: number,
  maxBytes: number,
): NewLogLine[] {
  let bytes = 0;
  let first = lines.length;
  while (first > 0 && lines.length - first < maxLines) {
    const size = Buffer.byteLength(JSON.stringify(lines[first - 1])) + SEQ_ALLOWANCE;
    if (bytes + size > maxBytes) break;
    bytes += size;
    first -= 1;
  }
  return lines.slice(first);
}

/** What `"seq":<n>,` adds to a line's JSON text, at most (n below 2^53). */
export const SEQ_ALLOWANCE = 24;

/** create() found a panel (or another creation) with this id. */
export class PanelExistsError extends Error {
  constructor(readonly id: string) {
    super(`a panel with id ${id} exists already`);
    this.name = 'PanelExistsError';
  }
}

/** The wall-clock deadline passed while waiting for a panel. */
export class LeaseTimeoutError extends Error {
  constructor() {
    super('the execution deadline passed while waiting for the panel');
    this.name = 'LeaseTimeoutError';
  }
}

/** A kept revision from its JSON (`{"revision","createdAt","definition"}`, the definition embedded). */
export function revisionRecord(json: string): RevisionRecord {
  const { revision, createdAt, definition } = JSON.parse(json) as {
    revision: number;
    createdAt: string;
    definition: unknown;
  };
  return { revision, createdAt, definition: JSON.stringify(definition) };
}
