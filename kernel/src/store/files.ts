// The embedded store's files: one JSON file per panel under PERSIST_DIR. Writes are atomic
// (temporary file, fsync, rename, fsync of the directory) and coalesced: at most one write per
// panel is in flight, and changes made meanwhile are written right after it, so a burst of
// mutations costs two writes, not one per mutation. flush() waits for everything pending.
//
// Format 2 keeps the state's values and the PATCH history as the JSON text the store holds
// (`{"format":2,"id","createdAt","epoch","version","definition","state","history"}`, and
// `"phase":"deleting"` while the panel's delete is under way); format 1 files (no epoch, no
// history) are still read. Files are read one at a time (each()), so loading them holds one
// file's text at a time, whatever their number.

import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type HistoryBudget, KEEP_ALL_HISTORY, parseRecordBytes } from './record-reader.js';
import { type RevisionRecord, revisionRecord } from './types.js';
import type { StateEntries } from './types.js';

export const RECORD_FORMAT = 2;
const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** A panel as read back from its file. */
export interface PanelRecord {
  id: string;
  createdAt: string;
  /** Absent in format 1 files: the panel gets a new epoch (clients resync once). */
  epoch?: string;
  version: number;
  definition: string;
  /** The current definition's revision (absent before revisions were kept: 1). */
  revision: number;
  /** The definitions kept, oldest first, the current one last. */
  revisions: RevisionRecord[];
  state: StateEntries;
  history: string[];
  /** Present while the panel's delete is under way (a start that finds it completes it). */
  phase?: 'deleting';
  /** Idempotency records: key, expiry (ms since the epoch) and record text, oldest first. */
  requests?: StoredRequest[];
}

export type StoredRequest = readonly [key: string, expiresAt: number, record: string];

export interface PanelPersistence {
  /**
   * Reads the panel files one after the other, each with the newest history within `budget`;
   * `visit` sees each before the next is read.
   */
  each(visit: (record: PanelRecord) => void | Promise<void>, budget?: HistoryBudget): Promise<void>;
  loadAll(budget?: HistoryBudget): Promise<PanelRecord[]>;
  /** Schedules a write of the text that `snapshot` returns when the write starts. */
  save(id: string, snapshot: () => string): void;
  remove(id: string): Promise<void>;
  flush(): Promise<void>;
}

interface Slot {
  snapshot: () => string;
  dirty: boolean;
  running: Promise<void>;
}

/** The file text of a panel (values are embedded as the JSON text they are kept as). */
export function recordText(record: PanelRecord & { epoch: string }): string {
  let state = '';
  for (const [key, json] of record.state) state += `${state === '' ? '' : ','}${JSON.stringify(key)}:${json}`;
  return (
    `{"format":${RECORD_FORMAT},"id":${JSON.stringify(record.id)},"createdAt":${JSON.stringify(record.createdAt)},` +
    `"epoch":${JSON.stringify(record.epoch)},"version":${record.version},"definition":${record.definition},` +
    `"revision":${record.revision},"revisions":[${record.revisions.map(revisionText).join(',')}],` +
    `${record.requests === undefined || record.requests.length === 0 ? '' : `"requests":${JSON.stringify(record.requests)},`}` +
    `"state":{${state}},"history":${JSON.stringify(record.history)}` +
    `${record.phase === 'deleting' ? ',"phase":"deleting"' : ''}}`
  );
}

/** A kept revision as the stores keep it (types.ts revisionRecord() reads it). */
export function revisionText(record: RevisionRecord): string {
  return `{"revision":${record.revision},"createdAt":${JSON.stringify(record.createdAt)},"definition":${record.definition}}`;
}

/** The kept revisions of a file, or the current definition alone when it has none. */
function readRevisions(value: unknown, current: RevisionRecord): RevisionRecord[] {
  if (!Array.isArray(value)) return [current];
  const kept = value.flatMap((item) => {
    if (!isObject(item) || typeof item.revision !== 'number' || typeof item.createdAt !== 'string') return [];
    return isObject(item.definition) ? [revisionRecord(JSON.stringify(item))] : [];
  });
  return kept.length > 0 && kept[kept.length - 1]!.revision === current.revision ? kept : [current];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A record from a parsed file of either format, or undefined when it is not one. */
function readRecord(value: unknown): PanelRecord | undefined {
  if (!isObject(value) || (value.format !== 1 && value.format !== 2)) return undefined;
  const { id, createdAt, state, version, definition, epoch, history, phase, revision, requests } = value;
  if (typeof id !== 'string' || !ID.test(id) || typeof createdAt !== 'string') return undefined;
  if (!isObject(state) || typeof version !== 'number' || !isObject(definition)) return undefined;
  const frames = Array.isArray(history) ? history.filter((f): f is string => typeof f === 'string') : [];
  const definitionText = JSON.stringify(definition);
  const current =
    typeof revision === 'number' && Number.isSafeInteger(revision) && revision > 0 ? revision : 1;
  return {
    id,
    createdAt,
    ...(value.format === 2 && typeof epoch === 'string' ? { epoch } : {}),
    version,
    definition: definitionText,
    revision: current,
    revisions: readRevisions(value.revisions, { revision: current, createdAt, definition: definitionText }),
    state: new Map(Object.entries(state).map(([key, v]) => [key, JSON.stringify(v ?? null)])),
    history: value.format === 2 ? frames : [],
    ...(phase === 'deleting' ? { phase: 'deleting' as const } : {}),
    ...withRequests(readRequests(requests)),
  };
}

function withRequests(kept: StoredRequest[]): { requests?: StoredRequest[] } {
  return kept.length > 0 ? { requests: kept } : {};
}

function readRequests(value: unknown): StoredRequest[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (item): item is StoredRequest =>
      Array.isArray(item) &&
      typeof item[0] === 'string' &&
      typeof item[1] === 'number' &&
      typeof item[2] === 'string',
  );
}

