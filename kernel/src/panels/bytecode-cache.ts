// Handler bytecode, compiled once per distinct source (keyed by SHA-256) and shared by every panel
// that uses that source. Entries are reference-counted and dropped when no panel uses them.

import { createHash } from 'node:crypto';
import type { Sandbox } from '../sandbox/types.js';

export interface CompiledHandler {
  readonly hash: string;
  readonly bytecode: Buffer;
}

interface Entry {
  readonly compiled: Promise<Buffer>;
  references: number;
}

export class BytecodeCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly sandbox: Pick<Sandbox, 'compile'>,
    private readonly onLookup: (hit: boolean) => void = () => {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Returns the bytecode of `source`, compiling it on first use; rejects on a syntax error. */
  async acquire(source: string): Promise<CompiledHandler> {
    const hash = createHash('sha256').update(source).digest('hex');
    let entry = this.entries.get(hash);
    this.onLookup(entry !== undefined);
    if (entry === undefined) {
      entry = { compiled: this.sandbox.compile(source), references: 0 };
      this.entries.set(hash, entry);
    }
    entry.references += 1;
    try {
      return { hash, bytecode: await entry.compiled };
    } catch (error) {
      this.release(hash);
      throw error;
    }
  }

  release(hash: string): void {
    const entry = this.entries.get(hash);
    if (entry === undefined) return;
    entry.references -= 1;
    if (entry.references <= 0) this.entries.delete(hash);
  }
}
