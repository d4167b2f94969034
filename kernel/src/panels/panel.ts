// A live panel: its definition, compiled handlers, state, state version and broadcast channel.

import type { ValidateFunction } from 'ajv';
import type { StateMutation } from '../sandbox/types.js';
import { Channel } from './channel.js';
import type { PanelDefinition } from './definition.js';
import { applyMutations, entryBytes, measureState, type PanelState } from './state.js';

/** A handler ready to run: its bytecode, capabilities and time budget. */
export interface HandlerSpec {
  readonly name: string;
  readonly hash: string;
  readonly bytecode: Buffer;
  readonly capabilities: readonly string[];
  readonly timeoutMs: number;
}

export interface ToolSpec extends HandlerSpec {
  readonly validateArgs?: ValidateFunction;
}

export interface PanelInit {
  readonly id: string;
  readonly definition: PanelDefinition;
  readonly tools: ReadonlyMap<string, ToolSpec>;
  readonly lifecycle: { readonly mount?: HandlerSpec; readonly unmount?: HandlerSpec };
  readonly extensionRegistry: Readonly<Record<string, readonly string[]>>;
  readonly state: PanelState;
  readonly version: number;
  readonly createdAt: string;
  /** The largest the state may grow to (MAX_STATE_BYTES, measured as JSON). */
  readonly maxStateBytes: number;
}

export class Panel {
  readonly id: string;
  readonly definition: PanelDefinition;
  readonly tools: ReadonlyMap<string, ToolSpec>;
  readonly lifecycle: { readonly mount?: HandlerSpec; readonly unmount?: HandlerSpec };
  readonly extensionRegistry: Readonly<Record<string, readonly string[]>>;
  readonly createdAt: string;
  readonly channel = new Channel();
  /** Called after every applied batch of mutations (persistence listens). */
  onChange: (panel: Panel) => void = () => {};
  readonly maxStateBytes: number;
  private currentState: PanelState;
  private currentVersion: number;
  private readonly keyBytes: Map<string, number>;
  private stateBytes: number;

  constructor(init: PanelInit) {
    this.id = init.id;
    this.definition = init.definition;
    this.tools = init.tools;
    this.lifecycle = init.lifecycle;
    this.extensionRegistry = init.extensionRegistry;
    this.createdAt = init.createdAt;
    this.currentState = init.state;
    this.currentVersion = init.version;
    this.maxStateBytes = init.maxStateBytes;
    this.keyBytes = measureState(init.state);
    this.stateBytes = [...this.keyBytes.values()].reduce((sum, bytes) => sum + bytes, 0);
  }

  /** The state's size as JSON (approximately: separators and braces are not counted). */
  get sizeBytes(): number {
    return this.stateBytes;
  }

  get state(): Readonly<PanelState> {
    return this.currentState;
  }

  /** Increases by one for every batch of mutations applied. */
  get version(): number {
    return this.currentVersion;
  }

  get extensions(): readonly string[] {
    return this.definition.extensions;
  }

  /**
   * Applies one batch atomically (synchronously) and returns the new version, or undefined without
   * changing anything when the batch would grow the state beyond maxStateBytes.
   */
  apply(mutations: readonly StateMutation[]): number | undefined {
    if (mutations.length === 0) return this.currentVersion;
    const sizes = new Map<string, number>();
    for (const mutation of mutations) {
      sizes.set(mutation.key, mutation.operation === 'delete' ? 0 : entryBytes(mutation.key, mutation.value));
    }
    let total = this.stateBytes;
    for (const [key, bytes] of sizes) total += bytes - (this.keyBytes.get(key) ?? 0);
    if (total > this.maxStateBytes && total > this.stateBytes) return undefined;
    applyMutations(this.currentState, mutations);
    for (const [key, bytes] of sizes) {
      if (bytes === 0) this.keyBytes.delete(key);
      else this.keyBytes.set(key, bytes);
    }
    this.stateBytes = total;
    this.currentVersion += 1;
    this.onChange(this);
    return this.currentVersion;
  }

  handlers(): HandlerSpec[] {
    const lifecycle = [this.lifecycle.mount, this.lifecycle.unmount].filter(
      (spec): spec is HandlerSpec => spec !== undefined,
    );
    return [...this.tools.values(), ...lifecycle];
  }
}
