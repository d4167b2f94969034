// A panel as this kernel holds it: its definition, compiled handlers and the last state it saw.
// The store is the truth; this is a cache entry (registry.ts bounds how many bytes of them live).

import type { PreparedSchema } from '../schemas/validator.js';
import type { StateSnapshot } from '../store/types.js';
import type { PanelDefinition } from './definition.js';
import { stateText } from './state.js';

/** A handler ready to run: its bytecode, capabilities and time budget. */
export interface HandlerSpec {
  readonly name: string;
  readonly hash: string;
  readonly bytecode: Buffer;
  readonly capabilities: readonly string[];
  readonly timeoutMs: number;
}

export interface ToolSpec extends HandlerSpec {
  /** The tool's argument schema, checked in the schema worker before the handler runs. */
  readonly argsSchema?: PreparedSchema;
}

/** The lifecycle handlers a definition may have. */
export interface LifecycleSpecs {
  readonly mount?: HandlerSpec;
  readonly unmount?: HandlerSpec;
  /** Runs once when this definition replaces another, with the old state. */
  readonly upgrade?: HandlerSpec;
}

export interface PanelInit {
  readonly id: string;
  readonly epoch: string;
  /** The definition's revision (1 for a new panel, one more for every change). */
  readonly revision: number;
  readonly definition: PanelDefinition;
  /** The definition's JSON text as the store keeps it. */
  readonly definitionText: string;
  readonly tools: ReadonlyMap<string, ToolSpec>;
  readonly lifecycle: LifecycleSpecs;
  readonly extensionRegistry: Readonly<Record<string, readonly string[]>>;
  readonly createdAt: string;
  readonly state: StateSnapshot;
}

/** A state snapshot with its object text and UTF-8 bytes, each built once when first needed. */
export class CachedState {
  private text?: string;
  private buffer?: Buffer;

  constructor(readonly snapshot: StateSnapshot) {}

  get version(): number {
    return this.snapshot.version;
  }

  get json(): string {
    this.text ??= stateText(this.snapshot.entries);
    return this.text;
  }

  /** What the sandbox reads (`stateJson`): one encoding per version, shared by every execution. */
  get bytes(): Buffer {
    this.buffer ??= Buffer.from(this.json);
    return this.buffer;
  }
}

export class Panel {
  readonly id: string;
  readonly epoch: string;
  readonly revision: number;
  readonly definition: PanelDefinition;
  readonly definitionText: string;
  readonly tools: ReadonlyMap<string, ToolSpec>;
  readonly lifecycle: LifecycleSpecs;
  readonly extensionRegistry: Readonly<Record<string, readonly string[]>>;
  readonly createdAt: string;
  private current: CachedState;
  private readonly fixedBytes: number;
  /** Told how many bytes the entry grew (or shrank) when its state changes. */
  onResize: (delta: number) => void = () => {};

  constructor(init: PanelInit) {
    this.id = init.id;
    this.epoch = init.epoch;
    this.revision = init.revision;
    this.definition = init.definition;
    this.definitionText = init.definitionText;
    this.tools = init.tools;
    this.lifecycle = init.lifecycle;
    this.extensionRegistry = init.extensionRegistry;
    this.createdAt = init.createdAt;
    this.current = new CachedState(init.state);
    let fixed = init.definitionText.length;
    for (const handler of this.handlers()) fixed += handler.bytecode.length;
    this.fixedBytes = fixed;
  }

  get extensions(): readonly string[] {
    return this.definition.extensions;
  }

  /** The newest state this kernel has seen (the store may be ahead). */
  get state(): CachedState {
    return this.current;
  }

  /** Keeps `snapshot` when it is newer than what is cached. */
  observe(snapshot: StateSnapshot): CachedState {
    if (snapshot.epoch !== this.current.snapshot.epoch || snapshot.version > this.current.version) {
      const before = this.footprint;
      this.current = new CachedState(snapshot);
      this.onResize(this.footprint - before);
    }
    return this.current;
  }

  /**
   * Bytes this entry keeps alive, for the cache's bound: the definition, the bytecode, and the
   * state twice (its entries and the encoded text handed to the sandbox).
   */
  get footprint(): number {
    return this.fixedBytes + this.current.snapshot.bytes * 2;
  }

  handlers(): HandlerSpec[] {
    const lifecycle = [this.lifecycle.mount, this.lifecycle.unmount, this.lifecycle.upgrade].filter(
      (spec): spec is HandlerSpec => spec !== undefined,
    );
    return [...this.tools.values(), ...lifecycle];
  }
}
