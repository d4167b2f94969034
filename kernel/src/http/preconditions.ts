// Conditional requests on a panel's definition (RFC 9110 §13): its ETag is its revision, `"<n>"`.
// `If-Match` makes a PUT or rollback apply only at the revision the client read; `If-None-Match`
// lets a client re-read the definition only when it changed.

import type { RevisionMatch } from '../panels/registry.js';

/** The largest revision a path or body may name: 15 decimal digits, a safe integer. */
export const MAX_REVISION = 10 ** 15 - 1;

/** The definition's entity tag. */
export function revisionTag(revision: number): string {
  return `"${revision}"`;
}

/** The strong tags of an `If-Match`/`If-None-Match` list (`*` as itself). */
function tags(header: string): string[] {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}

/**
 * What `If-Match` asks for, or undefined without one. `*` matches any revision of an existing
 * panel; weak tags never match (If-Match compares strongly); anything else matches nothing.
 */
export function ifMatch(header: string | undefined): RevisionMatch | undefined {
  if (header === undefined) return undefined;
  const listed = tags(header);
  return {
    header: header.length > 80 ? `${header.slice(0, 80)}…` : header,
    matches: (revision) => listed.some((tag) => tag === '*' || tag === revisionTag(revision)),
  };
}

/** Whether `If-None-Match` names the current revision (the client's copy is current: 304). */
export function noneMatch(header: string | undefined, revision: number): boolean {
  if (header === undefined) return false;
  // If-None-Match compares weakly: W/"3" names revision 3 too.
  return tags(header).some((tag) => tag === '*' || tag.replace(/^W\//, '') === revisionTag(revision));
}
