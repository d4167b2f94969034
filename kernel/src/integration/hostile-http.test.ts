// Hostile HTTP clients against a kernel process: clients that pipeline requests and never read
// the answers cost a bounded amount of memory and are closed (HTTP_MAX_PIPELINED,
// HTTP_MAX_UNSENT_BYTES, HTTP_WRITE_TIMEOUT_MS); answers waiting for readers past
// HTTP_MAX_UNSENT_BYTES_TOTAL turn new requests away with 503 while the probes are answered; a
// flood of unauthenticated scrapes costs nothing beyond that; only the Host names a kernel is
// reached by are answered, WebSockets only from its own and the CORS origins, writes only as
// JSON; a WebSocket is closed with 4401 when its token expires. /health answers throughout.

import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { track } from '../testing/cleanup.js';
import { rssMiB, sampleRss, underAttack } from '../testing/attack.js';
import {
  type ChildKernel,
  TestSocket,
  makeDataDir,
  postJson,
  startChildKernel,
} from '../testing/kernel-harness.js';
import { eventually } from '../testing/eventually.js';

type Body = Record<string, unknown>;

/**
 * How much a kernel's RSS may grow while the non-reading clients below hold their connections:
 * two answers being produced and HTTP_MAX_UNSENT_BYTES unsent per connection, Node's buffers, and
 * the garbage of the attack itself. Without the bounds the same attacks add 400 MiB to 1.4 GiB.
 */
const RSS_GROWTH_MIB = 150;
/** The state read by the pipelining client: just under MAX_STATE_BYTES (1 MiB). */
const STATE_BYTES = 980_000;
/** A trigger result large enough that most of it stays unsent on a loopback connection. */
const RESULT_BYTES = 8_000_000;
const WRITE_TIMEOUT_MS = 4000;
/** MAX_INSTANCES of the kernels kernel-harness.ts starts. */
const HARNESS_MAX_INSTANCES = 4;
/** Non-reading clients that trigger at once in the burst test. */
const BURST = 30;
/**
 * Executions of the burst that may run: MAX_INSTANCES (4) start at once, and more start until the
 * answers waiting for readers exceed HTTP_MAX_UNSENT_BYTES_TOTAL. How many that takes depends on
 * how much of each 8 MB answer the loopback socket buffers absorb (the operating system's, not
 * the kernel's bytes): 4–12 runs on a quiet machine, 16 seen beside two busy loops. Without the
 * check at start all 30 run (each was admitted before any answer existed).
 */
const MAX_BURST_RUNS = 20;
/** How long the server may take to close the non-readers: the write timeout and its sweep, with room. */
const CLOSE_WITHIN_MS = 5 * WRITE_TIMEOUT_MS;

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

/** A raw TCP connection that writes `text` and never reads. */
function nonReader(url: string, text: string): { socket: Socket; closed: Promise<void> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  socket.pause();
  socket.write(text);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const untrack = track({
    name: `non-reading client of ${url}`,
    stop: async () => {
      socket.destroy();
      await closed;
    },
  });
  void closed.then(untrack);
  return { socket, closed };
}

/** One request with headers fetch() will not send as given (Host, Origin); status and body. */
function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, unknown>; body: Body }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: hostname,
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        timeout: 10_000,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Body = {};
          try {
            body = JSON.parse(text) as Body;
          } catch {
            body = { text };
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** The WebSocket upgrade's status: 101, or the refusal's status and body. */
function upgrade(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; socket?: WebSocket }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => resolve({ status: 101, body: '', socket }));
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        socket.terminate();
      });
    });
    socket.once('error', () => {});
  });
}

const closedSeries = (reason: string) => `nexus_kernel_http_connections_closed_total{reason="${reason}"}`;

/**
 * Whether the server closed `expected` (by default every client's) more connections for `reason`
 * within CLOSE_WITHIN_MS (a client that does not read does not see the close either: the kernel's
 * counter tells), then drops the clients.
 */
