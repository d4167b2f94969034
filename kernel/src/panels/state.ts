// A panel's state as the kernel holds it: the JSON text of each top-level key, in a Map (so a key
// such as "__proto__" is a key like any other). Pure helpers: build the object text, turn the
// sandbox's mutations into the store's, apply them, encode PATCH frames.

import type { StateMutation } from '../sandbox/types.js';
import type { StateEntries, StoredMutation } from '../store/types.js';

/** The JSON text of the state object. */
export function stateText(entries: ReadonlyMap<string, string>): string {
  let text = '{';
  let first = true;
  for (const [key, json] of entries) {
    text += `${first ? '' : ','}${JSON.stringify(key)}:${json}`;
    first = false;
  }
  return `${text}}`;
}

/** The state's entries from a parsed object (a definition's initial state). */
export function entriesOf(state: Record<string, unknown>): StateEntries {
  return new Map(Object.entries(state).map(([key, value]) => [key, JSON.stringify(value ?? null)]));
}

/**
 * The store's form of the sandbox's mutations: each value as JSON text; a set without a value
 * (`$state.x = undefined`) stores null, as JSON would. Throws when a value has no JSON form.
 */
export function storedMutations(mutations: readonly StateMutation[]): StoredMutation[] {
  return mutations.map((mutation) =>
    mutation.operation === 'delete'
      ? { key: mutation.key }
      : { key: mutation.key, json: JSON.stringify(mutation.value ?? null) },
  );
}

/** A copy of `entries` with the mutations applied in order. */
export function applied(
  entries: ReadonlyMap<string, string>,
  mutations: readonly StoredMutation[],
): StateEntries {
  const next = new Map(entries);
  for (const mutation of mutations) {
    if (mutation.json === undefined) next.delete(mutation.key);
    else next.set(mutation.key, mutation.json);
  }
  return next;
}

/** The mutations as the JSON array a PATCH carries: `[{key, value?, operation}]`. */
export function mutationsText(mutations: readonly StoredMutation[]): string {
  return `[${mutations
    .map((mutation) =>
      mutation.json === undefined
        ? `{"key":${JSON.stringify(mutation.key)},"operation":"delete"}`
        : `{"key":${JSON.stringify(mutation.key)},"value":${mutation.json},"operation":"set"}`,
    )
    .join(',')}]`;
}

/** A PATCH frame around its version: `prefix + version + suffix`. */
export function patchFrame(
  panelId: string,
  mutations: readonly StoredMutation[],
): { prefix: string; suffix: string } {
  return {
    prefix: `{"type":"PATCH","panelId":${JSON.stringify(panelId)},"version":`,
    suffix: `,"mutations":${mutationsText(mutations)}}`,
  };
}
