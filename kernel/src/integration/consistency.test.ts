// The consistency contract of the panel store, the same tests for every store: three kernels on
// one Redis (standalone and Cluster) and one kernel on the embedded store. Segments are atomic
// against the latest state, versions are a gap-free order every subscriber sees, and any kernel
// serves any panel.

import { type Fleet, STORES_UNDER_TEST, startFleet } from '../testing/fleet.js';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import { counterPanel, postJson, TestSocket } from '../testing/kernel-harness.js';

type Body = Record<string, unknown>;

async function getJson(url: string): Promise<{ status: number; body: Body }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Body };
}

const ledger = {
  title: 'Ledger',
  state: { count: 0, log: [], scratch: null },
  tools: {
    // Reads, computes for a moment (so concurrent executions overlap) and writes several keys: a
    // lost update shows up in any of them.
    add: {
      capabilities: ['state:read:*', 'state:write:*'],
      handler:
        'const count = $state.count; const t = Date.now(); while (Date.now() - t < 2); $state.count = count + $args.by; $state.log = [...$state.log, $args.tag].slice(-20); if ($args.by % 3 === 0) delete $state.scratch; else $state.scratch = { at: $state.count }; return $state.count',
    },
    grow: {
      capabilities: ['state:write:*'],
      handler: "$state['blob' + $args.i] = 'x'.repeat($args.size); return $args.i",
    },
  },
};

/** Applies PATCH mutations in order to a state, as a client does. */
function fold(state: Body, patches: Body[]): Body {
  const result: Body = { ...state };
  for (const patch of patches) {
    for (const mutation of patch.mutations as { key: string; value?: unknown; operation: string }[]) {
      if (mutation.operation === 'delete') delete result[mutation.key];
      else result[mutation.key] = mutation.value ?? null;
    }
  }
  return result;
}

async function patchesUntil(socket: TestSocket, version: number): Promise<Body[]> {
  await socket.next((message) => message.type === 'PATCH' && message.version === version, 15_000);
  return socket.messages.filter((message) => message.type === 'PATCH');
}

