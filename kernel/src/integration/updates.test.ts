// Changing a panel's code without losing its state (PUT /panels/:id): the same suite for three
// kernels on one Redis and one kernel on the embedded store. The switch is one step on every
// kernel, ordered with every segment; what started on the old code finishes on it.

import { type Fleet, startFleet } from '../testing/fleet.js';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import { eventually } from '../testing/eventually.js';
import { postJson, putJson, TestSocket } from '../testing/kernel-harness.js';

type Body = Record<string, unknown>;

async function getJson(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text === '' ? {} : JSON.parse(text)) as Body,
  };
}

/** A panel whose tools say which code ran: `add` increments slowly (executions overlap). */
function versioned(code: string, extra: Body = {}): Body {
  return {
    title: 'Versioned',
    state: { count: 0 },
    extensions: ['http'],
    tools: {
      add: {
        capabilities: ['state:read:*', 'state:write:*'],
        handler: `const c = $state.count; const t = Date.now(); while (Date.now() - t < 2); $state.count = c + 1; return ${JSON.stringify(code)}`,
      },
      which: { capabilities: [], handler: `return ${JSON.stringify(code)}` },
    },
    ...extra,
  };
}

let ids = 0;
const newId = (): string => `upd-${process.pid}-${(ids += 1)}`;

