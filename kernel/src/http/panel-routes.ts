// The panel API: create, list, inspect, read state, destroy, trigger a tool.

import { Router } from 'express';
import { triggerTool } from '../panels/trigger.js';
import type { HttpContext } from './context.js';
import { executionView, panelDetails, panelSummary } from '../panels/views.js';

export function panelRoutes(context: HttpContext): Router {
  const router = Router();
  const { registry, executor } = context;

  router.post('/panels', async (request, response) => {
    const { panel, mount } = await registry.create(request.body);
    request.log.info({ panelId: panel.id, tools: panel.tools.size }, 'panel created');
    response
      .status(201)
      .location(`/panels/${panel.id}`)
      .json({
        ...panelDetails(panel),
        wsUrl: `ws://${request.hostname}:${context.wsPort()}/panels/${panel.id}/ws`,
        ...(mount === undefined ? {} : { mount: executionView(mount) }),
      });
  });

  router.get('/panels', (_request, response) => {
    const panels = registry.list().map(panelSummary);
    response.json({ panels, count: panels.length });
  });

  router.get('/panels/:id', (request, response) => {
    response.json(panelDetails(registry.get(request.params.id)));
  });

  router.get('/panels/:id/state', (request, response) => {
    const panel = registry.get(request.params.id);
    response.json({ state: panel.state, version: panel.version });
  });

  router.delete('/panels/:id', async (request, response) => {
    const { id, unmount } = await registry.delete(request.params.id);
    request.log.info({ panelId: id }, 'panel deleted');
    response.json({
      id,
      deleted: true,
      ...(unmount === undefined ? {} : { unmount: executionView(unmount) }),
    });
  });

  router.post('/panels/:id/trigger/:tool', async (request, response) => {
    const outcome = await triggerTool(registry, executor, {
      panelId: request.params.id,
      tool: request.params.tool,
      args: request.body as unknown,
    });
    response.json(executionView(outcome));
  });

  return router;
}
