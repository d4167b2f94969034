// The panel API: create, list, inspect, read state, destroy, trigger a tool. Every panel lives
// in the store, so any kernel answers for any panel.

import { isIPv6 } from 'node:net';
import { Router, type Request, type Response } from 'express';
import { LOGS_SCOPE, type TokenGrant, requireScope } from '../auth.js';
import { logFailedExecution } from '../logger.js';
import { logQuery, logsView } from './log-routes.js';
import { parseIdempotencyKey } from '../panels/requests.js';
import { triggerTool } from '../panels/trigger.js';
import type { PutOutcome } from '../panels/registry.js';
import {
  executionView,
  panelDetails,
  panelSummary,
  revisionSummary,
  spliced,
  withState,
} from '../panels/views.js';
import { KernelError } from '../errors.js';
import { MAX_REVISION, ifMatch, noneMatch, revisionTag } from './preconditions.js';
import type { HttpContext } from './context.js';
import { hostName } from './hosts.js';

function sendJsonText(response: Response, status: number, text: string): void {
  response.status(status).type('application/json').send(text);
}

const HOST_SYNTAX = /^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)$/;

/**
 * The host of the panel's WebSocket URL: the name the client used (the Host check has accepted
 * it, so only a name this kernel answers to is ever echoed), else the address it reached.
 */
function wsHost(request: Request): string {
  const name = hostName(request.headers.host ?? '');
  // With ALLOWED_HOSTS=* any Host passes: only a well-formed name goes into the URL.
  if (HOST_SYNTAX.test(name)) return name;
  const local = request.socket.localAddress ?? '127.0.0.1';
  return isIPv6(local) ? `[${local}]` : local;
}

/**
 * A revision number: an integer from 1 to MAX_REVISION, written in decimal in a path and as a
 * JSON number in a body (a string there is refused, as the API document says).
 */
function revisionNumber(value: unknown, from: 'path' | 'body'): number {
  const number =
    from === 'path' && typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1 || number > MAX_REVISION) {
    throw new KernelError('VALIDATION_FAILED', `a revision is an integer from 1 to ${MAX_REVISION}`, [
      { path: '/revision', message: `expected an integer from 1 to ${MAX_REVISION}` },
    ]);
  }
  return number;
}

