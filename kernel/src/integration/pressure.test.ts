// Honest requests never pay for a busy machine. Two kernels on one real Redis share the cores
// with a busy loop on every core (plus one) while three workloads run at once: the consistency
// suite's core case (concurrent read-modify-writes over both kernels), a tool whose arguments
// schema has a `pattern`, and a trivial handler with `timeoutMs: 20`. The contract:
//   - no valid request is ever answered 400, 500, or with a failed execution such as `TIMEOUT`:
//     a limit that fires because the machine is busy answers a retryable 429/503 with Retry-After;
//   - a client that honours Retry-After gets every valid request served in the end (its retries
//     are bounded, so a kernel that only ever answers 503 fails here rather than passing);
//   - each panel's final state is exactly what the acknowledged successes made it;
//   - invalid arguments are still refused with 400 INVALID_ARGS.
// The load runs once (beforeAll); each test checks one of these on what it recorded.

import { type BusyLoops, everyCorePlusOne, startBusyLoops } from '../testing/busy-loops.js';
import { type Fleet, startFleet } from '../testing/fleet.js';
import { describeAttempt, type Outcome, RetryingClient, verdictOf } from '../testing/retrying-client.js';

type Body = Record<string, unknown>;

/** The whole load, retries included, ends by this long after it starts (the client's deadline). */
const LOAD_BUDGET_MS = 75_000;
const INCREMENTS = 60;
const CHECKED_TRIGGERS = 40;
const QUICK_CLIENTS = 8;
const QUICK_TRIGGERS_EACH = 20;

/** The consistency suite's ledger: reads, computes for 2 ms, writes several keys. */
const ledger = {
  title: 'Ledger',
  state: { count: 0, log: [] },
  tools: {
    add: {
      capabilities: ['state:read:*', 'state:write:*'],
      handler:
        'const count = $state.count; const t = Date.now(); while (Date.now() - t < 2); $state.count = count + $args.by; $state.log = [...$state.log, $args.tag].slice(-20); return $state.count',
    },
  },
};

const checked = {
  title: 'Checked',
  state: { count: 0, notes: 0 },
  tools: {
    add: {
      args: {
        type: 'object',
        properties: {
          by: { type: 'integer', minimum: 1 },
          note: { type: 'string', pattern: '^[a-z]{0,16}$' },
        },
        required: ['by', 'note'],
        additionalProperties: false,
      },
      capabilities: ['state:read:*', 'state:write:*'],
      handler: '$state.count += $args.by; $state.notes += 1; return $state.count',
    },
  },
};

const quick = {
  title: 'Quick',
  state: { ticks: 0 },
  tools: {
    tick: {
      timeoutMs: 20,
      capabilities: ['state:read:*', 'state:write:*'],
      handler: '$state.ticks += 1; return $state.ticks',
    },
  },
};

const invalidArgs: Body[] = [
  { by: 0, note: 'zero' },
  { by: 1, note: 'ABC' },
  { by: 1.5, note: 'half' },
  { note: 'missing' },
  { by: 1, note: 'a'.repeat(17) },
  { by: 1, note: 'ok', extra: true },
];

interface Sent {
  readonly what: string;
  readonly args: Body;
  readonly outcome: Outcome;
}

/** Every answer to a valid request other than success or a retryable overload, one line each. */
function wrongAnswers(sent: readonly Sent[]): string[] {
  return sent.flatMap(({ what, outcome }) =>
    outcome.attempts.flatMap((attempt, index) => {
      const verdict = verdictOf(attempt);
      return verdict === 'success' || verdict === 'overloaded'
        ? []
        : [`${what}, attempt ${index + 1}: ${describeAttempt(attempt)}`];
    }),
  );
}

/** A client honouring Retry-After whose every request ends within `budgetMs` from now. */
const clientFor = (budgetMs: number) =>
  new RetryingClient({
    maxAttempts: 30,
    deadline: Date.now() + budgetMs,
    maxWaitMs: 5000,
    attemptTimeoutMs: 35_000,
  });

function unserved(sent: readonly Sent[]): string[] {
  return sent
    .filter(({ outcome }) => outcome.verdict !== 'success')
    .map(
      ({ what, outcome }) =>
        `${what}: ${outcome.attempts.length} attempt(s), last ${describeAttempt(outcome.final)}`,
    );
}

const acknowledged = (sent: readonly Sent[]) => sent.filter(({ outcome }) => outcome.verdict === 'success');
const sumOfBy = (sent: readonly Sent[]) => sent.reduce((sum, { args }) => sum + (args.by as number), 0);

