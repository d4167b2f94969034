// The kernel's one list of error codes. Every JSON error body, WebSocket ERROR message and
// extension failure uses a code from here; docs/errors.md mirrors this list (checked by a test).

export const KernelErrors = {
  BAD_REQUEST: {
    status: 400,
    summary: 'The request could not be read (aborted upload, unsupported encoding or charset)',
  },
  INVALID_JSON: { status: 400, summary: 'The request body or WebSocket message is not valid JSON' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary: 'A POST or PUT, or any request with a body, came without Content-Type application/json',
  },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body is larger than BODY_LIMIT' },
  HOST_NOT_ALLOWED: {
    status: 421,
    summary:
      "The request's Host is not an IP address, localhost, the kernel's Service names or a name in ALLOWED_HOSTS",
  },
  ORIGIN_NOT_ALLOWED: {
    status: 403,
    summary:
      "A WebSocket upgrade came from a page whose Origin is neither in CORS_ORIGINS nor the request's own host",
  },
  VALIDATION_FAILED: {
    status: 400,
    summary: 'A panel definition fails its schema; `details` lists each problem with its path',
  },
  INVALID_ARGS: {
    status: 400,
    summary: "Trigger arguments fail the tool's JSON schema; `details` lists each problem with its path",
  },
  COMPILATION_ERROR: {
    status: 400,
    summary:
      'Handler code in a panel definition has a syntax error; `details` gives the tool, line and column',
  },
  MOUNT_FAILED: {
    status: 422,
    summary: "The panel's mount handler ended in an error; the panel was not created",
  },
  UPGRADE_FAILED: {
    status: 422,
    summary:
      "The new definition's upgrade handler ended in an error, called `$ext`, or left the state too large; the panel keeps its definition and state",
  },
  PRECONDITION_FAILED: {
    status: 412,
    summary:
      "`If-Match` names a revision other than the panel's current one (or the panel does not exist); nothing changed",
  },
  INVALID_PANEL_ID: {
    status: 400,
    summary: 'A panel id chosen by the client (PUT /panels/:id) is not 1-128 letters, digits, `_` or `-`',
  },
  INVALID_IDEMPOTENCY_KEY: {
    status: 400,
    summary:
      "An `Idempotency-Key` header (or a WebSocket TRIGGER's `idempotencyKey`) is not 1-128 visible ASCII characters",
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    summary:
      'The `Idempotency-Key` was used for another tool or other arguments of this panel within IDEMPOTENCY_TTL_SECONDS; nothing ran',
  },
  REQUEST_IN_PROGRESS: {
    status: 409,
    summary:
      'An execution with this `Idempotency-Key` started and has not finished (it waits on `$ext`); nothing new ran, retry after the `Retry-After` seconds for its outcome',
  },
  REVISION_NOT_FOUND: {
    status: 404,
    summary: 'The panel keeps no revision of this number (it keeps the last PANEL_REVISIONS)',
  },
  UNAUTHORIZED: {
    status: 401,
    summary: 'Auth is on and the bearer token is missing, malformed, badly signed or expired',
  },
  FORBIDDEN: {
    status: 403,
    summary:
      "Auth is on and the token is valid but does not grant this: reading a panel's log lines needs the `panels:logs` scope",
  },
  PANEL_NOT_FOUND: { status: 404, summary: 'No panel has this id' },
  TOOL_NOT_FOUND: { status: 404, summary: 'The panel has no tool of this name' },
  ROUTE_NOT_FOUND: { status: 404, summary: 'No route matches the method and path' },
  METHOD_NOT_ALLOWED: {
    status: 405,
    summary: 'The path exists but not with this method; `Allow` lists the methods it answers',
  },
  PANEL_LIMIT_REACHED: {
    status: 409,
    summary: 'MAX_PANELS panels exist already in the panel store (every kernel counts); delete one first',
  },
  PANEL_BUSY: {
    status: 429,
    summary:
      'PANEL_MAX_WAITERS executions of this kernel are already waiting for the panel, other executions held it for EXECUTION_DEADLINE_MS, or SCHEMA_PANEL_QUEUE_MAX of its argument checks wait for a schema worker; nothing ran, retry after the `Retry-After` seconds',
  },
  OVERLOADED: {
    status: 503,
    summary:
      'The kernel is too busy: EXECUTION_QUEUE_MAX executions wait to start, SCHEMA_QUEUE_MAX argument checks for the schema workers (or one waited past SCHEMA_WAIT_MS), WS_MAX_CONNECTIONS WebSockets are open, more than HTTP_MAX_UNSENT_BYTES_TOTAL bytes of answers wait for clients to read them, no sandbox instance came free within EXECUTION_DEADLINE_MS, or the panel lease of the kernel ended under a segment (it stalled past it, or the store failed over) and fencing refused it; nothing of the request was applied, retry after the `Retry-After` seconds',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    summary:
      'The panel store (Redis) cannot be reached, did not answer in time, or is full (its maxmemory reached: nothing was applied, deleting panels makes room); the kernel reconnects by itself, retry shortly',
  },
  COMMIT_UNCONFIRMED: {
    status: 504,
    summary:
      "The panel store applied the change on its primary but did not confirm it in time (its replicas, STORE_ACK_REPLICAS, did not within STORE_ACK_TIMEOUT_MS, or the answer was lost): it may be applied, or lost if the primary fails now. With an `Idempotency-Key` a retry is safe and carries `Retry-After`; without one, read the panel's state before retrying",
  },
  SHUTTING_DOWN: {
    status: 503,
    summary: 'The kernel is draining after SIGTERM/SIGINT and accepts no new work',
  },
  INTERNAL_ERROR: {
    status: 500,
    summary: 'An unexpected failure inside the kernel (logged with the request id)',
  },
  // WebSocket protocol
  MALFORMED_MESSAGE: {
    status: 400,
    summary: 'A WebSocket message is not an object with a known `type` and valid fields',
  },
  RATE_LIMITED: {
    status: 429,
    summary:
      'A WebSocket client sent more than WS_MAX_MESSAGES_PER_SECOND messages (or WS_MAX_SUBSCRIBES_PER_SECOND SUBSCRIBEs); the message was dropped',
  },
  TOO_MANY_CONNECTIONS: {
    status: 429,
    summary: 'This client address has WS_MAX_CONNECTIONS_PER_ADDRESS WebSocket connections open already',
  },
  TOO_MANY_IN_FLIGHT: {
    status: 429,
    summary: 'A WebSocket client has WS_MAX_IN_FLIGHT triggers running already',
  },
  // Extensions (reported to the handler as the rejection of its $ext call)
  EXTENSION_NOT_FOUND: {
    status: 400,
    summary: 'A panel names, or a handler calls, an extension the kernel does not provide',
  },
  EXTENSION_METHOD_NOT_FOUND: {
    status: 400,
    summary: 'A handler calls a method the extension does not have',
  },
  EXTENSION_NOT_ALLOWED: {
    status: 403,
    summary: 'A handler calls an extension its panel did not list in `extensions`',
  },
  DOMAIN_NOT_ALLOWED: {
    status: 403,
    summary: 'The http extension was asked for a URL whose host is not in HTTP_ALLOWED_DOMAINS',
  },
  ADDRESS_NOT_ALLOWED: {
    status: 403,
    summary:
      'An allowed host resolves only to loopback, private, link-local, metadata or reserved addresses that no address or CIDR entry of HTTP_ALLOWED_DOMAINS lists',
  },
  EXTENSION_TIMEOUT: { status: 504, summary: 'An extension call took longer than its timeout' },
  EXTENSION_FAILED: {
    status: 502,
    summary: 'An extension call failed (network error, bad arguments, response too large)',
  },
} as const satisfies Record<string, { status: number; summary: string }>;

