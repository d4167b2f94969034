// The Express application: the Host check, 405 for a documented path's other methods, probes (no
// auth), then auth, the draining guard, the JSON body parser and the panel API, then JSON 404 and
// error handlers.

import express, { type Express } from 'express';
import type { HttpContext } from './context.js';
import {
  cors,
  errorHandler,
  methodNotAllowed,
  notFound,
  refuseWhileDraining,
  requestContext,
  requireAllowedHost,
  requireAuth,
  requireJsonBody,
} from './middleware.js';
import { documentedRoutes, openApiDocument } from './openapi.js';
import { panelRoutes } from './panel-routes.js';
import { probeRoutes } from './probe-routes.js';

export function createHttpApp(context: HttpContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(requestContext(context));
  app.use(requireAllowedHost(context.hostAllowed));
  app.use(cors(context.config.corsOrigins));
  const document = openApiDocument(context.version, {
    auth: context.config.auth !== undefined,
    maxTimeoutMs: context.config.runtime.timeoutMs,
  });
  app.use(methodNotAllowed(documentedRoutes(document)));
  app.use(probeRoutes(context));
  app.use(requireAuth(context));
  app.get('/openapi.json', (_request, response) => {
    response.json(document);
  });
  app.use(refuseWhileDraining(context));
  app.use(requireJsonBody());
  app.use(
    express.json({
      limit: context.config.bodyLimitBytes,
      strict: false,
      type: ['application/json', 'application/*+json'],
    }),
  );
  app.use(panelRoutes(context));
  app.use(notFound());
  app.use(errorHandler(context));
  return app;
}
