// Applying a handler's state mutations to a panel's state. Keys are set as own data properties, so
// a key such as "__proto__" is stored like any other and cannot reach the object's prototype.

import type { StateMutation } from '../sandbox/types.js';

export type PanelState = Record<string, unknown>;

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
