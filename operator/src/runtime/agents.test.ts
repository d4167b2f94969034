import https from 'node:https';
import { AgentPool, PooledKubeConfig } from './agents.js';

describe('AgentPool', () => {
  it('hands out one keep-alive agent for the same TLS settings', () => {
    const pool = new AgentPool();
    const a = pool.shared(new https.Agent({ ca: 'CA', rejectUnauthorized: true }));
    const b = pool.shared(new https.Agent({ ca: 'CA', rejectUnauthorized: true }));
    expect(b).toBe(a);
    expect((a.options as { keepAlive?: boolean }).keepAlive).toBe(true);
    expect((a.options as { ca?: string }).ca).toBe('CA');
    pool.destroy();
  });

  it('replaces the agent when the TLS settings change, as after a certificate rotation', () => {
    const pool = new AgentPool();
    const a = pool.shared(new https.Agent({ ca: 'CA-1' }));
    const b = pool.shared(new https.Agent({ ca: 'CA-2' }));
    expect(b).not.toBe(a);
    expect(pool.size).toBe(1);
    pool.destroy();
  });
});

describe('PooledKubeConfig', () => {
  it('gives fetch requests (watches) the pooled agent', async () => {
    const kc = new PooledKubeConfig();
    kc.loadFromOptions({
      clusters: [
        { name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from('CA').toString('base64') },
      ],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const first = await kc.applyToFetchOptions({});
    const second = await kc.applyToFetchOptions({});
    expect(first.agent).toBeInstanceOf(https.Agent);
    expect(second.agent).toBe(first.agent);
    kc.agents.destroy();
  });
});