/** The file's bytes, in `scratch` when it is large enough (else in a new, larger buffer). */
async function readInto(path: string, scratch: Buffer): Promise<{ bytes: Buffer; scratch: Buffer }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const buffer = size <= scratch.length ? scratch : Buffer.allocUnsafe(Math.max(size, scratch.length * 2));
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await file.read(buffer, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { bytes: buffer.subarray(0, filled), scratch: buffer };
  } finally {
    await file.close();
  }
}

export class FilePersistence implements PanelPersistence {
  private readonly slots = new Map<string, Slot>();
  private sequence = 0;

  constructor(
    private readonly directory: string,
    private readonly logger: Logger,
  ) {}

  async loadAll(budget: HistoryBudget = KEEP_ALL_HISTORY): Promise<PanelRecord[]> {
    const records: PanelRecord[] = [];
    await this.each((record) => {
      records.push(record);
    }, budget);
    return records;
  }

  async each(
    visit: (record: PanelRecord) => void | Promise<void>,
    budget: HistoryBudget = KEEP_ALL_HISTORY,
  ): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    // One buffer for every file (as large as the largest): reading leaves no garbage per file.
    let scratch: Buffer = Buffer.alloc(0);
    for (const name of (await readdir(this.directory)).sort()) {
      const path = join(this.directory, name);
      if (name.endsWith('.tmp')) {
        await rm(path, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      let record: PanelRecord | undefined;
      try {
        let bytes: Buffer;
        ({ bytes, scratch } = await readInto(path, scratch));
        record = readRecord(parseRecordBytes(bytes, budget));
        if (record === undefined || `${record.id}.json` !== name)
          throw new Error('not a panel record of a known format');
      } catch (error) {
        this.logger.error({ file: path, err: error }, 'unreadable panel file set aside as .corrupt');
        await rename(path, `${path}.corrupt`).catch(() => {});
        continue;
      }
      await visit(record);
    }
  }

  save(id: string, snapshot: () => string): void {
    if (!ID.test(id)) throw new Error(`panel id ${JSON.stringify(id)} cannot name a file`);
    const slot = this.slots.get(id);
    if (slot) {
      slot.snapshot = snapshot;
      slot.dirty = true;
      return;
    }
    const fresh: Slot = { snapshot, dirty: true, running: Promise.resolve() };
    this.slots.set(id, fresh);
    fresh.running = this.drain(id, fresh);
  }

  async remove(id: string): Promise<void> {
    const slot = this.slots.get(id);
    if (slot) {
      slot.dirty = false;
      await slot.running;
    }
    await rm(join(this.directory, `${id}.json`), { force: true });
  }

  /** Moves a file aside once its panel lives elsewhere (imported into a shared store). */
  async retire(id: string): Promise<void> {
    const path = join(this.directory, `${id}.json`);
    await rename(path, `${path}.imported`).catch(() => {});
  }

  async flush(): Promise<void> {
    while (this.slots.size > 0) {
      await Promise.all([...this.slots.values()].map((slot) => slot.running));
    }
  }

  private async drain(id: string, slot: Slot): Promise<void> {
    try {
      while (slot.dirty) {
        slot.dirty = false;
        const text = slot.snapshot();
        try {
          await this.writeAtomically(join(this.directory, `${id}.json`), text);
        } catch (error) {
          this.logger.error({ panelId: id, err: error }, 'writing panel state failed');
        }
      }
    } finally {
      this.slots.delete(id);
    }
  }

  private async writeAtomically(path: string, text: string): Promise<void> {
    this.sequence += 1;
    const temporary = `${path}.${process.pid}.${this.sequence}.tmp`;
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    const directory = await open(this.directory, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}
