// How panels and executions look on the wire (HTTP bodies and WebSocket messages). Pure. A
// panel's state is spliced in as the JSON text the store keeps, never parsed and re-encoded.

import type { PanelSummary } from '../store/types.js';
import type { ExecutionOutcome } from './executor.js';
import type { CachedState, Panel } from './panel.js';

/** `fields` as JSON with `"state": <state text>` appended. */
export function withState(fields: Record<string, unknown>, state: CachedState): string {
  const text = JSON.stringify(fields);
  return `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}"state":${state.json}}`;
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
      version: state.version,
      epoch: state.snapshot.epoch,
      subscribers,
      createdAt: panel.createdAt,
      ...extra,
    },
    state,
  );
}

export function executionView(outcome: ExecutionOutcome) {
  return {
    status: outcome.status,
    ...(outcome.returnValue === undefined ? {} : { returnValue: outcome.returnValue }),
    stateMutations: outcome.stateMutations,
    events: outcome.events,
    viewCommands: outcome.viewCommands,
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    version: outcome.version,
    metrics: outcome.metrics,
  };
}
