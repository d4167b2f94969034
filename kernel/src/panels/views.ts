// How panels and executions look on the wire (HTTP bodies and WebSocket messages). Pure.

import type { ExecutionOutcome } from './executor.js';
import type { Panel } from './panel.js';

export function panelSummary(panel: Panel) {
  return {
    id: panel.id,
    title: panel.definition.title,
    tools: [...panel.tools.keys()],
    version: panel.version,
    subscribers: panel.channel.size,
    createdAt: panel.createdAt,
  };
}

export function panelDetails(panel: Panel) {
  const { definition } = panel;
  return {
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
    state: panel.state,
    version: panel.version,
    subscribers: panel.channel.size,
    createdAt: panel.createdAt,
  };
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