describe.each(['embedded', 'redis'] as const)('panel updates (%s)', (store) => {
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
      PANEL_REVISIONS: '3',
    });
  }, 120_000);
  afterAll(async () => {
    release();
    await fleet.stop();
    await target.close();
  });

  const url = (i: number, path: string): string => `${fleet.at(i).url}${path}`;
  const put = (i: number, id: string, definition: unknown, headers: Record<string, string> = {}) =>
    putJson(url(i, `/panels/${id}`), definition, headers);
  const trigger = (i: number, id: string, tool: string, args: Body = {}) =>
    postJson(url(i, `/panels/${id}/trigger/${tool}`), args);

  it('creates a panel under the client’s id, and the same PUT again is the same panel and revision', async () => {
    const id = newId();
    const created = await put(0, id, versioned('v1'));
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    expect(created.headers.get('location')).toBe(`/panels/${id}`);
    expect(created.body).toMatchObject({ id, revision: 1, version: 0, changed: true });
    const again = await put(1, id, versioned('v1'));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id, revision: 1, version: 0, changed: false });
    const revisions = await getJson(url(2, `/panels/${id}/revisions`));
    expect((revisions.body.revisions as Body[]).map((r) => r.revision)).toEqual([1]);
    // POST /panels keeps working, beside client-chosen ids.
    expect((await postJson(url(0, '/panels'), versioned('v1'))).status).toBe(201);
  });

  it('refuses ids a client may not choose, and If-Match on a panel that does not exist', async () => {
    for (const bad of ['has space', 'x'.repeat(129), 'brace{d}', 'dot.ted']) {
      const answer = await put(0, encodeURIComponent(bad), versioned('v1'));
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'INVALID_PANEL_ID' } });
    }
    const id = newId();
    const conditional = await put(0, id, versioned('v1'), { 'if-match': '"1"' });
    expect(conditional.status).toBe(412);
    expect((await getJson(url(0, `/panels/${id}`))).status).toBe(404);
  });

  it('switches every kernel at once: 60 increments spread over the kernels while the code changes end exact', async () => {
    const id = newId();
    expect((await put(0, id, versioned('v1'))).status).toBe(201);
    // Every kernel holds the old code compiled.
    for (let i = 0; i < fleet.kernels.length; i += 1)
      expect((await trigger(i, id, 'which')).body.returnValue).toBe('v1');
    const before = Array.from({ length: 30 }, (_, i) => trigger(i, id, 'add'));
    const update = await put(1, id, versioned('v2'));
    expect(update.status).toBe(200);
    expect(update.body).toMatchObject({ revision: 2, changed: true });
    // Started after the acknowledgement, on every kernel: the new code, every time.
    const after = Array.from({ length: 30 }, (_, i) => trigger(i + 1, id, 'add'));
    const early = await Promise.all(before);
    const late = await Promise.all(after);
    expect([...early, ...late].filter((answer) => answer.body.status !== 'success')).toEqual([]);
    expect(late.map((answer) => answer.body.returnValue)).toEqual(late.map(() => 'v2'));
    for (let i = 0; i < fleet.kernels.length; i += 1)
      expect((await trigger(i, id, 'which')).body.returnValue).toBe('v2');
    const read = await getJson(url(2, `/panels/${id}/state`));
    // 60 increments and the switch, each a version of its own.
    expect(read.body).toMatchObject({ version: 61, state: { count: 60 } });
    const versions = [...early, ...late].map((answer) => answer.body.version as number);
    expect(new Set(versions).size).toBe(60);
    expect(versions).not.toContain(update.body.version);
  });

  it('lets a handler parked on $ext across an update finish on its old code, in version order', async () => {
    const id = newId();
    const load = (code: string) => ({
      capabilities: ['state:read:*', 'state:write:*', 'ext:http'],
      handler: `$state.before = ${JSON.stringify(code)}; await $ext.http.get(${JSON.stringify(`${target.origin}/slow`)}); $state.after = ${JSON.stringify(code)}; return ${JSON.stringify(code)}`,
    });
    expect((await put(0, id, versioned('v1', { tools: { load: load('v1') } }))).status).toBe(201);
    reached = new Promise((resolve) => (markReached = resolve));
    const parked = trigger(0, id, 'load');
    await reached;
    const update = await put(1, id, versioned('v2', { tools: { load: load('v2') } }));
    expect(update.body).toMatchObject({ revision: 2, version: 2 });
    release();
    expect((await parked).body).toMatchObject({ status: 'success', returnValue: 'v1', version: 3 });
    expect((await getJson(url(2, `/panels/${id}/state`))).body).toMatchObject({
      version: 3,
      state: { before: 'v1', after: 'v1' },
    });
    reached = new Promise((resolve) => (markReached = resolve));
    const next = trigger(2, id, 'load');
    await reached;
    release();
    expect((await next).body).toMatchObject({ returnValue: 'v2', version: 5 });
  });

  it('runs an upgrade handler once with the old state and revision; a failing one changes nothing', async () => {
    const id = newId();
    expect((await put(0, id, versioned('v1', { state: { count: 5 } }))).status).toBe(201);
    await trigger(1, id, 'add');
    const upgraded = versioned('v2', {
      lifecycle: {
        upgrade: {
          capabilities: ['state:read:*', 'state:write:*'],
          handler:
            'console.log("upgrading from", $args.fromRevision); $state.total = $state.count * 10; delete $state.count; return $args',
        },
      },
    });
    const answer = await put(2, id, upgraded);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      revision: 2,
      version: 2,
      state: { total: 60 },
      upgrade: {
        status: 'success',
        returnValue: { fromRevision: 1, toRevision: 2 },
        logs: [{ level: 'info', message: 'upgrading from 1' }],
      },
    });
    const refusals: [Body, number, string][] = [
      [
        versioned('v3', { lifecycle: { upgrade: { capabilities: [], handler: 'throw new Error("no")' } } }),
        422,
        'UPGRADE_FAILED',
      ],
      [
        versioned('v3', {
          lifecycle: {
            upgrade: {
              capabilities: ['ext:http'],
              handler: `await $ext.http.get(${JSON.stringify(`${target.origin}/slow`)})`,
            },
          },
        }),
        422,
        'UPGRADE_FAILED',
      ],
      [
        versioned('v3', { tools: { which: { capabilities: [], handler: 'return (' } } }),
        400,
        'COMPILATION_ERROR',
      ],
      [{ ...versioned('v3'), tools: { 'bad name!': { handler: 'x' } } }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [definition, status, code] of refusals) {
      const refused = await put(0, id, definition);
      expect(refused.status).toBe(status);
      expect(refused.body).toMatchObject({ error: { code } });
    }
    const definition = await getJson(url(1, `/panels/${id}/definition`));
    expect(definition.headers.get('etag')).toBe('"2"');
    expect((await trigger(1, id, 'which')).body.returnValue).toBe('v2');
    expect((await getJson(url(0, `/panels/${id}/state`))).body).toMatchObject({
      version: 2,
      state: { total: 60 },
    });
  });

  it('applies If-Match only at the current revision, and answers a conditional GET of the definition', async () => {
    const id = newId();
    await put(0, id, versioned('v1'));
    const first = await getJson(url(1, `/panels/${id}/definition`));
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"1"');
    expect(first.body).toMatchObject({ title: 'Versioned', tools: { which: { handler: 'return "v1"' } } });
    expect((await getJson(url(1, `/panels/${id}/definition`), { 'if-none-match': '"1"' })).status).toBe(304);
    expect((await put(2, id, versioned('v2'), { 'if-match': '"1"' })).status).toBe(200);
    const stale = await put(0, id, versioned('v3'), { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ error: { code: 'PRECONDITION_FAILED', details: { revision: 2 } } });
    // The client's copy changed: the conditional GET answers with the new definition.
    const changed = await getJson(url(0, `/panels/${id}/definition`), { 'if-none-match': '"1"' });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe('"2"');
    expect(changed.body).toMatchObject({ tools: { which: { handler: 'return "v2"' } } });
    // The panel's own representation (with its state) carries no ETag to answer 304 against.
    const panel = await getJson(url(0, `/panels/${id}`), { 'if-none-match': '"2"' });
    expect(panel.status).toBe(200);
    expect(panel.headers.get('etag')).toBeNull();
    expect(panel.body).toMatchObject({ revision: 2 });
  });

  it('rolls back to a kept revision in one call, with the state kept; keeps the last PANEL_REVISIONS', async () => {
    const id = newId();
    await put(0, id, versioned('v1'));
    await trigger(1, id, 'add');
    await put(1, id, versioned('v2'));
    await trigger(2, id, 'add');
    const rolled = await postJson(url(2, `/panels/${id}/rollback`), { revision: 1 });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ revision: 3, state: { count: 2 } });
    expect((await trigger(0, id, 'which')).body.returnValue).toBe('v1');
    const listed = await getJson(url(0, `/panels/${id}/revisions`));
    const revisions = listed.body.revisions as { revision: number; tools: Body }[];
    expect(listed.body.current).toBe(3);
    expect(revisions.map((r) => r.revision)).toEqual([3, 2, 1]);
    expect(revisions[0]!.tools).toEqual(revisions[2]!.tools);
    expect(revisions[0]!.tools).not.toEqual(revisions[1]!.tools);
    const kept = await getJson(url(1, `/panels/${id}/revisions/2`));
    expect(kept.body).toMatchObject({ tools: { which: { handler: 'return "v2"' } } });
    await put(0, id, versioned('v4'));
    const trimmed = await getJson(url(0, `/panels/${id}/revisions`));
    expect((trimmed.body.revisions as Body[]).map((r) => r.revision)).toEqual([4, 3, 2]);
    const gone = await postJson(url(0, `/panels/${id}/rollback`), { revision: 1 });
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: { code: 'REVISION_NOT_FOUND' } });
  });

  it('names in every log line, in the ring and the result, the revision whose code wrote it', async () => {
    const id = newId();
    const saying = (code: string) =>
      versioned(code, {
        tools: { say: { capabilities: [], handler: `console.log(${JSON.stringify(code)}); return 1` } },
      });
    await put(0, id, saying('v1'));
    await trigger(1, id, 'say');
    await put(2, id, saying('v2'));
    expect((await trigger(0, id, 'say')).body).toMatchObject({ logs: [{ message: 'v2' }] });
    const lines = await eventually('both lines in the ring', async () => {
      const read = await getJson(url(1, `/panels/${id}/logs`));
      const found = read.body.lines as Body[] | undefined;
      return found !== undefined && found.length >= 2 ? found : undefined;
    });
    expect(lines).toMatchObject([
      { message: 'v1', tool: 'say', revision: 1 },
      { message: 'v2', tool: 'say', revision: 2 },
    ]);
  });

  it('tells subscribers on every kernel of the new revision in order with the PATCHes, and resumers too', async () => {
    const id = newId();
    await put(0, id, versioned('v1'));
    const sockets = await Promise.all(
      [1, 2].map((i) => TestSocket.open(`${fleet.at(i).wsUrl}/panels/${id}/ws`)),
    );
    const connected = await Promise.all(sockets.map((socket) => socket.ofType('CONNECTED')));
    for (const greeting of connected) expect(greeting).toMatchObject({ version: 0, revision: 1 });
    await trigger(0, id, 'add');
    await put(0, id, {
      ...versioned('v2'),
      lifecycle: { upgrade: { capabilities: ['state:write:*'], handler: '$state.upgraded = true' } },
    });
    await trigger(1, id, 'add');
    for (const socket of sockets) {
      await socket.next((message) => message.version === 3, 15_000);
      const ordered = socket.messages.filter((m) => m.type === 'PATCH' || m.type === 'REVISION');
      expect(ordered.map((m) => [m.type, m.version])).toEqual([
        ['PATCH', 1],
        ['REVISION', 2],
        ['PATCH', 3],
      ]);
      expect(ordered[1]).toMatchObject({
        revision: 2,
        tools: ['add', 'which'],
        mutations: [{ key: 'upgraded', value: true, operation: 'set' }],
      });
    }
    // A client resuming from before the switch gets it from the history; a new one is told.
    const resumer = await TestSocket.open(`${fleet.at(0).wsUrl}/panels/${id}/ws`);
    const greeting = await resumer.ofType('CONNECTED');
    expect(greeting).toMatchObject({ version: 3, revision: 2 });
    resumer.send({ type: 'SUBSCRIBE', since: 1, epoch: greeting.epoch });
    await resumer.next((message) => message.version === 3 && message.type === 'PATCH', 15_000);
    expect(resumer.messages.filter((m) => m.type === 'REVISION')).toMatchObject([
      { version: 2, revision: 2 },
    ]);
    for (const socket of [...sockets, resumer]) socket.close();
  });
});
