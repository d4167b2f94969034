// One keep-alive HTTPS agent per set of TLS settings, shared by every request and watch.
// client-node makes a new https.Agent for each request, so each request opens a new connection
// and builds a new TLS context from the CA and client certificate: under a burst of applies that
// is hundreds of handshakes and their buffers, which fragment the process's off-heap memory.
import { createHash } from 'node:crypto';
import https from 'node:https';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

export class AgentPool {
  private readonly agents = new Map<string, https.Agent>();

  constructor(private readonly maxFreeSockets = 16) {}

  /** The pooled agent with the TLS settings of `agent` (client-node's throwaway one). */
  shared(agent: https.Agent): https.Agent {
    const options = agent.options as Partial<Record<(typeof TLS_OPTIONS)[number], unknown>>;
    const hash = createHash('sha256');
    const tls: https.AgentOptions = {};
    for (const name of TLS_OPTIONS) {
      const value = options[name];
      hash.update(`${name}=`);
      for (const part of [value].flat()) {
        if (typeof part === 'string' || Buffer.isBuffer(part)) hash.update(part);
        else if (part !== undefined) hash.update(JSON.stringify(part));
      }
      hash.update(';');
      if (value !== undefined) (tls as Record<string, unknown>)[name] = value;
    }
    const key = hash.digest('hex');
    let pooled = this.agents.get(key);
    if (!pooled) {
      // A rotated certificate makes a new key; the agent of the old one is no longer handed out.
      for (const old of this.agents.values()) old.destroy();
      this.agents.clear();
      pooled = new https.Agent({ ...tls, keepAlive: true, maxFreeSockets: this.maxFreeSockets });
      this.agents.set(key, pooled);
    }
    return pooled;
  }

  get size(): number {
    return this.agents.size;
  }

  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

/** A KubeConfig whose API clients and watches share pooled keep-alive agents. */
export class PooledKubeConfig extends KubeConfig {
  readonly agents = new AgentPool();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const agent = context.getAgent();
    if (agent instanceof https.Agent) context.setAgent(this.agents.shared(agent));
  }

  override async applyToFetchOptions(
    opts: https.RequestOptions,
  ): Promise<Awaited<ReturnType<KubeConfig['applyToFetchOptions']>>> {
    const init = await super.applyToFetchOptions(opts);
    if (init.agent instanceof https.Agent) init.agent = this.agents.shared(init.agent);
    return init;
  }
}
