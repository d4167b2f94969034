// The panel definition accepted by POST /panels: a strict zod schema (extra fields are rejected)
// and bounds on each tool's argument schema (its size and depth here; what validating against it
// may cost is analysed, and it is compiled and run, off the event loop: schemas/analysis.ts,
// schemas/validator.ts). Pure: no sandbox, no I/O.

import { z } from 'zod';
import { KernelError } from '../errors.js';
import { nestsDeeperThan } from '../json.js';

const NAME = /^[A-Za-z_$][\w$-]{0,63}$/;
const CAPABILITY = /^(?:state:(?:read|write):\S+|events:emit:\S+|view:update:\S+|ext:\S+)$/;
const MAX_HANDLER_BYTES = 256 * 1024;
/** An argument schema's JSON text and nesting: what compiling it in the schema worker may cost. */
export const MAX_SCHEMA_BYTES = 64 * 1024;
export const MAX_SCHEMA_DEPTH = 32;
/** Arguments and initial state nest at most this deep (the sandbox takes 128). */
export const MAX_VALUE_DEPTH = 64;

/** Tools a panel may have. */
export const MAX_TOOLS = 256;

/** Ids a client may choose (PUT /panels/:id): what the stores use as file names and key tags. */
export const PANEL_ID = /^[A-Za-z0-9_-]{1,128}$/;
export const PANEL_ID_RULE = '1-128 letters, digits, "_" or "-"';

const capabilities = z
  .array(
    z
      .string()
      .regex(
        CAPABILITY,
        'expected state:read:<key|*>, state:write:<key|*>, events:emit:<name|*>, view:update:<id|*> or ext:<name|*>',
      ),
  )
  .max(256)
  .default([]);

const handlerSource = z
  .string()
  .min(1, 'handler code is empty')
  .max(MAX_HANDLER_BYTES, `handler code is longer than ${MAX_HANDLER_BYTES} characters`);

const timeoutMs = z.number().int().min(1).optional();

const lifecycleHandler = z.strictObject({ capabilities, timeoutMs, handler: handlerSource });

const tool = z.strictObject({
  description: z.string().max(4096).optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  capabilities,
  timeoutMs,
  handler: handlerSource,
});

export const panelDefinitionSchema = z.strictObject({
  title: z.string().min(1).max(256),
  description: z.string().max(4096).optional(),
  state: z.record(z.string(), z.unknown()).default({}),
  extensions: z.array(z.string().regex(NAME)).max(32).default([]),
  tools: z
    .record(
      z.string().regex(NAME, 'tool names are 1-64 letters, digits, _, $ or -, not starting with a digit'),
      tool,
    )
    .default({})
    .refine((tools) => Object.keys(tools).length <= MAX_TOOLS, `at most ${MAX_TOOLS} tools`),
  lifecycle: z
    .strictObject({
      mount: lifecycleHandler.optional(),
      unmount: lifecycleHandler.optional(),
      /** Runs once when this definition replaces another (PUT /panels/:id), with the old state. */
      upgrade: lifecycleHandler.optional(),
    })
    .default({}),
});

export type PanelDefinition = z.infer<typeof panelDefinitionSchema>;
export type ToolDefinition = z.infer<typeof tool>;
export type LifecycleDefinition = z.infer<typeof lifecycleHandler>;

export interface ValidationProblem {
  path: string;
  message: string;
}

export interface DefinitionLimits {
  /** Largest timeoutMs a tool may ask for (TIMEOUT_MS). */
  maxTimeoutMs: number;
  /** Extension names the kernel provides. */
  extensions: readonly string[];
}

function pointer(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? '/'
    : `/${path.map((part) => String(part).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
}

/** Validates a panel definition; throws KernelError VALIDATION_FAILED listing every problem. */
export function parsePanelDefinition(body: unknown, limits: DefinitionLimits): PanelDefinition {
  const { definition, problems } = readPanelDefinition(body, limits);
  if (definition !== undefined && problems.length === 0) return definition;
  throw invalidDefinition(problems);
}

export function invalidDefinition(problems: readonly ValidationProblem[]): KernelError {
  return new KernelError(
    'VALIDATION_FAILED',
    `the panel definition is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
    problems,
  );
}

/**
 * The definition (when its shape is right) and every problem found, so a caller can add its own
 * (the argument schemas' compilation) to one list.
 */
export function readPanelDefinition(
  body: unknown,
  limits: DefinitionLimits,
): { definition?: PanelDefinition; problems: ValidationProblem[] } {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { problems: [{ path: '/', message: 'expected an object' }] };
  }
  const result = panelDefinitionSchema.safeParse(body);
  const problems: ValidationProblem[] = result.success
    ? []
    : result.error.issues.map((issue) => ({ path: pointer(issue.path), message: issue.message }));
  if (result.success) {
    const definition = result.data;
    definition.extensions.forEach((name, index) => {
      if (!limits.extensions.includes(name)) {
        problems.push({
          path: `/extensions/${index}`,
          message: `unknown extension "${name}" (available: ${limits.extensions.join(', ') || 'none'})`,
        });
      }
    });
    const handlers: [string, { timeoutMs?: number | undefined }][] = [
      ...Object.entries(definition.tools).map(([name, spec]): [string, ToolDefinition] => [
        `/tools/${name}`,
        spec,
      ]),
      ...Object.entries(definition.lifecycle).map(([name, spec]): [string, LifecycleDefinition] => [
        `/lifecycle/${name}`,
        spec,
      ]),
    ];
    for (const [path, spec] of handlers) {
      if (spec.timeoutMs !== undefined && spec.timeoutMs > limits.maxTimeoutMs) {
        problems.push({
          path: `${path}/timeoutMs`,
          message: `must be at most TIMEOUT_MS (${limits.maxTimeoutMs})`,
        });
      }
    }
    for (const [name, spec] of Object.entries(definition.tools)) {
      if (spec.args === undefined) continue;
      if (nestsDeeperThan(spec.args, MAX_SCHEMA_DEPTH)) {
        problems.push({
          path: `/tools/${name}/args`,
          message: `the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`,
        });
        continue;
      }
      const bytes = Buffer.byteLength(JSON.stringify(spec.args));
      if (bytes > MAX_SCHEMA_BYTES) {
        problems.push({
          path: `/tools/${name}/args`,
          message: `the schema is ${bytes} bytes of JSON; at most ${MAX_SCHEMA_BYTES}`,
        });
      }
    }
    if (nestsDeeperThan(definition.state, MAX_VALUE_DEPTH)) {
      problems.push({
        path: '/state',
        message: `the initial state nests deeper than ${MAX_VALUE_DEPTH} levels`,
      });
    }
    return { definition, problems };
  }
  return { problems };
}
