// Hostile values against a kernel process: what a handler hands over crosses as the JSON text it
// is, counted once against one budget (MAX_VALUE_BYTES), so neither the sandbox's host nor the
// event loop builds it into objects; a PATCH is a segment's net change; events are bounded below
// what a subscriber's buffer holds; PROGRESS carries no arguments; source nested past the parser's
// stack is a compilation error. /health answers throughout and RSS stays bounded.

import { rssMiB, sampleRss, underAttack } from '../testing/attack.js';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import {
  type ChildKernel,
  makeDataDir,
  panelClient,
  postJson,
  startChildKernel,
  TestSocket,
} from '../testing/kernel-harness.js';

type Body = Record<string, unknown>;

const all = ['state:read:*', 'state:write:*', 'events:emit:*', 'view:update:*', 'ext:http'];

/**
 * Many small arrays that share references: ~4 KB of JSON per `mid`, ~1 MB per `big`. Each
 * reference is expanded by JSON.stringify, which is what the host receives and counts.
 */
const SHARED = 'const inner = [0], mid = new Array(1000).fill(inner), big = new Array(262).fill(mid);';
/** ~15.7 MB of state writes (each undone), then a ~6 MB return value: 22 MB in all. */
const OVER_BUDGET = `${SHARED} for (let i = 0; i < 15; i++) { $state['k' + i] = big; delete $state['k' + i]; } return new Array(1500).fill(mid)`;
/** An ~8 MB return value alone: within the budget (and the instance's memory), so it is answered. */
const LARGE_RESULT = `${SHARED} return new Array(2000).fill(mid)`;

/**
 * How much the kernel's RSS may grow over a run of these attacks. An execution holds at most
 * MAX_VALUE_BYTES (16 MiB) of JSON text on the host and MEMORY_LIMIT_MB (32 MiB) of linear memory
 * in its sandbox instance; three at once are 144 MiB, and an answered result adds one string of
 * its size on the event loop plus the response being written (~8 MB each here). Before values
 * crossed as text, one trigger of OVER_BUDGET added ~1.5 GiB.
 */
const RSS_GROWTH_BOUND_MIB = 300;

/** Runs `attack` while sampling the process's RSS every 20 ms; returns its result and the peak. */
async function peakRss<T>(pid: number, attack: () => Promise<T>): Promise<{ result: T; peakMiB: number }> {
  const sampling = sampleRss(pid, 20);
  try {
    const result = await attack();
    return { result, peakMiB: sampling.stop() };
  } finally {
    sampling.stop();
  }
}

