// Panels and their state on disk, one JSON file per panel under PERSIST_DIR. Writes are atomic
// (temporary file, fsync, rename, fsync of the directory) and coalesced: at most one write per
// panel is in flight, and changes made meanwhile are written right after it, so a burst of
// mutations costs two writes, not one per mutation. flush() waits for everything pending.

import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PanelState } from './state.js';

export const RECORD_FORMAT = 1;
const ID = /^[A-Za-z0-9_-]{1,128}$/;

export interface PanelRecord {
  format: typeof RECORD_FORMAT;
  id: string;
  createdAt: string;
  definition: unknown;
  state: PanelState;
  version: number;
}

export interface PanelPersistence {
  loadAll(): Promise<PanelRecord[]>;
  /** Schedules a write of the record that `snapshot` returns when the write starts. */
  save(id: string, snapshot: () => PanelRecord): void;
  remove(id: string): Promise<void>;
  flush(): Promise<void>;
}

interface Slot {
  snapshot: () => PanelRecord;
  dirty: boolean;
  running: Promise<void>;
}

function isRecord(value: unknown): value is PanelRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<PanelRecord>;
  return (
    record.format === RECORD_FORMAT &&
    typeof record.id === 'string' &&
    ID.test(record.id) &&
    typeof record.createdAt === 'string' &&
    typeof record.state === 'object' &&
    record.state !== null &&
    !Array.isArray(record.state) &&
    typeof record.version === 'number'
  );
}

export class FilePersistence implements PanelPersistence {
  private readonly slots = new Map<string, Slot>();
  private sequence = 0;

  constructor(
    private readonly directory: string,
    private readonly logger: Logger,
  ) {}

  async loadAll(): Promise<PanelRecord[]> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const records: PanelRecord[] = [];
    for (const name of (await readdir(this.directory)).sort()) {
      const path = join(this.directory, name);
      if (name.endsWith('.tmp')) {
        await rm(path, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const record: unknown = JSON.parse(await readFile(path, 'utf8'));
        if (!isRecord(record) || `${record.id}.json` !== name)
          throw new Error('not a panel record of this format');
        records.push(record);
      } catch (error) {
        this.logger.error({ file: path, err: error }, 'unreadable panel file set aside as .corrupt');
        await rename(path, `${path}.corrupt`).catch(() => {});
      }
    }
    return records;
  }

  save(id: string, snapshot: () => PanelRecord): void {
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

  async flush(): Promise<void> {
    while (this.slots.size > 0) {
      await Promise.all([...this.slots.values()].map((slot) => slot.running));
    }
  }

  private async drain(id: string, slot: Slot): Promise<void> {
    try {
      while (slot.dirty) {
        slot.dirty = false;
        const text = JSON.stringify(slot.snapshot());
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
