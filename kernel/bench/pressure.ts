// The pressure benchmark (make bench-kernel, BENCH_ONLY=pressure): one kernel process serving
// triggers while N busy loops (`node` children spinning at the default priority) share the cores
// with it, for N = 0, 2, 4 in the same run. Each connection alternates a trivial handler with
// `timeoutMs: 20` and a tool whose arguments schema has a `pattern`, and honours Retry-After as a
// client should. Figures per N: successes per second, p50/p99 answer time, retryable overloads
// (429/503 with Retry-After) and wrong answers — everything else: a 400 for valid arguments, a 500,
// an execution that failed (TIMEOUT). Target: 0 wrong answers at every N.

import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBusyLoops } from '../src/testing/busy-loops.js';
import { type Attempt, describeAttempt, parseRetryAfter, verdictOf } from '../src/testing/retrying-client.js';
import { startKernel } from './processes.js';

type Body = Record<string, unknown>;

const seconds = Number(process.env.PRESSURE_SECONDS ?? 20);
const connections = Number(process.env.PRESSURE_CONNECTIONS ?? 16);
const loopCounts = (process.env.PRESSURE_LOOPS ?? '0,2,4').split(',').map(Number);

function progress(message: string): void {
  process.stderr.write(`  .. ${message}\n`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function post(url: string, body: unknown): Promise<Attempt> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const parsed = (await response.json().catch(() => ({}))) as Body;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return { status: response.status, body: parsed, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  } catch (error) {
    return { status: 0, body: { error: { code: 'NO_ANSWER', message: String(error) } } };
  }
}

const panels = {
  quick: {
    title: 'Quick',
    state: { ticks: 0 },
    tools: {
      tick: {
        timeoutMs: 20,
        capabilities: ['state:read:*', 'state:write:*'],
        handler: '$state.ticks += 1; return $state.ticks',
      },
    },
  },
  checked: {
    title: 'Checked',
    state: { count: 0 },
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
        handler: '$state.count += $args.by; return $state.count',
      },
    },
  },
};

interface Round {
  readonly loops: number;
  readonly successes: number;
  readonly overloaded: number;
  readonly wrong: Map<string, number>;
  readonly latencies: number[];
  readonly elapsedMs: number;
}

async function round(loops: number, urls: { quick: string; checked: string }): Promise<Round> {
  const busy = startBusyLoops(loops);
  try {
    await sleep(1000);
    progress(`pressure: ${loops} busy loop(s), ${connections} connections for ${seconds} s`);
    const latencies: number[] = [];
    const wrong = new Map<string, number>();
    let successes = 0;
    let overloaded = 0;
    const started = performance.now();
    const end = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async (_, c) => {
        for (let n = c; performance.now() < end; n += 1) {
          const sent = performance.now();
          const answer =
            n % 2 === 0
              ? await post(urls.quick, {})
              : await post(urls.checked, { by: 1 + (n % 3), note: 'abcdefghijklmnop'.slice(0, n % 17) });
          latencies.push(performance.now() - sent);
          const verdict = verdictOf(answer);
          if (verdict === 'success') successes += 1;
          else if (verdict === 'overloaded') {
            overloaded += 1;
            await sleep(Math.min(answer.retryAfterMs ?? 0, 5000));
          } else {
            const key = describeAttempt(answer).slice(0, 120);
            wrong.set(key, (wrong.get(key) ?? 0) + 1);
          }
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    return { loops, successes, overloaded, wrong, latencies, elapsedMs: performance.now() - started };
  } finally {
    await busy.stop();
  }
}

export async function pressureBenchmark(): Promise<string[]> {
  progress('pressure: starting the kernel');
  const kernel = await startKernel({ LOG_LEVEL: 'error' });
  const rounds: Round[] = [];
  try {
    const urls = { quick: '', checked: '' };
    for (const [name, tool] of [
      ['quick', 'tick'],
      ['checked', 'add'],
    ] as const) {
      const created = await post(`${kernel.url}/panels`, panels[name]);
      if (created.status !== 201) throw new Error(`creating the ${name} panel: ${describeAttempt(created)}`);
      urls[name] = `${kernel.url}/panels/${String(created.body.id)}/trigger/${tool}`;
    }
    progress('pressure: warming up (2 s, no busy loops)');
    const warmEnd = performance.now() + 2000;
    while (performance.now() < warmEnd)
      await Promise.all([post(urls.quick, {}), post(urls.checked, { by: 1, note: 'a' })]);
    for (const loops of loopCounts) rounds.push(await round(loops, urls));
  } finally {
    await kernel.stop();
  }
  const wrongDetails = rounds.flatMap((r) =>
    [...r.wrong].map(([answer, count]) => `- N = ${r.loops}: ${count} × \`${answer}\``),
  );
  return [
    `### Under CPU pressure (N busy loops beside one kernel, ${availableParallelism()} cores, ${connections} connections, ${seconds} s per N)`,
    '',
    'Each connection alternates a trivial handler with `timeoutMs: 20` and a tool whose arguments',
    'schema has `pattern: ^[a-z]{0,16}$`, and waits `Retry-After` after a 429/503. A wrong answer is',
    'anything but a success or a retryable overload (a 400 for valid arguments, a 500, `TIMEOUT`).',
    '',
    '| busy loops | successes/s | p50 ms | p99 ms | retryable 429/503 | wrong answers |',
    '|---|---|---|---|---|---|',
    ...rounds.map((r) => {
      const wrong = [...r.wrong.values()].reduce((a, b) => a + b, 0);
      return `| ${r.loops} | ${((r.successes / r.elapsedMs) * 1000).toFixed(0)} | ${percentile(r.latencies, 50).toFixed(1)} | ${percentile(r.latencies, 99).toFixed(1)} | ${r.overloaded} | ${wrong} |`;
    }),
    '',
    'Target: 0 wrong answers at every N.',
    ...(wrongDetails.length === 0 ? [] : ['', 'Wrong answers:', '', ...wrongDetails]),
    '',
  ];
}