describe.each(STORES_UNDER_TEST)('the panel store contract (%s)', (store) => {
  let fleet: Fleet;
  let target: HttpTarget;
  let release: () => void = () => {};
  let reached: Promise<void> = Promise.resolve();
  let markReached: () => void = () => {};

  beforeAll(async () => {
    target = await startHttpTarget();
    target.route('/slow', (_request, _body, response) => {
      release = () => json(response, 200, { ok: true });
      markReached();
    });
    fleet = await startFleet(store, {
      HTTP_ALLOWED_DOMAINS: `127.0.0.1:${target.port}`,
      MAX_INSTANCES: '8',
      MAX_PANELS: '12',
      MAX_STATE_BYTES: '4096',
      STORE_HISTORY: '8',
    });
  }, 120_000);
  afterAll(async () => {
    release();
    await fleet.stop();
    await target.close();
  });

  const create = async (definition: unknown, on = 0): Promise<string> => {
    const created = await postJson(`${fleet.at(on).url}/panels`, definition);
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const remove = (id: string) => fetch(`${fleet.at(0).url}/panels/${id}`, { method: 'DELETE' });

  it('serves a panel from every kernel: created on A, triggered on B, read on C', async () => {
    const id = await create(counterPanel, 0);
    const triggered = await postJson(`${fleet.at(1).url}/panels/${id}/trigger/increment`, { by: 5 });
    expect(triggered.body).toMatchObject({ status: 'success', returnValue: 5, version: 1 });
    const read = await getJson(`${fleet.at(2).url}/panels/${id}/state`);
    expect(read.body).toMatchObject({ state: { count: 5, loading: false }, version: 1 });
    expect((await getJson(`${fleet.at(2).url}/panels/${id}`)).body).toMatchObject({
      id,
      title: 'Counter',
      version: 1,
    });
    const listed = await getJson(`${fleet.at(1).url}/panels`);
    expect((listed.body.panels as Body[]).map((panel) => panel.id)).toContain(id);
    await remove(id);
  });

  it('loses no update: 60 concurrent read-modify-writes spread over the kernels end exact', async () => {
    const id = await create(ledger);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        postJson(`${fleet.at(i).url}/panels/${id}/trigger/add`, { by: 1 + (i % 4), tag: i }),
      ),
    );
    expect(results.filter((result) => result.body.status !== 'success')).toEqual([]);
    const expected = Array.from({ length: 60 }, (_, i) => 1 + (i % 4)).reduce((a, b) => a + b, 0);
    const read = await getJson(`${fleet.at(1).url}/panels/${id}/state`);
    expect(read.body).toMatchObject({ version: 60, state: { count: expected } });
    // Every execution saw a distinct count: they ran one after another.
    expect(new Set(results.map((result) => result.body.returnValue)).size).toBe(60);
    await remove(id);
  });

  it('gives subscribers on every kernel the same gap-free PATCH sequence, whose fold is the state', async () => {
    const id = await create(ledger);
    const sockets = await Promise.all(
      [0, 1, 2, 0, 1, 2].map((i) => TestSocket.open(`${fleet.at(i).wsUrl}/panels/${id}/ws`)),
    );
    const connected = await Promise.all(sockets.map((socket) => socket.ofType('CONNECTED')));
    const triggering = sockets[0]!;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        if (i % 5 === 0) {
          triggering.send({
            type: 'TRIGGER',
            tool: 'add',
            args: { by: i + 1, tag: `ws${i}` },
            requestId: `r${i}`,
          });
          return triggering.next((message) => message.type === 'RESULT' && message.requestId === `r${i}`);
        }
        return postJson(`${fleet.at(i).url}/panels/${id}/trigger/add`, { by: i + 1, tag: i }).then(
          (r) => r.body,
        );
      }),
    );
    expect(results.every((result) => JSON.stringify(result).includes('"success"'))).toBe(true);
    const sequences = await Promise.all(sockets.map((socket) => patchesUntil(socket, 30)));
    for (const [index, sequence] of sequences.entries()) {
      const start = connected[index]!.version as number;
      expect(sequence.map((patch) => patch.version)).toEqual(
        Array.from({ length: 30 - start }, (_, i) => start + i + 1),
      );
      expect(sequence).toEqual(sequences[0]!.slice(sequences[0]!.length - sequence.length));
    }
    const state = await getJson(`${fleet.at(2).url}/panels/${id}/state`);
    expect(fold(connected[0]!.state as Body, sequences[0]!)).toEqual(state.body.state);
    // The triggering client got each PATCH before the RESULT of its version.
    for (const message of triggering.messages.filter((m) => m.type === 'RESULT')) {
      const version = (message.result as Body).version as number;
      const patchAt = triggering.messages.findIndex((m) => m.type === 'PATCH' && m.version === version);
      expect(patchAt).toBeGreaterThanOrEqual(0);
      expect(patchAt).toBeLessThan(triggering.messages.indexOf(message));
    }
    for (const socket of sockets) socket.close();
    await remove(id);
  });

  it('shows a suspended handler’s first segment and PROGRESS on every kernel before it resumes', async () => {
    const id = await create({
      title: 'Loader',
      state: { loading: false },
      extensions: ['http'],
      tools: {
        load: {
          capabilities: ['state:read:*', 'state:write:*', 'ext:http'],
          handler: `$state.loading = true; const r = await $ext.http.get(${JSON.stringify(`${target.origin}/slow`)}); $state.loading = false; return r.status`,
        },
      },
    });
    const watchers = await Promise.all(
      [1, 2].map((i) => TestSocket.open(`${fleet.at(i).wsUrl}/panels/${id}/ws`)),
    );
    await Promise.all(watchers.map((watcher) => watcher.ofType('CONNECTED')));
    reached = new Promise((resolve) => (markReached = resolve));
    const running = postJson(`${fleet.at(0).url}/panels/${id}/trigger/load`, {});
    await reached;
    for (const watcher of watchers) {
      expect(await watcher.ofType('PATCH')).toMatchObject({
        version: 1,
        mutations: [{ key: 'loading', value: true }],
      });
      expect(await watcher.ofType('PROGRESS')).toMatchObject({
        handler: 'load',
        suspension: { method: 'get' },
      });
    }
    expect((await getJson(`${fleet.at(2).url}/panels/${id}/state`)).body).toMatchObject({
      state: { loading: true },
    });
    release();
    expect((await running).body).toMatchObject({ status: 'success', returnValue: 200, version: 2 });
    for (const watcher of watchers) {
      expect(await watcher.next((m) => m.type === 'PATCH' && m.version === 2)).toMatchObject({
        mutations: [{ key: 'loading', value: false }],
      });
      watcher.close();
    }
    await remove(id);
  });

  it('lets a client resume by version on another kernel with exactly what it missed, then live', async () => {
    const id = await create(ledger);
    const first = await TestSocket.open(`${fleet.at(0).wsUrl}/panels/${id}/ws`);
    const hello = await first.ofType('CONNECTED');
    await postJson(`${fleet.at(0).url}/panels/${id}/trigger/add`, { by: 1, tag: 'seen' });
    const seen = (await first.ofType('PATCH')).version as number;
    first.close();
    await first.closed;
    for (let i = 0; i < 4; i += 1)
      await postJson(`${fleet.at(i).url}/panels/${id}/trigger/add`, { by: 1, tag: i });
    const resumed = await TestSocket.open(
      `${fleet.at(1).wsUrl}/panels/${id}/ws?since=${seen}&epoch=${encodeURIComponent(hello.epoch as string)}`,
    );
    expect(await resumed.ofType('CONNECTED')).toMatchObject({
      resumed: true,
      version: seen,
      epoch: hello.epoch,
    });
    expect((await resumed.ofType('CONNECTED')).state).toBeUndefined();
    await postJson(`${fleet.at(2).url}/panels/${id}/trigger/add`, { by: 1, tag: 'live' });
    const patches = await patchesUntil(resumed, seen + 5);
    expect(patches.map((patch) => patch.version)).toEqual([seen + 1, seen + 2, seen + 3, seen + 4, seen + 5]);
    resumed.close();
    await remove(id);
  });

  it('falls back to a full snapshot when the history no longer reaches back or the epoch differs', async () => {
    const id = await create(ledger);
    const hello = await TestSocket.open(`${fleet.at(0).wsUrl}/panels/${id}/ws`);
    const { epoch } = await hello.ofType('CONNECTED');
    hello.close();
    for (let i = 0; i < 12; i += 1)
      await postJson(`${fleet.at(i).url}/panels/${id}/trigger/add`, { by: 1, tag: i });
    for (const query of [`since=0&epoch=${String(epoch)}`, 'since=11&epoch=another-epoch']) {
      const late = await TestSocket.open(`${fleet.at(1).wsUrl}/panels/${id}/ws?${query}`);
      expect(await late.ofType('CONNECTED')).toMatchObject({
        resumed: false,
        version: 12,
        state: { count: 12 },
      });
      late.close();
    }
    await remove(id);
  });

  it('closes every kernel’s sockets with 4404 when a panel is deleted, and no cached copy brings it back', async () => {
    const id = await create(counterPanel);
    for (let i = 0; i < 3; i += 1)
      await postJson(`${fleet.at(i).url}/panels/${id}/trigger/increment`, { by: 1 });
    const sockets = await Promise.all(
      [0, 1, 2].map((i) => TestSocket.open(`${fleet.at(i).wsUrl}/panels/${id}/ws`)),
    );
    await Promise.all(sockets.map((socket) => socket.ofType('CONNECTED')));
    expect((await remove(id)).status).toBe(200);
    for (const socket of sockets) expect((await socket.closed).code).toBe(4404);
    for (let i = 0; i < 3; i += 1) {
      expect((await getJson(`${fleet.at(i).url}/panels/${id}`)).status).toBe(404);
      expect((await postJson(`${fleet.at(i).url}/panels/${id}/trigger/increment`, { by: 1 })).status).toBe(
        404,
      );
    }
  });

  it('counts MAX_PANELS across the whole store', async () => {
    const before = (await getJson(`${fleet.at(0).url}/panels`)).body.count as number;
    const results = await Promise.all(
      Array.from({ length: 15 - before }, (_, i) => postJson(`${fleet.at(i).url}/panels`, counterPanel)),
    );
    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(12 - before);
    expect(statuses.filter((status) => status === 409)).toHaveLength(3);
    await Promise.all(results.filter((r) => r.status === 201).map((r) => remove(r.body.id as string)));
  });

  it('refuses a segment that would pass MAX_STATE_BYTES atomically, whichever kernel runs it', async () => {
    const id = await create(ledger);
    const results = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        postJson(`${fleet.at(i).url}/panels/${id}/trigger/grow`, { i, size: 900 }),
      ),
    );
    const grown = results.filter((result) => result.body.status === 'success').length;
    const refused = results.filter(
      (result) => (result.body.error as Body | undefined)?.code === 'RESOURCE_LIMIT',
    );
    expect(grown + refused.length).toBe(9);
    expect(grown).toBeGreaterThanOrEqual(3);
    expect(grown).toBeLessThanOrEqual(4);
    const state = (await getJson(`${fleet.at(1).url}/panels/${id}/state`)).body;
    expect(state.version).toBe(grown);
    expect(JSON.stringify(state.state).length).toBeLessThanOrEqual(4096);
    await remove(id);
  });

  it('commits nothing of a segment that ends in an error, keeps the segments before its await, and writes net changes', async () => {
    target.route('/fast', (_request, _body, response) => json(response, 200, { ok: true }));
    const id = await create({
      title: 'Half done',
      state: { n: 0 },
      extensions: ['http'],
      tools: {
        half: {
          capabilities: ['state:read:*', 'state:write:*', 'events:emit:*', 'ext:http'],
          handler: `$state.a = 1; await $ext.http.get('${target.origin}/fast'); $state.b = 2; $emit('late', 1); throw new Error('late')`,
        },
        churn: {
          capabilities: ['state:write:*'],
          handler: "for (let i = 0; i < 15; i++) $state.c = 'x'.repeat(1000); delete $state.c; $state.n = 1",
        },
      },
    });
    const watcher = await TestSocket.open(`${fleet.at(2).wsUrl}/panels/${id}/ws`);
    await watcher.ofType('CONNECTED');
    const failed = await postJson(`${fleet.at(1).url}/panels/${id}/trigger/half`, {});
    expect(failed.body).toMatchObject({
      status: 'error',
      error: { code: 'EXECUTION_ERROR' },
      version: 1,
      stateMutations: [{ key: 'a', value: 1, operation: 'set' }],
      events: [],
    });
    expect((await getJson(`${fleet.at(0).url}/panels/${id}/state`)).body).toMatchObject({
      version: 1,
      state: { n: 0, a: 1 },
    });
    expect(((await getJson(`${fleet.at(0).url}/panels/${id}/state`)).body.state as Body).b).toBeUndefined();
    const churned = await postJson(`${fleet.at(0).url}/panels/${id}/trigger/churn`, {});
    expect(churned.body).toMatchObject({ status: 'success', version: 2 });
    await watcher.next((message) => message.type === 'PATCH' && message.version === 2, 15_000);
    watcher.send({ type: 'PING', id: 'after' });
    await watcher.next((message) => message.type === 'PONG' && message.id === 'after');
    const patches = watcher.messages.filter((message) => message.type === 'PATCH');
    expect(patches.map((patch) => patch.mutations)).toEqual([
      [{ key: 'a', value: 1, operation: 'set' }],
      // The churn's net change: `c` was created and deleted again, so only `n` is written.
      [{ key: 'n', value: 1, operation: 'set' }],
    ]);
    expect(watcher.messages.filter((message) => message.type === 'EVENT')).toEqual([]);
    watcher.close();
    await remove(id);
  });
});