async function serverClosed(
  url: string,
  reason: string,
  before: number,
  clients: { socket: Socket }[],
  expected = clients.length,
): Promise<boolean> {
  const deadline = Date.now() + CLOSE_WITHIN_MS;
  let closed = false;
  while (!closed && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    closed = (await metricValue(url, closedSeries(reason))) >= before + expected;
  }
  for (const client of clients) client.socket.destroy();
  return closed;
}

async function metricValue(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** The sum of the series of /metrics that start with `prefix` and contain `label`. */
async function seriesSum(url: string, prefix: string, label: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(prefix) && line.includes(label))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const bigStatePanel = {
  title: 'Big',
  state: { big: '' },
  tools: {
    fill: {
      capabilities: ['state:write:big'],
      handler: `$state.big = 'x'.repeat(${STATE_BYTES}); return 1`,
    },
    large: { handler: `return 'y'.repeat(${RESULT_BYTES})` },
  },
};

describe('hostile HTTP clients', () => {
  let kernel: ChildKernel;

  beforeAll(async () => {
    kernel = await startChildKernel(
      {
        HTTP_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS),
        HTTP_MAX_UNSENT_BYTES_TOTAL: '16Mi',
        METRICS_CACHE_MS: '1000',
        ALLOWED_HOSTS: 'nexus.example.com,*.apps.example.org',
        SERVICE_NAME: 'nexus',
        SERVICE_NAMESPACE: 'tools',
        CORS_ORIGINS: 'https://ui.example.com',
      },
      await makeDataDir(),
    );
  }, 60_000);
  afterAll(async () => {
    kernel.process.kill('SIGTERM');
    await kernel.exited;
  });

  const create = async (definition: unknown): Promise<string> => {
    const created = await postJson(`${kernel.url}/panels`, definition);
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const pid = (): number => kernel.process.pid!;

  it('closes a connection that pipelines hundreds of reads of a 1 MB state and never reads; memory stays bounded', async () => {
    const id = await create(bigStatePanel);
    expect((await postJson(`${kernel.url}/panels/${id}/trigger/fill`, {})).status).toBe(200);
    const closedBefore = await metricValue(kernel.url, closedSeries('pipeline_overflow'));
    const before = rssMiB(pid());
    let peak = before;
    const attack = await underAttack(kernel.url, async () => {
      const reads = `GET /panels/${id}/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(400);
      const clients = Array.from({ length: 3 }, () => nonReader(kernel.url, reads));
      const sampling = sampleRss(pid());
      try {
        return await serverClosed(kernel.url, 'pipeline_overflow', closedBefore, clients);
      } finally {
        peak = sampling.stop();
      }
    });
    expect(attack.result).toBe(true);
    expect(attack.failedProbes).toBe(0);
    expect(peak - before).toBeLessThan(RSS_GROWTH_MIB);
  }, 60_000);

  it('holds a few pipelined answers for a client that does not read, then closes it after HTTP_WRITE_TIMEOUT_MS', async () => {
    const id = await create(bigStatePanel);
    expect((await postJson(`${kernel.url}/panels/${id}/trigger/fill`, {})).status).toBe(200);
    const closedBefore = await metricValue(kernel.url, closedSeries('write_timeout'));
    const before = rssMiB(pid());
    let peak = before;
    const attack = await underAttack(kernel.url, async () => {
      // Within HTTP_MAX_PIPELINED: the connection is kept, its answers produced as it reads.
      const reads = `GET /panels/${id}/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(60);
      const clients = Array.from({ length: 4 }, () => nonReader(kernel.url, reads));
      const sampling = sampleRss(pid());
      try {
        return await serverClosed(kernel.url, 'write_timeout', closedBefore, clients);
      } finally {
        peak = sampling.stop();
      }
    });
    expect(attack.result).toBe(true);
    expect(attack.failedProbes).toBe(0);
    expect(peak - before).toBeLessThan(RSS_GROWTH_MIB);
  }, 60_000);

  it('answers new requests with 503 and Retry-After while too many answers wait for readers, and the probes still', async () => {
    const id = await create(bigStatePanel);
    const trigger = `POST /panels/${id}/trigger/large HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
    const closedBefore = await metricValue(kernel.url, closedSeries('write_timeout'));
    const attack = await underAttack(kernel.url, async () => {
      const clients = Array.from({ length: 10 }, () => nonReader(kernel.url, trigger));
      // HTTP_MAX_UNSENT_BYTES_TOTAL is 16 MiB here; ten 8 MB answers exceed it until the write
      // timeout closes their connections.
      let refused = await rawRequest(kernel.url, { path: `/panels/${id}/state` });
      await eventually('a request refused while the answers wait for their readers', async () => {
        refused = await rawRequest(kernel.url, { path: `/panels/${id}/state` });
        return refused.status === 503 || undefined;
      });
      const health = await rawRequest(kernel.url, { path: '/health' });
      const ready = await rawRequest(kernel.url, { path: '/ready' });
      // The executions that started before the answers piled up (at least the harness'
      // MAX_INSTANCES, 4) hold an unread answer each; the others were refused at start.
      const closed = await serverClosed(
        kernel.url,
        'write_timeout',
        closedBefore,
        clients,
        HARNESS_MAX_INSTANCES,
      );
      // Served again once the write timeout has closed every non-reader that holds an answer (on
      // a busy machine more than MAX_INSTANCES may have started before the answers piled up).
      const after = await eventually(
        'requests served again once the non-readers were closed',
        async () => {
          const answer = await rawRequest(kernel.url, { path: `/panels/${id}/state` });
          return answer.status === 200 ? answer : undefined;
        },
        { timeoutMs: CLOSE_WITHIN_MS },
      ).catch(() => rawRequest(kernel.url, { path: `/panels/${id}/state` }));
      return { refused, health, ready, closed, after };
    });
    const { refused, health, ready, closed, after } = attack.result;
    expect(closed).toBe(true);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.error).toMatchObject({
      code: 'OVERLOADED',
      message: expect.stringMatching(
        /^\d+ bytes of responses .* more than HTTP_MAX_UNSENT_BYTES_TOTAL \(16777216\)$/,
      ) as string,
    });
    expect(health.status).toBe(200);
    expect(ready.status).toBe(200);
    // The non-readers were closed by the write timeout, which frees their answers.
    expect(after.status).toBe(200);
    expect(attack.failedProbes).toBe(0);
    expect(await metricValue(kernel.url, 'nexus_kernel_http_overloaded_total')).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('starts no trigger admitted in a burst once the answers waiting for readers exceed the kernel-wide bound', async () => {
    const id = await create({
      title: 'Burst',
      tools: { burst: { handler: `return 'y'.repeat(${RESULT_BYTES})` } },
    });
    const trigger = `POST /panels/${id}/trigger/burst HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
    const runsBefore = await seriesSum(kernel.url, 'nexus_kernel_handler_executions_total{', 'kind="tool"');
    const refusedBefore = await metricValue(kernel.url, 'nexus_kernel_http_overloaded_total');
    const before = rssMiB(pid());
    const rss = sampleRss(pid());
    // All of them are admitted at once, when nothing waits yet; each that runs adds 8 MB that its
    // client never reads. Only executions that start while at most HTTP_MAX_UNSENT_BYTES_TOTAL
    // (16 MiB) waits may run; the rest are refused with 503 before anything of them runs.
    const attack = await underAttack(kernel.url, async () => {
      const clients = Array.from({ length: BURST }, () => nonReader(kernel.url, trigger));
      let runs = 0;
      try {
        // Each run makes 8 MB in the sandbox: on a busy machine the burst takes a while.
        await eventually(
          'every trigger of the burst ran or was refused',
          async () => {
            runs =
              (await seriesSum(kernel.url, 'nexus_kernel_handler_executions_total{', 'kind="tool"')) -
              runsBefore;
            const refused =
              (await metricValue(kernel.url, 'nexus_kernel_http_overloaded_total')) - refusedBefore;
            return runs + refused >= BURST || undefined;
          },
          { timeoutMs: 90_000 },
        );
      } finally {
        // Closed whatever happened, so their unsent answers cannot refuse the next tests' requests.
        for (const client of clients) client.socket.destroy();
      }
      return runs;
    });
    const peak = rss.stop();
    expect(attack.result).toBeGreaterThanOrEqual(1);
    expect(attack.result).toBeLessThanOrEqual(MAX_BURST_RUNS);
    expect(attack.failedProbes).toBe(0);
    expect(peak - before).toBeLessThan(RSS_GROWTH_MIB);
  }, 120_000);

  it('serves a flood of pipelined unauthenticated scrapes from one rendering and closes the flooders', async () => {
    const closedBefore = await metricValue(kernel.url, closedSeries('pipeline_overflow'));
    const before = rssMiB(pid());
    let peak = before;
    const attack = await underAttack(kernel.url, async () => {
      const scrapes = 'GET /metrics HTTP/1.1\r\nHost: 10.1.2.3:3000\r\n\r\n'.repeat(20_000);
      const clients = Array.from({ length: 3 }, () => nonReader(kernel.url, scrapes));
      const sampling = sampleRss(pid());
      try {
        return await serverClosed(kernel.url, 'pipeline_overflow', closedBefore, clients);
      } finally {
        peak = sampling.stop();
      }
    });
    expect(attack.result).toBe(true);
    expect(attack.failedProbes).toBe(0);
    expect(peak - before).toBeLessThan(RSS_GROWTH_MIB);
    // Scrapes within METRICS_CACHE_MS get the same bytes (each rendering differs: it counts the
    // scrapes before it), so ten at once see at most two renderings (one may just have expired).
    const texts = await Promise.all(
      Array.from({ length: 10 }, () => fetch(`${kernel.url}/metrics`).then((response) => response.text())),
    );
    expect(new Set(texts).size).toBeLessThanOrEqual(2);
  }, 60_000);

  it.each([
    ['an IPv4 literal with a port (probes, scrapes)', '10.42.0.17:3000'],
    ['an IPv6 literal', '[fd00::17]:3000'],
    ['localhost on any port (kubectl port-forward)', 'localhost:49152'],
    ['127.0.0.1 without a port', '127.0.0.1'],
    ['[::1] on a forwarded port', '[::1]:8080'],
    ["the Service's name", 'nexus:3000'],
    ["the Service's name in its namespace", 'nexus.tools'],
    ["the Service's cluster name", 'nexus.tools.svc:3000'],
    ["the Service's full name", 'nexus.tools.svc.cluster.local:3000'],
    ['a name in ALLOWED_HOSTS', 'nexus.example.com'],
    ['a subdomain of an ALLOWED_HOSTS wildcard', 'team.apps.example.org:443'],
  ])('answers a request whose Host is %s', async (_name, host) => {
    const answer = await rawRequest(kernel.url, { path: '/panels', headers: { host } });
    expect(answer.status).toBe(200);
    const created = await rawRequest(kernel.url, {
      method: 'POST',
      path: '/panels',
      headers: { host, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Hosted' }),
    });
    expect(created.status).toBe(201);
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
    expect(created.body.wsUrl).toMatch(new RegExp(`^ws://${name.replace(/[.[\]]/g, '\\$&')}:\\d+/panels/`));
  });

  it.each([
    ['a rebound name', 'rebind.attacker.example'],
    ['a name ending like an allowed one', 'evilnexus.example.com:3000'],
    ['the wildcard domain itself is only its subdomains', 'apps.example.org'],
    ["the Service's name under another domain", 'nexus.tools.svc.attacker.example'],
  ])('refuses a request whose Host is %s with 421 naming it and ALLOWED_HOSTS', async (_name, host) => {
    for (const path of ['/panels', '/health']) {
      const answer = await rawRequest(kernel.url, { path, headers: { host } });
      expect(answer.status).toBe(421);
      expect(answer.body.error).toMatchObject({
        code: 'HOST_NOT_ALLOWED',
        message: expect.stringMatching(
          new RegExp(`${host.replace(/[.[\]]/g, '\\$&')}.*ALLOWED_HOSTS`),
        ) as string,
      });
    }
    const socket = await upgrade(`${kernel.wsUrl}/panels/any/ws`, { host });
    expect(socket.status).toBe(421);
    expect(socket.body).toContain('HOST_NOT_ALLOWED');
  });

  it("opens WebSockets without an Origin, from the kernel's own origin and from CORS_ORIGINS; refuses others with 403", async () => {
    const id = await create({ title: 'Socket' });
    const path = `${kernel.wsUrl}/panels/${id}/ws`;
    const wsHost = new URL(kernel.wsUrl).host;
    for (const headers of [
      {},
      { origin: `http://${wsHost}` },
      { origin: 'https://ui.example.com' },
    ] as Record<string, string>[]) {
      const opened = await upgrade(path, headers);
      expect(opened.status).toBe(101);
      opened.socket?.terminate();
    }
    for (const origin of ['https://attacker.example', 'http://localhost:1', 'null']) {
      const refused = await upgrade(path, { origin });
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toMatchObject({
        error: {
          code: 'ORIGIN_NOT_ALLOWED',
          message: expect.stringMatching(/Origin .*CORS_ORIGINS/) as string,
        },
      });
    }
  });

  it('runs nothing for a POST that does not say it carries JSON (415), and runs a JSON POST without a body', async () => {
    const id = await create({
      title: 'Counter',
      state: { count: 0 },
      tools: {
        bump: { capabilities: ['state:read:*', 'state:write:count'], handler: '$state.count += 1; return 1' },
      },
    });
    for (const headers of [
      {},
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
    ] as Record<string, string>[]) {
      const refused = await rawRequest(kernel.url, {
        method: 'POST',
        path: `/panels/${id}/trigger/bump`,
        headers,
      });
      expect(refused.status).toBe(415);
      expect(refused.body.error).toMatchObject({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: expect.stringContaining('application/json') as string,
      });
    }
    const created = await rawRequest(kernel.url, { method: 'POST', path: '/panels', body: '{"title":"x"}' });
    expect(created.status).toBe(415);
    const ran = await rawRequest(kernel.url, {
      method: 'POST',
      path: `/panels/${id}/trigger/bump`,
      headers: { 'content-type': 'application/json' },
    });
    expect(ran.status).toBe(200);
    const state = await (await fetch(`${kernel.url}/panels/${id}/state`)).json();
    expect((state as { state: { count: number } }).state.count).toBe(1);
  });
});

describe('a WebSocket and its token', () => {
  let kernel: ChildKernel;
  const key = new TextEncoder().encode(SECRET);
  const token = (expiresInSeconds: number) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
      .sign(key);

  beforeAll(async () => {
    kernel = await startChildKernel({ JWT_SECRET: SECRET, JWT_CLOCK_SKEW_SECONDS: '0' }, await makeDataDir());
  }, 60_000);
  afterAll(async () => {
    kernel.process.kill('SIGTERM');
    await kernel.exited;
  });

  it('closes the socket with 4401 when its token expires, and runs no TRIGGER after', async () => {
    const bearer = await token(3600);
    const created = await postJson(
      `${kernel.url}/panels`,
      {
        title: 'Counter',
        state: { count: 0 },
        tools: {
          bump: {
            capabilities: ['state:read:*', 'state:write:count'],
            handler: '$state.count += 1; return 1',
          },
        },
      },
      { authorization: `Bearer ${bearer}` },
    );
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const shortLived = await token(2);
    const client = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws?token=${shortLived}`);
    await client.ofType('CONNECTED');
    client.send({ type: 'TRIGGER', tool: 'bump', requestId: 'before' });
    await client.next((message) => message.requestId === 'before' && message.type === 'RESULT');
    const closed = await Promise.race([
      client.closed,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000)),
    ]);
    expect(closed).toEqual({ code: 4401, reason: 'token expired' });
    const state = await fetch(`${kernel.url}/panels/${id}/state`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(((await state.json()) as { state: { count: number } }).state.count).toBe(1);
    // The same token is refused over HTTP too.
    expect(
      (await fetch(`${kernel.url}/panels`, { headers: { authorization: `Bearer ${shortLived}` } })).status,
    ).toBe(401);
  });

  it('answers unauthenticated scrapes, flooded or not, without a token', async () => {
    expect((await fetch(`${kernel.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${kernel.url}/panels`)).status).toBe(401);
  });
});
