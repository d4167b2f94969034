// How panels and executions look on the wire (HTTP bodies and WebSocket messages). Pure. A
// panel's state and a handler's values are spliced in as the JSON text the store keeps and the
// sandbox handed over, never parsed and re-encoded.

import { createHash } from 'node:crypto';
import type { PanelSummary, RevisionRecord } from '../store/types.js';
import type { ExecutionOutcome } from './executor.js';
import type { CachedState, Panel } from './panel.js';
import { mutationsText } from './state.js';

/**
 * `fields` as JSON with each of `texts` appended as a field whose value is that JSON text (an
 * undefined text leaves its field out).
 */
export function spliced(fields: Record<string, unknown>, texts: Record<string, string | undefined>): string {
  let text = JSON.stringify(fields).slice(0, -1);
  let empty = text.length === 1;
  for (const [name, json] of Object.entries(texts)) {
    if (json === undefined) continue;
    text += `${empty ? '' : ','}${JSON.stringify(name)}:${json}`;
    empty = false;
  }
  return `${text}}`;
}

/** `fields` as JSON with `"state": <state text>` appended. */
export function withState(
  fields: Record<string, unknown>,
  state: CachedState,
  texts: Record<string, string | undefined> = {},
): string {
  return spliced(fields, { state: state.json, ...texts });
}

export function panelSummary(panel: PanelSummary, subscribers: number) {
  return { ...panel, subscribers };
}

/** GET /panels/:id and the 201 of POST /panels (plus `extra` fields), as JSON text. */
export function panelDetails(
  panel: Panel,
  state: CachedState,
  subscribers: number,
  extra: Record<string, unknown> = {},
  extraTexts: Record<string, string | undefined> = {},
): string {
  const { definition } = panel;
  return withState(
    {
      id: panel.id,
      title: definition.title,
      ...(definition.description === undefined ? {} : { description: definition.description }),
      extensions: definition.extensions,
      tools: Object.fromEntries(
        Object.entries(definition.tools).map(([name, tool]) => [
          name,
          {
            ...(tool.description === undefined ? {} : { description: tool.description }),
            ...(tool.args === undefined ? {} : { args: tool.args }),
            capabilities: tool.capabilities,
            timeoutMs: panel.tools.get(name)?.timeoutMs,
          },
        ]),
      ),
      lifecycle: Object.keys(definition.lifecycle),
      revision: panel.revision,
      version: state.version,
      epoch: state.snapshot.epoch,
      subscribers,
      createdAt: panel.createdAt,
      ...extra,
    },
    state,
    extraTexts,
  );
}

/**
 * An execution's result as JSON text: `{status, returnValue?, stateMutations, events,
 * viewCommands, error?, logs, version, metrics}`, the handler's values spliced in as their text
 * (log lines are text already: they are stringified like the error).
 */
export function executionView(outcome: ExecutionOutcome): string {
  const events = outcome.events.map((event) => spliced({ name: event.name }, { payload: event.payloadJson }));
  const viewCommands = outcome.viewCommands.map((command) =>
    spliced(
      { type: command.type, ...(command.componentId == null ? {} : { componentId: command.componentId }) },
      { args: command.argsJson },
    ),
  );
  const head = spliced(
    { status: outcome.status },
    {
      returnValue: outcome.returnValueJson,
      stateMutations: mutationsText(outcome.stateMutations),
      events: `[${events.join(',')}]`,
      viewCommands: `[${viewCommands.join(',')}]`,
    },
  );
  const tail = JSON.stringify({
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    logs: outcome.logs,
    version: outcome.version,
    metrics: outcome.metrics,
    ...(outcome.replayed === undefined
      ? {}
      : {
          replayed: true,
          ...(outcome.replayed.returnValueOmitted ? { returnValueOmitted: true } : {}),
        }),
  });
  return `${head.slice(0, -1)},${tail.slice(1)}`;
}

/**
 * One kept revision as GET /panels/:id/revisions lists it: its number, when it became current,
 * and a digest of each handler's source (what tells two revisions' code apart at a glance).
 */
export function revisionSummary(record: RevisionRecord) {
  const definition = JSON.parse(record.definition) as {
    title?: string;
    tools?: Record<string, { handler?: string }>;
    lifecycle?: Record<string, { handler?: string }>;
  };
  const digests = (handlers: Record<string, { handler?: string }> | undefined) =>
    Object.fromEntries(
      Object.entries(handlers ?? {}).map(([name, spec]) => [
        name,
        `sha256:${createHash('sha256')
          .update(spec.handler ?? '')
          .digest('hex')}`,
      ]),
    );
  return {
    revision: record.revision,
    createdAt: record.createdAt,
    title: definition.title,
    tools: digests(definition.tools),
    lifecycle: digests(definition.lifecycle),
  };
}
