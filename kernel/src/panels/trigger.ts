// Running a tool on behalf of a client (HTTP or WebSocket): look the tool up, check the arguments
// (their depth here, the tool's JSON Schema on a schema worker, queued fairly by panel) before any handler runs, then
// execute.

import type { Logger } from 'pino';
import { KernelError } from '../errors.js';
import { nestsDeeperThan } from '../json.js';
import type { SchemaValidator } from '../schemas/validator.js';
import { MAX_VALUE_DEPTH } from './definition.js';
import { type ExecutionOutcome, type Executor, StaleDefinitionError } from './executor.js';
import type { Panel } from './panel.js';
import { requestIdentity } from './requests.js';
import type { PanelRegistry } from './registry.js';

export interface TriggerRequest {
  readonly panelId: string;
  readonly tool: string;
  readonly args: unknown;
  readonly requestId?: string;
  /** The client's idempotency key (parsed, requests.ts): a retry with it is applied once. */
  readonly idempotencyKey?: string;
  /** See ExecutionRequest.beforeStart. */
  readonly beforeStart?: () => void;
  /** See ExecutionRequest.logger. */
  readonly logger?: Logger;
}

export interface TriggerContext {
  readonly registry: PanelRegistry;
  readonly executor: Executor;
  readonly schemas: SchemaValidator;
}

/**
 * Times an execution may find, under its lease, that another kernel switched the panel's
 * definition since this one loaded it: it then starts again on the current one (nothing ran).
 */
const STALE_RETRIES = 3;

export async function triggerTool(
  context: TriggerContext,
  request: TriggerRequest,
): Promise<ExecutionOutcome> {
  for (let attempt = 0; ; attempt += 1) {
    const panel = await context.registry.get(request.panelId, { verify: false });
    try {
      return await runOn(context, panel, request);
    } catch (error) {
      if (!(error instanceof StaleDefinitionError) || attempt >= STALE_RETRIES) throw error;
      context.registry.outdated(panel, error.revision);
    }
  }
}

async function runOn(
  context: TriggerContext,
  panel: Panel,
  request: TriggerRequest,
): Promise<ExecutionOutcome> {
  const tool = panel.tools.get(request.tool);
  if (tool === undefined) {
    const known = [...panel.tools.keys()];
    throw new KernelError(
      'TOOL_NOT_FOUND',
      `panel "${panel.id}" has no tool "${request.tool}" (tools: ${known.join(', ') || 'none'})`,
    );
  }
  const args = request.args ?? {};
  if (nestsDeeperThan(args, MAX_VALUE_DEPTH)) {
    throw new KernelError('INVALID_ARGS', `the arguments nest deeper than ${MAX_VALUE_DEPTH} levels`, [
      { path: '/', message: `nested deeper than ${MAX_VALUE_DEPTH} levels` },
    ]);
  }
  const argsText = JSON.stringify(args);
  if (tool.argsSchema !== undefined) {
    const problems = await context.schemas.validate(panel.id, tool.argsSchema, argsText);
    if (problems.length > 0) {
      throw new KernelError(
        'INVALID_ARGS',
        `arguments of ${request.tool} fail its schema: ${problems.map((problem) => `${problem.path} ${problem.message}`).join('; ')}`,
        problems,
      );
    }
  }
  return context.executor.run({
    panel,
    handler: tool,
    kind: 'tool',
    argsJson: Buffer.from(argsText),
    ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
    ...(request.idempotencyKey === undefined
      ? {}
      : { identity: requestIdentity(request.idempotencyKey, request.tool, argsText) }),
    ...(request.beforeStart === undefined ? {} : { beforeStart: request.beforeStart }),
    ...(request.logger === undefined ? {} : { logger: request.logger }),
  });
}
