// A panel's state as the kernel holds it: the JSON text of each top-level key, in a Map (so a key
// such as "__proto__" is a key like any other). Pure helpers: build the object text, turn the
// sandbox's mutations into a segment's net change, apply it, encode PATCH frames. Values stay the
// JSON text the sandbox handed over: nothing here parses or re-encodes them.

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
 * A segment's net change, in the store's form: the last write of each key wins, and a delete of
 * a key the state did not have before the segment is dropped. A set without a value
 * (`$state.x = undefined`) stores null, as JSON would. Each key appears once, so what a segment
 * writes (its PATCH frame) is bounded by the state it leaves (MAX_STATE_BYTES) plus its deleted
 * keys, however often the handler rewrote them.
 */
export function storedMutations(
  before: ReadonlyMap<string, string>,
  mutations: readonly StateMutation[],
): StoredMutation[] {
  const last = new Map<string, StoredMutation>();
  for (const mutation of mutations) {
    // Re-inserted so that the net change lists keys in the order of their last write.
    last.delete(mutation.key);
    last.set(
      mutation.key,
      mutation.operation === 'delete'
        ? { key: mutation.key }
        : { key: mutation.key, json: mutation.valueJson ?? 'null' },
    );
  }
  return [...last.values()].filter((mutation) => mutation.json !== undefined || before.has(mutation.key));
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

/**
 * A REVISION frame around its version: the panel runs definition `revision` (its `tools`) from
 * this version on, and `mutations` (what its upgrade handler rewrote, often none) apply as a
 * PATCH's would. It takes a version of its own, so it is ordered with the PATCHes around it.
 */
export function revisionFrame(
  panelId: string,
  revision: number,
  tools: readonly string[],
  mutations: readonly StoredMutation[],
): { prefix: string; suffix: string } {
  return {
    prefix: `{"type":"REVISION","panelId":${JSON.stringify(panelId)},"revision":${revision},"tools":${JSON.stringify(tools)},"version":`,
    suffix: `,"mutations":${mutationsText(mutations)}}`,
  };
}
