// The pressure suite's client: it honours Retry-After, and its bounds make a kernel that answers
// 503 forever end in an unserved request rather than a pass or a hang.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRetryAfter, RetryingClient, verdictOf } from './retrying-client.js';

type Answer = { status: number; headers?: Record<string, string>; body: unknown };

async function serve(
  answers: (n: number) => Answer,
): Promise<{ url: string; server: Server; seen: () => number }> {
  let n = 0;
  const server = createServer((_request, response) => {
    const answer = answers(n);
    n += 1;
    response
      .writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
      .end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server, seen: () => n };
}

const client = (budgetMs: number, maxAttempts = 30) =>
  new RetryingClient({
    maxAttempts,
    deadline: Date.now() + budgetMs,
    maxWaitMs: 5000,
    attemptTimeoutMs: 5000,
  });

const overloaded: Answer = {
  status: 503,
  headers: { 'retry-after': '0' },
  body: { error: { code: 'OVERLOADED' } },
};

describe('RetryingClient', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });

  it('retries 429 and 503 with Retry-After until the request is served', async () => {
    const target = await serve((n) =>
      n === 0
        ? { status: 429, headers: { 'retry-after': '0' }, body: { error: { code: 'PANEL_BUSY' } } }
        : n === 1
          ? overloaded
          : { status: 200, body: { status: 'success', returnValue: 1 } },
    );
    servers.push(target.server);
    const outcome = await client(10_000).post(target.url, {});
    expect(outcome.verdict).toBe('success');
    expect(outcome.attempts.map((attempt) => attempt.status)).toEqual([429, 503, 200]);
  });

  it('gives up on a server that answers 503 forever: after maxAttempts, or at the deadline', async () => {
    const target = await serve(() => overloaded);
    servers.push(target.server);
    const capped = await client(10_000, 4).post(target.url, {});
    expect(capped).toMatchObject({ verdict: 'overloaded', final: { status: 503 } });
    expect(capped.attempts).toHaveLength(4);
    const slow = await serve(() => ({ ...overloaded, headers: { 'retry-after': '1' } }));
    servers.push(slow.server);
    const timedOut = await client(1500).post(slow.url, {});
    expect(timedOut.verdict).toBe('overloaded');
    expect(timedOut.attempts.length).toBeLessThan(30);
  });

  it('does not retry an answer that is final', async () => {
    const target = await serve(() => ({ status: 503, body: { error: { code: 'OVERLOADED' } } }));
    servers.push(target.server);
    const outcome = await client(10_000).post(target.url, {});
    expect(outcome).toMatchObject({ verdict: 'wrong' });
    expect(target.seen()).toBe(1);
  });
});

describe('verdictOf', () => {
  it('calls a failed execution, a 500 and a 400 what they are', () => {
    expect(verdictOf({ status: 200, body: { status: 'success' } })).toBe('success');
    expect(verdictOf({ status: 200, body: { status: 'error', error: { code: 'TIMEOUT' } } })).toBe('wrong');
    expect(verdictOf({ status: 500, body: {} })).toBe('wrong');
    expect(verdictOf({ status: 400, body: {} })).toBe('refused');
    expect(verdictOf({ status: 503, body: {} })).toBe('wrong');
    expect(verdictOf({ status: 503, body: {}, retryAfterMs: 1000 })).toBe('overloaded');
    expect(verdictOf({ status: 0, body: {} })).toBe('wrong');
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1000)).toBe(60_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
