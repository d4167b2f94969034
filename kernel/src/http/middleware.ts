// Cross-cutting HTTP middleware: request ids and access logs, metrics, CORS, auth, draining, the
// content-type check, and the JSON error responses.

import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { bearerToken } from '../auth.js';
import { KernelError, type KernelErrorCode, isKernelError, retryAfterSeconds } from '../errors.js';
import { requestLogLevel } from '../logger.js';
import type { HttpContext } from './context.js';
import { hostRefused } from './hosts.js';
import type { DocumentedRoute } from './openapi.js';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The path of a request target, for logs: query strings carry tokens (`?token=`) and keys. */
export function loggedPath(target: string): string {
  const end = target.search(/[?#]/);
  return end < 0 ? target : target.slice(0, end);
}

export function sendError(response: Response, error: KernelError): void {
  // Busy or unavailable, never the request's fault: worth a retry shortly.
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter !== undefined) response.setHeader('Retry-After', String(retryAfter));
  response.status(error.status).json({ error: error.toJSON(), requestId: response.req.id });
}

/** Request id (X-Request-Id in and out), a child logger, the access log line and the duration metric. */
export function requestContext(context: HttpContext): RequestHandler {
  return (request, response, next) => {
    const incoming = request.get('x-request-id');
    request.id = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    request.log = context.logger.child({ requestId: request.id });
    response.setHeader('X-Request-Id', request.id);
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = request.route
        ? `${request.baseUrl}${(request.route as { path: string }).path}`
        : 'unmatched';
      context.metrics.httpRequestDuration.observe(
        { method: request.method, route, status: String(response.statusCode) },
        seconds,
      );
      const path = loggedPath(request.originalUrl);
      request.log[requestLogLevel(path)](
        {
          method: request.method,
          path,
          route,
          status: response.statusCode,
          durationMs: Math.round(seconds * 1e6) / 1e3,
        },
        'request',
      );
    });
    next();
  };
}

export function cors(origins: readonly string[]): RequestHandler {
  const any = origins.includes('*');
  return (request, response, next) => {
    const origin = request.get('origin');
    if (origin !== undefined && (any || origins.includes(origin))) {
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Vary', 'Origin');
      response.setHeader('Access-Control-Expose-Headers', 'X-Request-Id');
      if (request.method === 'OPTIONS') {
        response.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
        response.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Request-Id');
        response.setHeader('Access-Control-Max-Age', '600');
        response.status(204).end();
        return;
      }
    }
    next();
  };
}

export function requireAuth(context: HttpContext): RequestHandler {
  return (request, response, next: NextFunction) => {
    // What the token grants stays with the request (routes that need a scope check it).
    context.verifyToken(bearerToken(request.get('authorization'))).then((grant) => {
      response.locals.grant = grant;
      next();
    }, next);
  };
}

/** Refuses new work (anything but reads) once shutdown has begun. */
export function refuseWhileDraining(context: HttpContext): RequestHandler {
  return (request, response, next) => {
    if (!context.status.draining) {
      next();
      return;
    }
    response.setHeader('Connection', 'close');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendError(
        response,
        new KernelError('SHUTTING_DOWN', 'the kernel is shutting down and accepts no new work'),
      );
      return;
    }
    next();
  };
}

function hasBody(request: Request): boolean {
  return (
    request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0
  );
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Whether the request says it carries JSON. `request.is` answers only for a request with a body;
 * a write without one (no Content-Length, no Transfer-Encoding) is judged by its header alone.
 */
function declaresJson(request: Request): boolean {
  if (hasBody(request)) return typeof request.is(JSON_TYPES) === 'string';
  const media = (request.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return media === 'application/json' || /^application\/[^/\s]+\+json$/.test(media);
}

// Methods that create or run things: they must say they carry JSON even without a body, so a
// cross-site form or `fetch` without a preflight (a "simple request") cannot run a tool.
const WRITES = new Set(['POST', 'PUT', 'PATCH']);

/** A body must be JSON, and a write must say so; anything else is 415 before it is read. */
export function requireJsonBody(): RequestHandler {
  return (request, response, next) => {
    if ((hasBody(request) || WRITES.has(request.method)) && !declaresJson(request)) {
      sendError(
        response,
        new KernelError(
          'UNSUPPORTED_MEDIA_TYPE',
          `expected Content-Type application/json, got ${request.get('content-type') ?? 'none'}`,
        ),
      );
      return;
    }
    next();
  };
}

/** Refuses a Host the kernel does not answer to (hosts.ts) with 421, naming it and the setting. */
export function requireAllowedHost(allowed: (host: string | undefined) => boolean): RequestHandler {
  return (request, response, next) => {
    const host = request.headers.host;
    if (allowed(host)) {
      next();
      return;
    }
    response.setHeader('Connection', 'close');
    sendError(response, hostRefused(host ?? ''));
  };
}

/**
 * 405 with `Allow` for a documented path asked with a method it does not answer (before auth and
 * body checks: no credentials or body make the method right). OPTIONS goes on to CORS.
 */
export function methodNotAllowed(routes: readonly DocumentedRoute[]): RequestHandler {
  return (request, response, next) => {
    if (request.method === 'OPTIONS') {
      next();
      return;
    }
    const route = routes.find((candidate) => candidate.pattern.test(request.path));
    if (route === undefined || route.methods.includes(request.method)) {
      next();
      return;
    }
    response.setHeader('Allow', route.methods.join(', '));
    sendError(
      response,
      new KernelError(
        'METHOD_NOT_ALLOWED',
        `${request.path} answers ${route.methods.join(', ')}, not ${request.method}`,
      ),
    );
  };
}

export function notFound(): RequestHandler {
  return (request, response) => {
    sendError(response, new KernelError('ROUTE_NOT_FOUND', `no route for ${request.method} ${request.path}`));
  };
}

const BODY_PARSER_ERRORS: Record<string, KernelErrorCode> = {
  'entity.parse.failed': 'INVALID_JSON',
  'entity.too.large': 'PAYLOAD_TOO_LARGE',
  'encoding.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'charset.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
};

export function errorHandler(context: HttpContext): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    if (response.headersSent) {
      request.log.error({ err: error }, 'error after the response started');
      response.destroy();
      return;
    }
    if (isKernelError(error)) {
      sendError(response, error);
      return;
    }
    const parserType = (error as { type?: string }).type;
    const parserCode = parserType === undefined ? undefined : BODY_PARSER_ERRORS[parserType];
    if (parserCode === 'PAYLOAD_TOO_LARGE') {
      sendError(
        response,
        new KernelError(
          parserCode,
          `the body is larger than BODY_LIMIT (${context.config.bodyLimitBytes} bytes)`,
        ),
      );
      return;
    }
    if (parserCode === 'INVALID_JSON') {
      sendError(
        response,
        new KernelError(parserCode, `the body is not valid JSON: ${(error as Error).message}`),
      );
      return;
    }
    if (parserCode !== undefined) {
      sendError(
        response,
        new KernelError(parserCode, `the body could not be read: ${(error as Error).message}`),
      );
      return;
    }
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendError(response, new KernelError('BAD_REQUEST', (error as Error).message));
      return;
    }
    request.log.error({ err: error }, 'request failed');
    sendError(response, new KernelError('INTERNAL_ERROR', `internal error (request id ${request.id})`));
  };
}
