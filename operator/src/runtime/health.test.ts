import type { AddressInfo } from 'node:net';
import { Registry, Counter } from 'prom-client';
import { startHealthServer } from './health.js';

describe('the health server', () => {
  it('serves /healthz, /readyz and /metrics, and nothing else', async () => {
    let ready = false;
    const registry = new Registry();
    new Counter({ name: 'test_total', help: 'a test counter', registers: [registry] }).inc(3);
    const server = await startHealthServer(0, { live: () => true, ready: () => ready }, registry);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz?verbose`)).status).toBe(200);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      expect(await metrics.text()).toContain('test_total 3');
      expect((await fetch(`${base}/other`)).status).toBe(404);
      expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
    } finally {
      server.close();
    }
  });

  it('fails to start on a port that is taken', async () => {
    const first = await startHealthServer(0, { live: () => true, ready: () => true }, new Registry());
    const port = (first.address() as AddressInfo).port;
    try {
      await expect(
        startHealthServer(port, { live: () => true, ready: () => true }, new Registry()),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      first.close();
    }
  });
});
