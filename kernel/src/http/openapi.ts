// The OpenAPI 3.1 description of the HTTP API, served at /openapi.json. A test checks that its
// paths and methods are exactly the routes the Express app serves.

import { logLimits } from '@nexus/bridge/limits';
import { z } from 'zod';
import { kernelErrorCodes } from '../errors.js';
import { panelDefinitionSchema } from '../panels/definition.js';

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Panel id',
};
const toolParameter = {
  name: 'tool',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Tool name',
};
// Every route: the Host check runs first (hosts.ts), then auth when it is on.
function requestErrors(auth: boolean) {
  return {
    ...(auth ? { '401': errorResponse('Missing, malformed or expired bearer token') } : {}),
    '421': errorResponse(
      "HOST_NOT_ALLOWED: the Host names none of the kernel's names (IP literals, localhost, its Service's names, ALLOWED_HOSTS)",
    ),
  };
}

/**
 * The body POST /panels accepts, as JSON Schema made from the validator itself
 * (panels/definition.ts), so the document states its bounds, patterns and required fields.
 */
function panelDefinitionJsonSchema(): object {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(panelDefinitionSchema, {
    io: 'input',
    unrepresentable: 'any',
  });
  return schema;
}

/** `auth`: whether the kernel checks bearer tokens (JWT_SECRET set): the document says what it does. */
export function openApiDocument(version: string, options: { auth: boolean } = { auth: true }) {
  const authErrors = requestErrors(options.auth);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Nexus workspace-kernel',
      version,
      description:
        'Hosts panels and runs their tool handlers in the QuickJS/WebAssembly sandbox. The WebSocket protocol (WS_PORT, /panels/{id}/ws) is described in docs/kernel.md.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (HS256)' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: kernelErrorCodes },
                message: { type: 'string' },
                details: { description: 'Validation problems [{path, message}] or compilation location' },
              },
            },
            requestId: { type: 'string' },
          },
        },
        PanelDefinition: panelDefinitionJsonSchema(),
        Panel: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            title: { type: 'string' },
            description: { type: 'string' },
            extensions: { type: 'array', items: { type: 'string' } },
            tools: { type: 'object' },
            lifecycle: { type: 'array', items: { type: 'string' } },
            state: { type: 'object' },
            version: { type: 'integer' },
            subscribers: { type: 'integer' },
            createdAt: { type: 'string', format: 'date-time' },
          },
        },
        ExecutionResult: {
          type: 'object',
          required: ['status', 'stateMutations', 'events', 'viewCommands', 'logs', 'version', 'metrics'],
          properties: {
            status: { type: 'string', enum: ['success', 'error'] },
            returnValue: {},
            stateMutations: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  key: { type: 'string' },
                  value: {},
                  operation: { type: 'string', enum: ['set', 'delete'] },
                },
              },
            },
            events: {
              type: 'array',
              items: { type: 'object', properties: { name: { type: 'string' }, payload: {} } },
            },
            viewCommands: {
              type: 'array',
              items: {
                type: 'object',
                properties: { type: { type: 'string' }, componentId: { type: 'string' }, args: {} },
              },
            },
            error: {
              type: 'object',
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                stack: { type: 'string' },
                location: {
                  type: 'object',
                  properties: { line: { type: 'integer' }, column: { type: 'integer' } },
                },
              },
            },
            logs: {
              type: 'array',
              description: `The handler's console.* and $log lines (at most ${logLimits.maxLogLines} lines and ${logLimits.maxLogBytes} bytes an execution, ${logLimits.maxLogMessageBytes} bytes a line; a marker says how many were dropped beyond that), then the message and location of the error that ended it`,
              items: {
                type: 'object',
                required: ['level', 'message', 'atMs'],
                properties: {
                  level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'] },
                  message: { type: 'string' },
                  atMs: { type: 'number', description: 'Milliseconds since the execution started' },
                  location: {
                    type: 'object',
                    properties: { line: { type: 'integer' }, column: { type: 'integer' } },
                  },
                },
              },
            },
            version: {
              type: 'integer',
              description: "The panel's state version after this execution's last mutation",
            },
            metrics: { type: 'object' },
          },
        },
      },
    },
    ...(options.auth ? { security: [{ bearer: [] }] } : {}),
    paths: {
      '/health': {
        get: {
          summary: 'Liveness, version, uptime, panel count and runtime stats',
          security: [],
          responses: { '200': { description: 'Alive', content: json({ type: 'object' }) } },
        },
      },
      '/ready': {
        get: {
          summary: 'Readiness: 200 once the sandbox runtime is initialised and while not draining',
          security: [],
          responses: { '200': { description: 'Ready' }, '503': { description: 'Starting or draining' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics of the kernel and the sandbox',
          security: [],
          responses: {
            '200': {
              description: 'Prometheus text exposition',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          responses: {
            '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) },
            ...authErrors,
          },
        },
      },
      '/panels': {
        post: {
          summary: 'Create a panel (compiles every handler, runs mount)',
          requestBody: { required: true, content: json(ref('PanelDefinition')) },
          responses: {
            '201': {
              description: 'Created',
              content: json({
                allOf: [ref('Panel'), { type: 'object', properties: { wsUrl: { type: 'string' } } }],
              }),
            },
            '400': errorResponse(
              'VALIDATION_FAILED, COMPILATION_ERROR (with line and column) or INVALID_JSON',
            ),
            '409': errorResponse('PANEL_LIMIT_REACHED'),
            '413': errorResponse('PAYLOAD_TOO_LARGE'),
            '415': errorResponse('UNSUPPORTED_MEDIA_TYPE'),
            '422': errorResponse('MOUNT_FAILED'),
            '503': errorResponse('SHUTTING_DOWN'),
            ...authErrors,
          },
        },
        get: {
          summary: 'List panels',
          responses: {
            '200': {
              description: 'Panels',
              content: json({
                type: 'object',
                properties: { panels: { type: 'array' }, count: { type: 'integer' } },
              }),
            },
            ...authErrors,
          },
        },
      },
      '/panels/{id}': {
        parameters: [idParameter],
        get: {
          summary: 'Inspect a panel',
          responses: {
            '200': { description: 'The panel', content: json(ref('Panel')) },
            '404': errorResponse('PANEL_NOT_FOUND'),
            ...authErrors,
          },
        },
        delete: {
          summary: 'Destroy a panel (runs unmount)',
          responses: {
            '200': { description: 'Deleted, with the unmount result' },
            '404': errorResponse('PANEL_NOT_FOUND'),
            '503': errorResponse('SHUTTING_DOWN'),
            ...authErrors,
          },
        },
      },
      '/panels/{id}/state': {
        parameters: [idParameter],
        get: {
          summary: "Read a panel's state",
          responses: {
            '200': {
              description: 'State and version',
              content: json({
                type: 'object',
                properties: { state: { type: 'object' }, version: { type: 'integer' } },
              }),
            },
            '404': errorResponse('PANEL_NOT_FOUND'),
            ...authErrors,
          },
        },
      },
      '/panels/{id}/logs': {
        parameters: [idParameter],
        get: {
          summary:
            "Read a panel's recent log lines, fleet-wide (PANEL_LOG_LINES and PANEL_LOG_BYTES bound the ring); with auth on the token's scope must include panels:logs",
          parameters: [
            {
              name: 'since',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
              description: "Only the lines after this seq (a previous answer's `last`)",
            },
            {
              name: 'limit',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 1, maximum: 10_000 },
              description: 'At most this many lines, the newest (default: every line the ring keeps)',
            },
          ],
          responses: {
            '200': {
              description: 'The lines, oldest first',
              content: json({
                type: 'object',
                required: ['panelId', 'last', 'lines'],
                properties: {
                  panelId: { type: 'string' },
                  last: { type: 'integer', description: 'The newest seq assigned (0: none yet)' },
                  lines: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['seq', 'at', 'level', 'message', 'tool', 'kind', 'source'],
                      properties: {
                        seq: { type: 'integer' },
                        at: { type: 'integer', description: 'ms since the epoch' },
                        level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'] },
                        message: { type: 'string' },
                        tool: { type: 'string' },
                        kind: { type: 'string', enum: ['tool', 'mount', 'unmount'] },
                        source: { type: 'string', enum: ['handler', 'kernel'] },
                        requestId: { type: 'string' },
                        revision: { type: 'integer' },
                        location: {
                          type: 'object',
                          properties: { line: { type: 'integer' }, column: { type: 'integer' } },
                        },
                      },
                    },
                  },
                },
              }),
            },
            '400': errorResponse('BAD_REQUEST: since or limit is not an integer in range'),
            ...(options.auth
              ? { '403': errorResponse("FORBIDDEN: the token's scope does not include panels:logs") }
              : {}),
            '404': errorResponse('PANEL_NOT_FOUND'),
            '503': errorResponse('STORE_UNAVAILABLE, with Retry-After'),
            ...authErrors,
          },
        },
      },
      '/panels/{id}/trigger/{tool}': {
        parameters: [idParameter, toolParameter],
        post: {
          summary:
            "Run a tool; the body is its arguments (validated against the tool's JSON Schema; empty means {})",
          requestBody: { required: false, content: json({}) },
          responses: {
            '200': {
              description: 'The execution result after the whole suspend/resume loop',
              content: json(ref('ExecutionResult')),
            },
            '400': errorResponse('INVALID_ARGS (with the path of each problem) or INVALID_JSON'),
            '404': errorResponse('PANEL_NOT_FOUND or TOOL_NOT_FOUND'),
            '413': errorResponse('PAYLOAD_TOO_LARGE'),
            '415': errorResponse('UNSUPPORTED_MEDIA_TYPE'),
            '429': errorResponse('PANEL_BUSY, with Retry-After: nothing ran'),
            '503': errorResponse(
              'SHUTTING_DOWN, OVERLOADED or STORE_UNAVAILABLE, with Retry-After: nothing ran',
            ),
            ...authErrors,
          },
        },
      },
    },
  };
}

/** A documented path as a matcher, with the methods it answers (HEAD wherever GET is). */
export interface DocumentedRoute {
  readonly pattern: RegExp;
  readonly methods: readonly string[];
}

/** The methods an OpenAPI path item may hold, in the order `Allow` lists them. */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

/** The document's paths, so that what the kernel answers 405 for is what it documents. */
export function documentedRoutes(document: { paths: Record<string, object> }): DocumentedRoute[] {
  return Object.entries(document.paths).map(([path, item]) => {
    const documented = new Set(Object.keys(item).map((key) => key.toUpperCase()));
    if (documented.has('GET')) documented.add('HEAD');
    const methods = HTTP_METHODS.filter((method) => documented.has(method));
    const pattern = path
      .split('/')
      .map((segment) =>
        /^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    return { pattern: new RegExp(`^${pattern}$`), methods };
  });
}