describe('under CPU pressure: busy loops on every core beside two kernels on Redis', () => {
  let fleet: Fleet | undefined;
  let busy: BusyLoops | undefined;
  const ids = { ledger: '', checked: '', quick: '' };
  const sent = { ledger: [] as Sent[], checked: [] as Sent[], quick: [] as Sent[], invalid: [] as Sent[] };

  beforeAll(async () => {
    fleet = await startFleet('redis', { MAX_INSTANCES: '4' }, 2);
    busy = startBusyLoops(everyCorePlusOne());
    const client = clientFor(LOAD_BUDGET_MS);
    const at = (i: number) => fleet!.at(i).url;
    // Panels are created under pressure too: compiling their schemas is one of the timers.
    for (const [name, definition, on] of [
      ['ledger', ledger, 0],
      ['checked', checked, 1],
      ['quick', quick, 0],
    ] as const) {
      const created = await client.post(`${at(on)}/panels`, definition);
      if (created.final.status !== 201)
        throw new Error(`creating the ${name} panel: ${describeAttempt(created.final)}`);
      ids[name] = created.final.body.id as string;
    }
    const trigger = (what: string, i: number, panel: string, tool: string, args: Body) =>
      client
        .post(`${at(i)}/panels/${panel}/trigger/${tool}`, args)
        .then((outcome) => ({ what, args, outcome }));
    const note = (i: number) => 'abcdefghijklmnopqrstuvwxyz'.slice(i % 10, (i % 10) + (i % 17));

    const increments = Array.from({ length: INCREMENTS }, (_, i) =>
      trigger(`increment #${i}`, i, ids.ledger, 'add', { by: 1 + (i % 4), tag: i }),
    );
    const checkedTriggers = Array.from({ length: CHECKED_TRIGGERS }, (_, i) =>
      trigger(`checked #${i}`, i, ids.checked, 'add', { by: 1 + (i % 3), note: note(i) }),
    );
    const invalidTriggers = invalidArgs.map((args, i) =>
      trigger(`invalid ${JSON.stringify(args)}`, i, ids.checked, 'add', args),
    );
    // The trivial handler many times: a few clients, each triggering one after another.
    const quickTriggers = Array.from({ length: QUICK_CLIENTS }, async (_, c) => {
      const results: Sent[] = [];
      for (let n = 0; n < QUICK_TRIGGERS_EACH; n += 1)
        results.push(await trigger(`quick client ${c} #${n}`, c + n, ids.quick, 'tick', {}));
      return results;
    });
    [sent.ledger, sent.checked, sent.invalid, sent.quick] = await Promise.all([
      Promise.all(increments),
      Promise.all(checkedTriggers),
      Promise.all(invalidTriggers),
      Promise.all(quickTriggers).then((lists) => lists.flat()),
    ]);
  }, 150_000);

  afterAll(async () => {
    await busy?.stop();
    await fleet?.stop();
  }, 60_000);

  /** A panel's state, read (with the same retrying client) from the other kernel. */
  const stateOf = async (id: string): Promise<Body> => {
    const read = await clientFor(20_000).get(`${fleet!.at(1).url}/panels/${id}/state`);
    expect(describeAttempt(read.final)).toMatch(/^200 /);
    return read.final.body;
  };

  it('answers no valid request 400, 500 or with a failed execution (TIMEOUT): busy means 429/503 with Retry-After', () => {
    expect(wrongAnswers([...sent.ledger, ...sent.checked, ...sent.quick])).toEqual([]);
  });

  it('serves every valid request in the end to a client that honours Retry-After', () => {
    expect(unserved([...sent.ledger, ...sent.checked, ...sent.quick])).toEqual([]);
    expect(sent.ledger).toHaveLength(INCREMENTS);
    expect(sent.checked).toHaveLength(CHECKED_TRIGGERS);
    expect(sent.quick).toHaveLength(QUICK_CLIENTS * QUICK_TRIGGERS_EACH);
  });

  it('leaves each panel exactly as its acknowledged successes made it', async () => {
    const ledgerDone = acknowledged(sent.ledger);
    expect(await stateOf(ids.ledger)).toMatchObject({
      version: ledgerDone.length,
      state: { count: sumOfBy(ledgerDone) },
    });
    // Every acknowledged read-modify-write saw a count no other one saw: they ran one at a time.
    expect(new Set(ledgerDone.map(({ outcome }) => outcome.final.body.returnValue)).size).toBe(
      ledgerDone.length,
    );

    const checkedDone = acknowledged(sent.checked);
    expect(await stateOf(ids.checked)).toMatchObject({
      version: checkedDone.length,
      state: { count: sumOfBy(checkedDone), notes: checkedDone.length },
    });

    const quickDone = acknowledged(sent.quick);
    expect(await stateOf(ids.quick)).toMatchObject({
      version: quickDone.length,
      state: { ticks: quickDone.length },
    });
  }, 70_000);

  // That they changed nothing is checked with the final states above.
  it('still refuses invalid arguments with 400 INVALID_ARGS', () => {
    expect(sent.invalid).toHaveLength(invalidArgs.length);
    const notRefused = sent.invalid
      .map(({ what, outcome }) => `${what}: ${describeAttempt(outcome.final)}`)
      .filter((line) => !line.includes(': 400 INVALID_ARGS'));
    expect(notRefused).toEqual([]);
  });
});
