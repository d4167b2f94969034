// The panel definitions the steps create (POST /panels bodies, docs/kernel.md).

export const counter = {
  title: 'Counter',
  state: { count: 0 },
  tools: {
    increment: {
      args: { type: 'object', properties: { by: { type: 'number' } }, required: ['by'] },
      capabilities: ['state:read:*', 'state:write:count'],
      handler: '$state.count += $args.by; return $state.count',
    },
  },
};

/** Suspends on the http extension: the kernel fetches `url` from a server outside the pod. */
export const fetcher = {
  title: 'Fetcher',
  extensions: ['http'],
  tools: {
    hello: {
      args: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
      capabilities: ['ext:http'],
      handler: 'const response = await $ext.http.get($args.url); return response.body.hello',
    },
  },
};

/** Allocates until its instance's memory cap stops it: MEMORY_LIMIT, never the pod. */
export const bomb = {
  title: 'Memory bomb',
  tools: {
    explode: {
      handler: 'const chunks = []; for (;;) chunks.push(new Uint8Array(1 << 20).fill(1));',
    },
  },
};

/** Holds `mb` MiB of touched memory while parked on a slow server, so the pod's memory stays up. */
export const holder = {
  title: 'Holder',
  extensions: ['http'],
  tools: {
    hold: {
      args: {
        type: 'object',
        properties: { mb: { type: 'number' }, url: { type: 'string' }, timeoutMs: { type: 'number' } },
        required: ['mb', 'url', 'timeoutMs'],
      },
      capabilities: ['ext:http'],
      handler:
        'const block = new Uint8Array($args.mb << 20).fill(7); ' +
        'const response = await $ext.http.get($args.url, { timeoutMs: $args.timeoutMs }); ' +
        'return block.length + response.status',
    },
  },
};
