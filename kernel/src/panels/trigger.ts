// Running a tool on behalf of a client (HTTP or WebSocket): look the tool up, validate the
// arguments against its JSON Schema before any handler runs, then execute.

import { KernelError } from '../errors.js';
import { describeArgsErrors } from './definition.js';
import type { ExecutionOutcome, Executor } from './executor.js';
import type { PanelRegistry } from './registry.js';

export interface TriggerRequest {
  readonly panelId: string;
  readonly tool: string;
  readonly args: unknown;
  readonly requestId?: string;
}

export async function triggerTool(
  registry: PanelRegistry,
  executor: Executor,
  request: TriggerRequest,
): Promise<ExecutionOutcome> {
  const panel = await registry.get(request.panelId, { verify: false });
  const tool = panel.tools.get(request.tool);
  if (tool === undefined) {
    const known = [...panel.tools.keys()];
    throw new KernelError(
      'TOOL_NOT_FOUND',
      `panel "${panel.id}" has no tool "${request.tool}" (tools: ${known.join(', ') || 'none'})`,
    );
  }
  const args = request.args ?? {};
  if (tool.validateArgs && !tool.validateArgs(args)) {
    const problems = describeArgsErrors(tool.validateArgs.errors);
    throw new KernelError(
      'INVALID_ARGS',
      `arguments of ${request.tool} fail its schema: ${problems.map((problem) => `${problem.path} ${problem.message}`).join('; ')}`,
      problems,
    );
  }
  return executor.run({
    panel,
    handler: tool,
    kind: 'tool',
    args,
    ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
  });
}
