// The OpenAPI 3.1 description of the HTTP API, served at /openapi.json. A test checks that its
// paths and methods are exactly the routes the Express app serves.

import { logLimits } from '@nexus/bridge/limits';
import { z } from 'zod';
import { kernelErrorCodes } from '../errors.js';
import { HANDLER_KINDS } from '../metrics.js';
import {
  MAX_TOOLS,
  MAX_VALUE_DEPTH,
  PANEL_ID,
  PANEL_ID_RULE,
  panelDefinitionSchema,
} from '../panels/definition.js';
import { MAX_REVISION } from './preconditions.js';

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const header = (description: string, schema: object = { type: 'string' }) => ({
  description,
  required: true,
  schema,
});
/** 429 and 503 always say when to retry (errors.ts retryAfterSeconds). */
const retryResponse = (description: string) => ({
  ...errorResponse(description),
  headers: { 'Retry-After': header('Seconds to wait before retrying', { type: 'integer', minimum: 0 }) },
});
/** A definition that compiles and mounts: clients (and conformance tools) can start from it. */
const COUNTER_EXAMPLE = {
  title: 'Counter',
  state: { count: 0 },
  tools: {
    increment: {
      description: 'Adds `by` (default 1) to the count',
      args: { type: 'object', properties: { by: { type: 'integer' } }, additionalProperties: false },
      capabilities: ['state:read:count', 'state:write:count'],
      handler: '$state.count += $args.by ?? 1; return $state.count',
    },
  },
};
const definitionBody = {
  required: true,
  content: { 'application/json': { schema: ref('PanelDefinition'), example: COUNTER_EXAMPLE } },
};
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
// Every route: the Host check runs first (hosts.ts), and any answer may be refused while more than
// HTTP_MAX_UNSENT_BYTES_TOTAL bytes of answers wait for slow readers (connection-guard.ts).
const HOST_REFUSED = errorResponse(
  "HOST_NOT_ALLOWED: the Host names none of the kernel's names (IP literals, localhost, its Service's names, ALLOWED_HOSTS)",
);
const UNSENT_OVERLOAD =
  'OVERLOADED: more than HTTP_MAX_UNSENT_BYTES_TOTAL bytes of answers wait for clients to read them';
/** 421 and 503; `unavailable` names the route's own reasons for a 503 (nothing was applied). */
function routeErrors(...unavailable: string[]) {
  return {
    '421': HOST_REFUSED,
    '503': retryResponse([...unavailable, UNSENT_OVERLOAD].join('; ')),
  };
}
const STORE_DOWN = 'STORE_UNAVAILABLE: the panel store cannot be reached';
const DRAINING = 'SHUTTING_DOWN: the kernel is draining';

/**
 * The body POST /panels and PUT /panels/{id} accept, as JSON Schema made from the validator itself
 * (panels/definition.ts), so the document states its bounds, patterns and required fields; with
 * the bounds the validator checks in code added: the tool count and this kernel's TIMEOUT_MS.
 */
function panelDefinitionJsonSchema(maxTimeoutMs: number | undefined): object {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(panelDefinitionSchema, {
    io: 'input',
    unrepresentable: 'any',
  });
  const bound = (node: unknown, key: string | undefined): void => {
    if (node === null || typeof node !== 'object') return;
    const object = node as Record<string, unknown>;
    if (key === 'tools' && object.type === 'object') object.maxProperties = MAX_TOOLS;
    if (key === 'timeoutMs' && maxTimeoutMs !== undefined) object.maximum = maxTimeoutMs;
    const properties = object.properties as Record<string, unknown> | undefined;
    for (const [name, child] of Object.entries(properties ?? {})) bound(child, name);
    bound(object.additionalProperties, undefined);
  };
  bound(schema, undefined);
  return schema;
}

