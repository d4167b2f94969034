// A live panel: its definition, compiled handlers, state, state version and broadcast channel.

import type { ValidateFunction } from 'ajv';
import type { StateMutation } from '../sandbox/types.js';
import { Channel } from './channel.js';
import type { PanelDefinition } from './definition.js';
import { applyMutations, type PanelState } from './state.js';

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
  private currentState: PanelState;
  private currentVersion: number;

  constructor(init: PanelInit) {
    this.id = init.id;
    this.definition = init.definition;
    this.tools = init.tools;
    this.lifecycle = init.lifecycle;
    this.extensionRegistry = init.extensionRegistry;
    this.createdAt = init.createdAt;
    this.currentState = init.state;
    this.currentVersion = init.version;
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

  /** Applies one batch atomically (synchronously) and returns the new version. */
  apply(mutations: readonly StateMutation[]): number {
    if (mutations.length === 0) return this.currentVersion;
    applyMutations(this.currentState, mutations);
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
