// /healthz, /readyz and /metrics on their own port.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthChecks {
  /** The process is alive and its event loop turns. */
  live(): boolean;
  /** Caches are synced: this process could lead right now. */
  ready(): boolean;
}

export function startHealthServer(port: number, checks: HealthChecks, registry: Registry): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    if (path === '/healthz') return checks.live() ? reply(200, 'ok\n') : reply(500, 'not live\n');
    if (path === '/readyz') return checks.ready() ? reply(200, 'ok\n') : reply(503, 'caches not synced\n');
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => reply(200, text, registry.contentType),
        (err: unknown) => reply(500, `metrics failed: ${String(err)}\n`),
      );
      return;
    }
    reply(404, 'not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