/** The document's components.schemas: the error, the definition, panels and execution results. */
function schemas(maxTimeoutMs: number | undefined) {
  return {
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
    PanelDefinition: panelDefinitionJsonSchema(maxTimeoutMs),
    Panel: {
      type: 'object',
      required: [
        'id',
        'title',
        'extensions',
        'tools',
        'lifecycle',
        'revision',
        'version',
        'epoch',
        'subscribers',
        'createdAt',
        'state',
      ],
      properties: {
        id: { type: 'string' },
        title: { type: 'string' },
        description: { type: 'string' },
        extensions: { type: 'array', items: { type: 'string' } },
        tools: {
          type: 'object',
          description: 'By tool name',
          additionalProperties: {
            type: 'object',
            required: ['capabilities', 'timeoutMs'],
            properties: {
              description: { type: 'string' },
              args: { type: 'object', description: "The tool's JSON Schema for its arguments" },
              capabilities: { type: 'array', items: { type: 'string' } },
              timeoutMs: { type: 'integer' },
            },
          },
        },
        lifecycle: {
          type: 'array',
          description: 'The lifecycle handlers it has',
          items: { type: 'string', enum: ['mount', 'unmount', 'upgrade'] },
        },
        revision: {
          type: 'integer',
          minimum: 1,
          description: "The definition's revision (its ETag): 1 when created, one more for every change",
        },
        version: { type: 'integer', minimum: 0 },
        epoch: { type: 'string', description: "Names this panel's state history" },
        subscribers: { type: 'integer', minimum: 0 },
        createdAt: { type: 'string', format: 'date-time' },
        state: { type: 'object' },
      },
    },
    PanelSummary: {
      type: 'object',
      required: ['id', 'title', 'tools', 'version', 'createdAt', 'subscribers'],
      properties: {
        id: { type: 'string' },
        title: { type: 'string' },
        tools: { type: 'array', description: 'Tool names', items: { type: 'string' } },
        version: { type: 'integer', minimum: 0 },
        createdAt: { type: 'string', format: 'date-time' },
        subscribers: { type: 'integer', minimum: 0 },
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
        replayed: {
          type: 'boolean',
          enum: [true],
          description:
            "A retry answered from its Idempotency-Key record: nothing ran; status, returnValue, error and version are the first attempt's, and stateMutations, events, viewCommands and logs are empty",
        },
        returnValueOmitted: {
          type: 'boolean',
          enum: [true],
          description:
            'A replay whose return value was larger than IDEMPOTENCY_RESULT_BYTES and was not kept',
        },
      },
    },
  };
}

const ETAG = header('The revision of the definition, `"<revision>"`', {
  type: 'string',
  pattern: '^"[0-9]+"$',
});
const idempotencyKeyParameter = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', pattern: '^([\\x21\\x23-\\x7e]{1,128}|"[\\x21\\x23-\\x7e]{1,128}")$' },
  description:
    'Names this trigger so that a retry is applied once: a retry with the same key (on any kernel, for IDEMPOTENCY_TTL_SECONDS and the last IDEMPOTENCY_KEYS keyed triggers of the panel) is answered with the first outcome, `replayed: true`, and runs nothing',
};
const ifMatchParameter = {
  name: 'If-Match',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description:
    'Apply only if the panel is at this revision (its ETag, `"<revision>"`; `*`: at any revision of an existing panel); else 412 and nothing changes',
};
const PRECONDITION = errorResponse(
  "PRECONDITION_FAILED: If-Match names another revision (details: the panel's revision) or the panel does not exist",
);
/** The answer of a PUT or rollback that applied a definition (or found it applied already). */
function appliedPanel(execution: 'mount' | 'upgrade', ran: string) {
  return json({
    allOf: [
      ref('Panel'),
      {
        type: 'object',
        required: ['wsUrl', 'changed'],
        properties: {
          wsUrl: { type: 'string', description: "The panel's WebSocket URL" },
          changed: { type: 'boolean', description: 'false: the panel had this definition already' },
          [execution]: { ...ref('ExecutionResult'), description: ran },
        },
      },
    ],
  });
}

const definitionLinks = (id: string) => ({
  GetPanelDefinition: { operationId: 'getPanelDefinition', parameters: { id } },
  ListPanelRevisions: { operationId: 'listPanelRevisions', parameters: { id } },
  TriggerTool: { operationId: 'triggerTool', parameters: { id } },
  DeletePanel: { operationId: 'deletePanel', parameters: { id } },
});

function appliedResponse() {
  return {
    '200': {
      description: 'Switched to the definition (changed: true), or it was current already (changed: false)',
      headers: { ETag: ETAG },
      content: appliedPanel('upgrade', "The new definition's upgrade handler ran, with the old state"),
      links: definitionLinks('$response.body#/id'),
    },
  };
}