export type KernelErrorCode = keyof typeof KernelErrors;

export const kernelErrorCodes = Object.keys(KernelErrors) as KernelErrorCode[];

/** An error the kernel reports to a client: a stable code, its HTTP status and optional details. */
export class KernelError extends Error {
  readonly code: KernelErrorCode;
  readonly status: number;
  readonly details: unknown;
  /** Seconds before a retry, when not the code's usual answer (see retryAfterSeconds). */
  readonly retryAfter: number | undefined;

  constructor(code: KernelErrorCode, message: string, details?: unknown, options?: { retryAfter?: number }) {
    super(message);
    this.name = 'KernelError';
    this.code = code;
    this.status = KernelErrors[code].status;
    this.details = details;
    this.retryAfter = options?.retryAfter;
  }

  toJSON(): { code: KernelErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * Seconds a client should wait before retrying, for the codes that mean "busy, not wrong" (every
 * 429 and 503) and the errors that say so themselves (a request still in progress, an unconfirmed
 * commit whose retry is safe): HTTP sends it as `Retry-After`, WebSocket ERROR messages as
 * `retryAfter`. One second: waiters drain and the store reconnects on that scale.
 */
export function retryAfterSeconds(error: KernelError): number | undefined {
  if (error.retryAfter !== undefined) return error.retryAfter;
  return error.status === 429 || error.status === 503 ? 1 : undefined;
}

export function isKernelError(value: unknown): value is KernelError {
  return value instanceof KernelError;
}
