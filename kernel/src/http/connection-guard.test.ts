import { createServer, type RequestListener, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tracked } from '../testing/cleanup.js';
import {
  type ConnectionCloseReason,
  type ConnectionLimits,
  createConnectionGuard,
} from './connection-guard.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const limits: ConnectionLimits = {
  pipelineDepth: 2,
  maxPipelined: 8,
  maxUnsentBytes: 64 * 1024,
  maxUnsentBytesTotal: 1024 * 1024,
  writeTimeoutMs: 300,
};

interface Harness {
  port: number;
  readonly closed: ConnectionCloseReason[];
  overloaded: number;
}

async function serve(app: RequestListener, overrides: Partial<ConnectionLimits> = {}): Promise<Harness> {
  const harness: Harness = { port: 0, closed: [], overloaded: 0 };
  const guard = createConnectionGuard({ ...limits, ...overrides }, app, {
    closed: (reason) => harness.closed.push(reason),
    overloaded: () => (harness.overloaded += 1),
  });
  const server: Server = createServer(guard.listener);
  guard.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(
    tracked('connection guard test server', () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    }),
  );
  harness.port = (server.address() as AddressInfo).port;
  return harness;
}

/** Writes `text` on a new connection; reads (and records) what comes back only when `read`. */
function client(port: number, text: string, read: boolean): { socket: Socket; received: () => string } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let received = '';
  if (read) socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  else socket.pause();
  socket.write(text);
  stops.push(
    tracked('connection guard test client', () => {
      socket.destroy();
      return Promise.resolve();
    }),
  );
  return { socket, received: () => received };
}

/** An answer much larger than what a loopback connection's buffers take in. */
const BIG = 16 * 1024 * 1024;
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await wait(10);
  }
}

describe('the HTTP connection guard', () => {
  it('handles HTTP_PIPELINE_DEPTH requests of a connection at once and answers all in order', async () => {
    let running = 0;
    let most = 0;
    let served = 0;
    const harness = await serve((request, response) => {
      running += 1;
      most = Math.max(most, running);
      setTimeout(() => {
        running -= 1;
        served += 1;
        response.end(request.url);
      }, 5);
    });
    const reader = client(harness.port, [1, 2, 3, 4, 5, 6].map((n) => get(`/${n}`)).join(''), true);
    await until(() => served === 6);
    await until(() => (reader.received().match(/HTTP\/1\.1 200/g) ?? []).length === 6);
    expect(most).toBe(2);
    expect(
      reader
        .received()
        .replace(/[\s\S]*?\r\n\r\n(\/\d)/g, '$1 ')
        .trim(),
    ).toBe('/1 /2 /3 /4 /5 /6');
  });

  it('closes a connection with more than HTTP_MAX_PIPELINED requests waiting, running none of them', async () => {
    let started = 0;
    const harness = await serve(() => {
      started += 1;
      // Never answers: every later request waits.
    });
    client(harness.port, get('/x').repeat(50), false);
    await until(() => harness.closed.length === 1);
    expect(harness.closed).toEqual(['pipeline_overflow']);
    expect(started).toBe(2);
  });

  it('produces no further answer while HTTP_MAX_UNSENT_BYTES wait to be read, and closes the connection after HTTP_WRITE_TIMEOUT_MS', async () => {
    let served = 0;
    const harness = await serve((_request, response) => {
      served += 1;
      response.end(Buffer.alloc(BIG));
    });
    client(harness.port, get('/big').repeat(8), false);
    await until(() => harness.closed.length === 1);
    expect(harness.closed).toEqual(['write_timeout']);
    // The first two answers were produced; the rest waited for a reader that never came.
    expect(served).toBeLessThanOrEqual(2);
  });

  it('refuses new requests with 503 and Retry-After over HTTP_MAX_UNSENT_BYTES_TOTAL, but answers /health and /ready', async () => {
    const harness = await serve(
      (request, response) => {
        if (request.url === '/big') response.end(Buffer.alloc(BIG));
        else response.end('ok');
      },
      { writeTimeoutMs: 60_000 },
    );
    client(harness.port, get('/big'), false);
    await wait(200);
    const reader = client(harness.port, get('/other') + get('/health') + get('/ready'), true);
    await until(() => (reader.received().match(/HTTP\/1\.1/g) ?? []).length === 3);
    const statuses = [...reader.received().matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => match[1]);
    expect(statuses).toEqual(['503', '200', '200']);
    expect(reader.received()).toContain('Retry-After: 1');
    expect(reader.received()).toContain('HTTP_MAX_UNSENT_BYTES_TOTAL');
    expect(harness.overloaded).toBe(1);
  });
});