function definitionWriteErrors(unauthorized: object, ...badRequest: string[]) {
  return {
    '400': errorResponse(
      [...badRequest, 'COMPILATION_ERROR (with line and column)', 'INVALID_JSON'].join(', '),
    ),
    ...unauthorized,
    '404': errorResponse('PANEL_NOT_FOUND: it is being deleted'),
    '409': errorResponse('PANEL_LIMIT_REACHED'),
    '412': PRECONDITION,
    '413': errorResponse('PAYLOAD_TOO_LARGE'),
    '415': errorResponse('UNSUPPORTED_MEDIA_TYPE'),
    '422': errorResponse(
      'MOUNT_FAILED (a new panel) or UPGRADE_FAILED (the upgrade handler failed: the panel keeps its definition and state)',
    ),
    '429': retryResponse(
      'PANEL_BUSY: another request is creating or changing the panel, or argument schemas wait for a schema worker; nothing changed',
    ),
    ...routeErrors(DRAINING, 'OVERLOADED: the schema workers or the sandbox have no room', STORE_DOWN),
  };
}

/** PUT /panels/{id}: created (201) or applied (200), and what refuses a definition. */
function putResponses(unauthorized: object) {
  return {
    ...appliedResponse(),
    '201': {
      description: 'Created under this id',
      headers: { Location: header('/panels/{id}'), ETag: ETAG },
      content: appliedPanel('mount', 'The mount handler ran'),
      links: definitionLinks('$response.body#/id'),
    },
    ...definitionWriteErrors(
      unauthorized,
      `INVALID_PANEL_ID (the id is not ${PANEL_ID_RULE})`,
      'VALIDATION_FAILED',
    ),
  };
}

/**
 * The routes of a panel's definition besides PUT /panels/{id}: the definition with its ETag, the
 * kept revisions and rollback. Links lead from one to the next, so a stateful client walks them.
 */
function definitionPaths(unauthorized: object, revisionIdParameter: object) {
  const applied = appliedResponse();
  const writeErrors = (...badRequest: string[]) => definitionWriteErrors(unauthorized, ...badRequest);
  return {
    '/panels/{id}/definition': {
      parameters: [idParameter],
      get: {
        operationId: 'getPanelDefinition',
        summary: "The panel's definition as a PUT sends it, with its revision as the ETag",
        parameters: [
          {
            name: 'If-None-Match',
            in: 'header',
            required: false,
            schema: { type: 'string' },
            description: 'The ETag the client has: 304 while it is current',
          },
        ],
        responses: {
          '200': {
            description: 'The definition (defaults filled in)',
            headers: { ETag: ETAG },
            content: json(ref('PanelDefinition')),
            links: {
              NotModified: {
                operationId: 'getPanelDefinition',
                parameters: { id: '$request.path.id', 'header.If-None-Match': '$response.header.ETag' },
              },
              PutIfMatch: {
                operationId: 'putPanel',
                parameters: { id: '$request.path.id', 'header.If-Match': '$response.header.ETag' },
              },
            },
          },
          '304': { description: 'If-None-Match names the current revision', headers: { ETag: ETAG } },
          ...unauthorized,
          '404': errorResponse('PANEL_NOT_FOUND'),
          ...routeErrors(STORE_DOWN),
        },
      },
    },
    '/panels/{id}/revisions': {
      parameters: [idParameter],
      get: {
        operationId: 'listPanelRevisions',
        summary: 'The definitions the panel keeps (the last PANEL_REVISIONS), newest first',
        responses: {
          '200': {
            description: 'Kept revisions',
            content: json({
              type: 'object',
              required: ['id', 'revisions'],
              properties: {
                id: { type: 'string' },
                current: { type: 'integer', minimum: 1 },
                revisions: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['revision', 'createdAt', 'tools', 'lifecycle'],
                    properties: {
                      revision: { type: 'integer', minimum: 1 },
                      createdAt: { type: 'string', format: 'date-time' },
                      title: { type: 'string' },
                      tools: {
                        type: 'object',
                        description: "sha256 of each tool's handler source, by tool name",
                        additionalProperties: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
                      },
                      lifecycle: {
                        type: 'object',
                        description: "sha256 of each lifecycle handler's source",
                        additionalProperties: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
                      },
                    },
                  },
                },
              },
            }),
            links: {
              GetPanelRevision: {
                operationId: 'getPanelRevision',
                parameters: { id: '$response.body#/id', revision: '$response.body#/revisions/0/revision' },
              },
              Rollback: {
                operationId: 'rollbackPanel',
                parameters: { id: '$response.body#/id' },
                requestBody: { revision: '$response.body#/revisions/0/revision' },
              },
            },
          },
          ...unauthorized,
          '404': errorResponse('PANEL_NOT_FOUND'),
          ...routeErrors(STORE_DOWN),
        },
      },
    },
    '/panels/{id}/revisions/{revision}': {
      parameters: [idParameter, revisionIdParameter],
      get: {
        operationId: 'getPanelRevision',
        summary: 'One kept definition, with its revision as the ETag',
        responses: {
          '200': {
            description: 'The definition of that revision',
            headers: { ETag: ETAG },
            content: json(ref('PanelDefinition')),
          },
          '400': errorResponse(`VALIDATION_FAILED: the revision is not an integer from 1 to ${MAX_REVISION}`),
          ...unauthorized,
          '404': errorResponse('PANEL_NOT_FOUND or REVISION_NOT_FOUND'),
          ...routeErrors(STORE_DOWN),
        },
      },
    },
    '/panels/{id}/rollback': {
      parameters: [idParameter],
      post: {
        operationId: 'rollbackPanel',
        summary: "Switch back to a kept revision's definition: a PUT of it (a new revision; the state kept)",
        parameters: [ifMatchParameter],
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['revision'],
            properties: { revision: { type: 'integer', minimum: 1, maximum: MAX_REVISION } },
          }),
        },
        responses: {
          ...applied,
          '201': {
            description: 'The panel was deleted meanwhile and is created again from that revision',
            headers: { Location: header('/panels/{id}'), ETag: ETAG },
            content: appliedPanel('mount', 'The mount handler ran'),
          },
          ...writeErrors(`VALIDATION_FAILED (the revision is not an integer from 1 to ${MAX_REVISION})`),
          '404': errorResponse('PANEL_NOT_FOUND or REVISION_NOT_FOUND'),
        },
      },
    },
  };
}

