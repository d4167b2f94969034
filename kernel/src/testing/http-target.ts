// A real HTTP server on 127.0.0.1 that tests use as the target of the `http` extension.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tracked } from './cleanup.js';

export type Route = (request: IncomingMessage, body: string, response: ServerResponse) => unknown;

export interface HttpTarget {
  readonly port: number;
  readonly origin: string;
  /** Requests currently being handled, and the highest that number has been. */
  readonly concurrency: { current: number; peak: number };
  route(path: string, handler: Route): void;
  close(): Promise<void>;
}

export function json(response: ServerResponse, status: number, value: unknown): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

export async function startHttpTarget(): Promise<HttpTarget> {
  const routes = new Map<string, Route>();
  const concurrency = { current: 0, peak: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      concurrency.current += 1;
      concurrency.peak = Math.max(concurrency.peak, concurrency.current);
      response.on('close', () => {
        concurrency.current -= 1;
      });
      const route = routes.get(new URL(request.url ?? '/', 'http://x').pathname);
      if (route === undefined) {
        json(response, 404, { error: 'no route' });
        return;
      }
      Promise.resolve(route(request, Buffer.concat(chunks).toString('utf8'), response)).catch(() =>
        response.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    concurrency,
    route: (path, handler) => routes.set(path, handler),
    close: tracked(
      `HTTP target on port ${port}`,
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  };
}