export function panelRoutes(context: HttpContext): Router {
  const router = Router();
  const { registry, feeds } = context;

  router.post('/panels', async (request, response) => {
    const { panel, mount } = await registry.create(request.body);
    request.log.info({ panelId: panel.id, tools: panel.tools.size }, 'panel created');
    response.location(`/panels/${panel.id}`);
    sendJsonText(
      response,
      201,
      panelDetails(
        panel,
        panel.state,
        feeds.size(panel.id),
        { wsUrl: `ws://${wsHost(request)}:${context.wsPort()}/panels/${panel.id}/ws` },
        { mount: mount === undefined ? undefined : executionView(mount) },
      ),
    );
  });

  // Creates the panel under the client's id, or switches it to a new definition (state kept).
  router.put('/panels/:id', async (request, response) => {
    const outcome = await registry.put(request.params.id, request.body, ifMatch(request.get('if-match')));
    sendPut(request, response, outcome);
  });

  // The definition alone: what a PUT sends, with its revision as the ETag.
  router.get('/panels/:id/definition', async (request, response) => {
    const panel = await registry.get(request.params.id);
    response.setHeader('ETag', revisionTag(panel.revision));
    if (noneMatch(request.get('if-none-match'), panel.revision)) {
      response.status(304).end();
      return;
    }
    sendJsonText(response, 200, panel.definitionText);
  });

  router.get('/panels/:id/revisions', async (request, response) => {
    const kept = await registry.revisions(request.params.id);
    response.json({
      id: request.params.id,
      current: kept.at(-1)?.revision,
      revisions: kept.map(revisionSummary).reverse(),
    });
  });

  router.get('/panels/:id/revisions/:revision', async (request, response) => {
    const kept = await registry.revision(request.params.id, revisionNumber(request.params.revision, 'path'));
    response.setHeader('ETag', revisionTag(kept.revision));
    sendJsonText(response, 200, kept.definition);
  });

  // One call back to an earlier definition: a PUT of it (a new revision; the state kept).
  router.post('/panels/:id/rollback', async (request, response) => {
    const body = request.body as { revision?: unknown } | undefined;
    const outcome = await registry.rollback(
      request.params.id,
      revisionNumber(body?.revision, 'body'),
      ifMatch(request.get('if-match')),
    );
    sendPut(request, response, outcome);
  });

  function sendPut(request: Request, response: Response, outcome: PutOutcome): void {
    const { panel } = outcome;
    request.log.info(
      { panelId: panel.id, revision: panel.revision, outcome: outcome.kind },
      'panel definition put',
    );
    if (outcome.kind === 'created') response.location(`/panels/${panel.id}`);
    response.setHeader('ETag', revisionTag(panel.revision));
    const execution =
      outcome.kind === 'created'
        ? { mount: outcome.mount === undefined ? undefined : executionView(outcome.mount) }
        : outcome.kind === 'updated'
          ? { upgrade: outcome.upgrade === undefined ? undefined : executionView(outcome.upgrade) }
          : {};
    sendJsonText(
      response,
      outcome.kind === 'created' ? 201 : 200,
      panelDetails(
        panel,
        panel.state,
        feeds.size(panel.id),
        {
          wsUrl: `ws://${wsHost(request)}:${context.wsPort()}/panels/${panel.id}/ws`,
          changed: outcome.kind !== 'unchanged',
        },
        execution,
      ),
    );
  }

  router.get('/panels', async (_request, response) => {
    const panels = (await registry.list()).map((panel) => panelSummary(panel, feeds.size(panel.id)));
    response.json({ panels, count: panels.length });
  });

  router.get('/panels/:id', async (request, response) => {
    const { panel, state } = await registry.state(request.params.id);
    sendJsonText(response, 200, panelDetails(panel, state, feeds.size(panel.id)));
  });

  router.get('/panels/:id/state', async (request, response) => {
    const { state } = await registry.state(request.params.id);
    sendJsonText(response, 200, withState({ version: state.version, epoch: state.snapshot.epoch }, state));
  });

  router.get('/panels/:id/logs', async (request, response) => {
    requireScope(response.locals.grant as TokenGrant | undefined, LOGS_SCOPE, "reading a panel's log lines");
    const { since, limit } = logQuery(request.query, context.config.panelRetention.logLines);
    sendJsonText(
      response,
      200,
      logsView(request.params.id, await context.store.readLogs(request.params.id, since, limit)),
    );
  });

  router.delete('/panels/:id', async (request, response) => {
    // The registry announces the deletion: this kernel's subscribers are told by the feeds.
    const { id, unmount } = await registry.delete(request.params.id);
    request.log.info({ panelId: id }, 'panel deleted');
    sendJsonText(
      response,
      200,
      spliced({ id, deleted: true }, { unmount: unmount === undefined ? undefined : executionView(unmount) }),
    );
  });

  router.post('/panels/:id/trigger/:tool', async (request, response) => {
    const idempotencyKey = parseIdempotencyKey(request.get('Idempotency-Key'));
    const outcome = await triggerTool(context, {
      panelId: request.params.id,
      tool: request.params.tool,
      args: request.body as unknown,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      // Admitted while the answers waiting for readers were few, it starts only if they still are:
      // a burst of triggers admitted together cannot all add their answers to the pile.
      beforeStart: context.assertResponseRoom,
      // The handler's log lines go to the kernel's log with this request's id.
      logger: request.log,
    });
    logFailedExecution(request.log, request.params.id, request.params.tool, outcome);
    // The handler's values are spliced in as the JSON text the sandbox handed over.
    sendJsonText(response, 200, executionView(outcome));
  });

  return router;
}