/**
 * `auth`: whether the kernel checks bearer tokens (JWT_SECRET set); `maxTimeoutMs`: its TIMEOUT_MS,
 * the largest timeoutMs a handler may ask for. The document says what this kernel does.
 */
export function openApiDocument(
  version: string,
  options: { auth: boolean; maxTimeoutMs?: number } = { auth: true },
) {
  const unauthorized = options.auth
    ? { '401': errorResponse('UNAUTHORIZED: missing, malformed or expired bearer token') }
    : {};
  // A created panel's id leads to every route of that panel.
  const panelLinks = (id: string) => ({
    GetPanel: { operationId: 'getPanel', parameters: { id } },
    GetPanelState: { operationId: 'getPanelState', parameters: { id } },
    TriggerTool: { operationId: 'triggerTool', parameters: { id } },
    DeletePanel: { operationId: 'deletePanel', parameters: { id } },
    PutPanel: { operationId: 'putPanel', parameters: { id } },
    GetPanelDefinition: { operationId: 'getPanelDefinition', parameters: { id } },
    ListPanelRevisions: { operationId: 'listPanelRevisions', parameters: { id } },
    GetPanelLogs: { operationId: 'getPanelLogs', parameters: { id } },
  });
  const revisionParameter = {
    name: 'revision',
    in: 'path',
    required: true,
    schema: { type: 'integer', minimum: 1, maximum: MAX_REVISION },
    description: 'Revision number',
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Nexus workspace-kernel',
      version,
      description:
        'Hosts panels and runs their tool handlers in the QuickJS/WebAssembly sandbox. The WebSocket protocol (WS_PORT, /panels/{id}/ws) is described in docs/kernel.md.',
    },
    components: {
      ...(options.auth
        ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (HS256)' } } }
        : {}),
      schemas: schemas(options.maxTimeoutMs),
    },
    ...(options.auth ? { security: [{ bearer: [] }] } : {}),
    paths: {
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Liveness, version, uptime, panel count and runtime stats',
          security: [],
          responses: {
            '200': {
              description: 'Alive (status "draining" once shutdown has begun)',
              content: json({
                type: 'object',
                required: ['status', 'version', 'uptime', 'panels', 'runtime', 'config', 'store'],
                properties: {
                  status: { type: 'string', enum: ['ok', 'draining'] },
                  version: { type: 'string' },
                  uptime: { type: 'integer', description: 'Seconds since the kernel started serving' },
                  panels: {
                    type: ['integer', 'null'],
                    description: 'Panels of the whole store as last counted; null before the first count',
                  },
                  inFlight: { type: 'integer' },
                  queued: { type: 'integer' },
                  subscribers: { type: 'integer' },
                  runtime: { type: 'object', required: ['initialised'] },
                  config: { type: 'object' },
                  store: {
                    type: 'object',
                    required: ['kind', 'connected'],
                    properties: { kind: { type: 'string' }, connected: { type: 'boolean' } },
                  },
                },
              }),
            },
            ...routeErrors(),
          },
        },
      },
      '/ready': {
        get: {
          operationId: 'ready',
          summary: 'Readiness: 200 once the sandbox runtime is initialised and while not draining',
          security: [],
          responses: {
            '200': {
              description: 'Ready',
              content: json({
                type: 'object',
                required: ['status'],
                properties: { status: { const: 'ready' } },
              }),
            },
            '421': HOST_REFUSED,
            '503': {
              description: `Starting or draining ({status}), or ${UNSENT_OVERLOAD} (an error)`,
              headers: {
                'Retry-After': header('Seconds to wait before asking again', { type: 'integer', minimum: 0 }),
              },
              content: json({
                anyOf: [
                  {
                    type: 'object',
                    required: ['status'],
                    properties: { status: { enum: ['starting', 'draining'] } },
                  },
                  ref('Error'),
                ],
              }),
            },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics of the kernel and the sandbox',
          security: [],
          responses: {
            '200': {
              description: 'Prometheus text exposition',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...routeErrors(),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApiDocument',
          summary: 'This document',
          responses: {
            '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) },
            ...unauthorized,
            ...routeErrors(),
          },
        },
      },
      '/panels': {
        post: {
          operationId: 'createPanel',
          summary: 'Create a panel (compiles every handler, runs mount)',
          requestBody: definitionBody,
          responses: {
            '201': {
              description: 'Created',
              headers: { Location: header('/panels/{id}') },
              content: json({
                allOf: [
                  ref('Panel'),
                  {
                    type: 'object',
                    required: ['wsUrl'],
                    properties: {
                      wsUrl: { type: 'string', description: "The panel's WebSocket URL" },
                      mount: { ...ref('ExecutionResult'), description: 'The mount handler ran' },
                    },
                  },
                ],
              }),
              links: { ...panelLinks('$response.body#/id'), ListPanels: { operationId: 'listPanels' } },
            },
            '400': errorResponse(
              'VALIDATION_FAILED, COMPILATION_ERROR (with line and column) or INVALID_JSON',
            ),
            ...unauthorized,
            '409': errorResponse('PANEL_LIMIT_REACHED'),
            '413': errorResponse('PAYLOAD_TOO_LARGE'),
            '415': errorResponse('UNSUPPORTED_MEDIA_TYPE'),
            '422': errorResponse('MOUNT_FAILED'),
            '429': retryResponse(
              'PANEL_BUSY: too many argument schemas of new panels wait for a schema worker; nothing was created',
            ),
            ...routeErrors(
              DRAINING,
              'OVERLOADED: the schema workers or the sandbox have no room',
              STORE_DOWN,
            ),
          },
        },
        get: {
          operationId: 'listPanels',
          summary: 'List panels',
          responses: {
            '200': {
              description: 'Panels',
              content: json({
                type: 'object',
                required: ['panels', 'count'],
                properties: {
                  panels: { type: 'array', items: ref('PanelSummary') },
                  count: { type: 'integer', minimum: 0 },
                },
              }),
            },
            ...unauthorized,
            ...routeErrors(STORE_DOWN),
          },
        },
      },
      '/panels/{id}': {
        parameters: [idParameter],
        get: {
          operationId: 'getPanel',
          summary: 'Inspect a panel',
          responses: {
            '200': { description: 'The panel', content: json(ref('Panel')) },
            ...unauthorized,
            '404': errorResponse('PANEL_NOT_FOUND'),
            ...routeErrors(STORE_DOWN),
          },
        },
        put: {
          operationId: 'putPanel',
          summary:
            'Create the panel under this id, or switch it to this definition in one step on every kernel (its state kept, the upgrade handler run with it); the same definition again changes nothing',
          parameters: [
            {
              ...idParameter,
              schema: { type: 'string', pattern: PANEL_ID.source },
              description: `Panel id: ${PANEL_ID_RULE}`,
            },
            ifMatchParameter,
          ],
          requestBody: definitionBody,
          responses: putResponses(unauthorized),
        },
        delete: {
          operationId: 'deletePanel',
          summary: 'Destroy a panel (runs unmount)',
          responses: {
            '200': {
              description: 'Deleted',
              content: json({
                type: 'object',
                required: ['id', 'deleted'],
                properties: {
                  id: { type: 'string' },
                  deleted: { const: true },
                  unmount: { ...ref('ExecutionResult'), description: 'The unmount handler ran' },
                },
              }),
            },
            ...unauthorized,
            '404': errorResponse('PANEL_NOT_FOUND'),
            ...routeErrors(DRAINING, STORE_DOWN),
          },
        },
      },
      '/panels/{id}/state': {
        parameters: [idParameter],
        get: {
          operationId: 'getPanelState',
          summary: "Read a panel's state",
          responses: {
            '200': {
              description: 'State and version',
              content: json({
                type: 'object',
                required: ['version', 'epoch', 'state'],
                properties: {
                  version: { type: 'integer', minimum: 0 },
                  epoch: { type: 'string' },
                  state: { type: 'object' },
                },
              }),
            },
            ...unauthorized,
            '404': errorResponse('PANEL_NOT_FOUND'),
            ...routeErrors(STORE_DOWN),
          },
        },
      },
      '/panels/{id}/logs': {
        parameters: [idParameter],
        get: {
          operationId: 'getPanelLogs',
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
                        kind: { type: 'string', enum: HANDLER_KINDS },
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
            ...unauthorized,
            '404': errorResponse('PANEL_NOT_FOUND'),
            ...routeErrors(STORE_DOWN),
          },
        },
      },
      '/panels/{id}/trigger/{tool}': {
        parameters: [idParameter, toolParameter],
        post: {
          operationId: 'triggerTool',
          summary: "Run a tool; the body is its arguments (validated against the tool's JSON Schema)",
          parameters: [idempotencyKeyParameter],
          // Required as a JSON request: a POST without `Content-Type: application/json` is 415 even
          // when empty, so a cross-site form cannot run a tool. An empty JSON body means {}.
          requestBody: {
            required: true,
            description: `The arguments, checked against the tool's \`args\` schema (GET /panels/{id} shows it) and nesting at most ${MAX_VALUE_DEPTH} levels (400 INVALID_ARGS otherwise); an empty body (still sent as application/json) means {}`,
            content: json({}),
          },
          responses: {
            '200': {
              description: 'The execution result after the whole suspend/resume loop',
              content: json(ref('ExecutionResult')),
            },
            '400': errorResponse(
              'INVALID_ARGS (with the path of each problem), INVALID_JSON or INVALID_IDEMPOTENCY_KEY',
            ),
            ...unauthorized,
            '404': errorResponse('PANEL_NOT_FOUND or TOOL_NOT_FOUND'),
            '409': retryResponse(
              'REQUEST_IN_PROGRESS: an execution with this Idempotency-Key has not finished; nothing new ran',
            ),
            '413': errorResponse('PAYLOAD_TOO_LARGE'),
            '415': errorResponse('UNSUPPORTED_MEDIA_TYPE'),
            '422': errorResponse(
              'IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used for another tool or other arguments; nothing ran',
            ),
            '429': retryResponse('PANEL_BUSY: nothing ran'),
            '504': {
              ...errorResponse(
                'COMMIT_UNCONFIRMED: the store applied the change but did not confirm it; it may be applied. Retry-After only when the request carried an Idempotency-Key (the retry is then safe)',
              ),
              headers: {
                'Retry-After': {
                  ...header('Seconds to wait before retrying with the same Idempotency-Key', {
                    type: 'integer',
                    minimum: 0,
                  }),
                  required: false,
                },
              },
            },
            ...routeErrors(DRAINING, 'OVERLOADED: nothing ran', STORE_DOWN),
          },
        },
      },
      ...definitionPaths(unauthorized, revisionParameter),
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
