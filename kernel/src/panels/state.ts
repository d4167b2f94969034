// Applying a handler's state mutations to a panel's state. Keys are set as own data properties, so
// a key such as "__proto__" is stored like any other and cannot reach the object's prototype.

import type { StateMutation } from '../sandbox/types.js';

export type PanelState = Record<string, unknown>;

/** The bytes one key takes in the state's JSON: the quoted key, the colon and the value. */
export function entryBytes(key: string, value: unknown): number {
  return Buffer.byteLength(JSON.stringify(key)) + 1 + Buffer.byteLength(JSON.stringify(value ?? null));
}

/** The size of each key of a state, for tracking the state's size as mutations arrive. */
export function measureState(state: PanelState): Map<string, number> {
  return new Map(Object.entries(state).map(([key, value]) => [key, entryBytes(key, value)]));
}

export function applyMutations(state: PanelState, mutations: readonly StateMutation[]): void {
  for (const mutation of mutations) {
    if (mutation.operation === 'delete') {
      delete state[mutation.key];
    } else {
      Object.defineProperty(state, mutation.key, {
        value: mutation.value ?? null,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  }
}
