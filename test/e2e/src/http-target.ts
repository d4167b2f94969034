// The HTTP server the kernels' `http` extension reaches: on the host's end of the node's veth, the
// only host address the pods can reach, and allowed by that address in allowedDomains.
//   GET /hello          {"hello": "world"}
//   GET /slow?ms=N      the same after N ms (handlers park on it, holding their memory)
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpTarget {
  /** `host:port`, the allowedDomains entry. */
  readonly address: string;
  readonly url: string;
  /** Requests answered so far. */
  readonly served: () => number;
  /** Requests waiting on /slow right now. */
  readonly parked: () => number;
  /** Answers every parked request at once. */
  readonly release: () => void;
  close(): Promise<void>;
}

export async function startHttpTarget(host: string): Promise<HttpTarget> {
  let served = 0;
  const waiting = new Set<() => void>();
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://target');
    const answer = (): void => {
      served += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: 'world' }));
    };
    if (url.pathname === '/hello') return answer();
    if (url.pathname === '/slow') {
      const timer = setTimeout(finish, Math.min(Number(url.searchParams.get('ms') ?? 0), 600_000));
      function finish(): void {
        clearTimeout(timer);
        waiting.delete(finish);
        answer();
      }
      waiting.add(finish);
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `${host}:${port}`,
    url: `http://${host}:${port}`,
    served: () => served,
    parked: () => waiting.size,
    release: () => [...waiting].forEach((finish) => finish()),
    close: () =>
      new Promise((resolve) => {
        [...waiting].forEach((finish) => finish());
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