describe('hostile values', () => {
  let kernel: ChildKernel;
  let target: HttpTarget;
  const secret = 'sk-live-0123456789abcdef';
  const token = 'user-token-fedcba9876543210';

  beforeAll(async () => {
    target = await startHttpTarget();
    target.route('/v1', (_request, _body, response) => json(response, 200, { ok: true }));
    kernel = await startChildKernel(
      {
        MAX_INSTANCES: '4',
        // The budget of bytes, not of time, must end these handlers: stringifying ~22 MB of
        // small arrays takes the sandbox seconds of CPU.
        TIMEOUT_MS: '30000',
        EXECUTION_DEADLINE_MS: '60000',
        BODY_LIMIT: '1Mi',
        HTTP_ALLOWED_DOMAINS: `127.0.0.1:${target.port}`,
      },
      await makeDataDir(),
    );
  }, 60_000);
  afterAll(async () => {
    kernel.process.kill('SIGTERM');
    await kernel.exited;
    await target.close();
  });

  const create = (tools: Body, state: Body = {}) =>
    panelClient(kernel.url, 'Hostile values').create(tools, state);
  const trigger = (id: string, tool: string, args: unknown = {}) =>
    panelClient(kernel.url, 'Hostile values').trigger(id, tool, args);

  it('counts state writes and the return value against one budget, RSS bounded (one trigger, then three)', async () => {
    const id = await create({
      over: { capabilities: all, handler: OVER_BUDGET },
      large: { capabilities: all, handler: LARGE_RESULT },
    });
    const pid = kernel.process.pid!;
    const before = rssMiB(pid);
    const one = await peakRss(pid, () => underAttack(kernel.url, () => trigger(id, 'over')));
    expect(one.result.result.body).toMatchObject({
      status: 'error',
      error: { code: 'RESOURCE_LIMIT', message: expect.stringContaining('maxValueBytes') },
      version: 0,
    });
    expect(one.result.failedProbes).toBe(0);
    const three = await peakRss(pid, () =>
      underAttack(kernel.url, () =>
        Promise.all([trigger(id, 'over'), trigger(id, 'over'), trigger(id, 'large')]),
      ),
    );
    for (const answer of three.result.result.slice(0, 2))
      expect(answer.body).toMatchObject({ status: 'error', error: { code: 'RESOURCE_LIMIT' } });
    // Within the budget: answered in full, the value spliced in as the text the handler made.
    const large = three.result.result[2].body;
    expect(large).toMatchObject({ status: 'success' });
    expect((large.returnValue as unknown[]).length).toBe(2000);
    expect(three.result.failedProbes).toBe(0);
    const peak = Math.max(one.peakMiB, three.peakMiB);
    process.stdout.write(
      `hostile values: RSS ${before.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB; /health worst ${Math.max(one.result.worstHealthMs, three.result.worstHealthMs).toFixed(0)} ms\n`,
    );
    expect(peak - before).toBeLessThan(RSS_GROWTH_BOUND_MIB);
    // Four executions of seconds of CPU each, three at once: on a busy machine they may take
    // several times longer, each within the EXECUTION_DEADLINE_MS (60 s) given above.
  }, 180_000);

  it('writes a segment’s net change: a key created and deleted again writes no PATCH', async () => {
    const id = await create({
      churn: {
        capabilities: all,
        handler:
          "const s = 'x'.repeat(1 << 20); for (let i = 0; i < 15; i++) $state.a = s; delete $state.a; return 1",
      },
      rewrite: {
        capabilities: all,
        handler: "for (let i = 0; i < 15; i++) $state.b = 'y'.repeat(1000) + i; return 2",
      },
    });
    const socket = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws`);
    await socket.ofType('CONNECTED');
    expect((await trigger(id, 'churn')).body).toMatchObject({
      status: 'success',
      returnValue: 1,
      version: 0,
    });
    const rewritten = await trigger(id, 'rewrite');
    expect(rewritten.body).toMatchObject({
      status: 'success',
      version: 1,
      stateMutations: [{ key: 'b', value: `${'y'.repeat(1000)}14`, operation: 'set' }],
    });
    const patch = await socket.ofType('PATCH');
    // The first PATCH is the rewrite's: the churn wrote none.
    expect(patch).toMatchObject({ version: 1, mutations: [{ key: 'b', operation: 'set' }] });
    expect(patch.mutations as unknown[]).toHaveLength(1);
    expect(socket.messages.filter((message) => message.type === 'PATCH')).toHaveLength(1);
    socket.close();
  });

  it('bounds one execution’s events below a subscriber’s buffer: no subscriber is disconnected', async () => {
    const id = await create({
      flood: {
        capabilities: all,
        handler:
          "const p = 'z'.repeat(1000 * 1000); for (let i = 0; i < 5; i++) $emit('e', p); return 'sent'",
      },
    });
    const sockets = await Promise.all([1, 2].map(() => TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws`)));
    for (const socket of sockets) await socket.ofType('CONNECTED');
    const answer = await trigger(id, 'flood');
    expect(answer.body).toMatchObject({
      status: 'error',
      error: { code: 'RESOURCE_LIMIT', message: expect.stringContaining('maxEventBytes') },
    });
    for (const socket of sockets) {
      socket.send({ type: 'PING', id: 'still-here' });
      await socket.next((message) => message.type === 'PONG' && message.id === 'still-here');
      socket.close();
    }
  });

  it('sends PROGRESS without the extension call’s arguments', async () => {
    const id = await create({
      call: {
        capabilities: all,
        handler: `await $ext.http.get('${target.origin}/v1?api_key=${secret}', { headers: { Authorization: 'Bearer ' + $args.userToken, 'X-Api-Key': '${secret}' } }); return 'called'`,
      },
    });
    const other = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws`);
    await other.ofType('CONNECTED');
    expect((await trigger(id, 'call', { userToken: token })).body).toMatchObject({
      status: 'success',
      returnValue: 'called',
    });
    const progress = await other.ofType('PROGRESS');
    expect(progress).toMatchObject({ handler: 'call', suspension: { extensionName: 'http', method: 'get' } });
    const seen = JSON.stringify(other.messages);
    expect(seen).not.toContain(secret);
    expect(seen).not.toContain(token);
    other.close();
  });

  it.each([
    ['parentheses', (n: number) => `return ${'('.repeat(n)}1${')'.repeat(n)}`],
    ['brackets', (n: number) => `return ${'['.repeat(n)}1${']'.repeat(n)}`],
    ['object literals', (n: number) => `return ${'{a:'.repeat(n)}1${'}'.repeat(n)}`],
    ['blocks', (n: number) => `${'{'.repeat(n)}${'}'.repeat(n)}`],
    ['template literals', (n: number) => `return ${'`${'.repeat(n)}1${'}`'.repeat(n)}`],
  ])('refuses source with %s nested 20,000 deep as a COMPILATION_ERROR', async (_kind, nested) => {
    const created = await postJson(`${kernel.url}/panels`, {
      title: 'Deep',
      tools: { t: { handler: nested(20_000) } },
    });
    expect(created.status).toBe(400);
    expect(created.body.error).toMatchObject({
      code: 'COMPILATION_ERROR',
      message: expect.stringContaining('nests too deeply'),
    });
    expect((await fetch(`${kernel.url}/health`)).status).toBe(200);
  });
});
