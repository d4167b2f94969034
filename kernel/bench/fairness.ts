// The fairness benchmark (make bench-kernel, BENCH_ONLY=fairness): a quiet panel's trivial trigger
// latency with no neighbour, then while another panel of the same kernel holds as many queued and
// parked executions as it can — handlers spinning until their time budget, and handlers parked on
// a slow `http` extension call against a local server — in the same run. Target: the quiet
// panel's p99 under 50 ms (docs/kernel.md, "Fairness between panels").

import { setTimeout as sleep } from 'node:timers/promises';
import { startHttpTarget } from '../src/testing/http-target.js';
import { type Child, startKernel } from './processes.js';

type Body = Record<string, unknown>;

const samples = Number(process.env.BENCH_FAIRNESS_SAMPLES ?? 500);
/** Requests each noisy client keeps in flight: beyond PANEL_MAX_WAITERS, so the panel is full. */
const noisyInFlight = Number(process.env.BENCH_FAIRNESS_NOISY ?? 300);
const SLOW_MS = 2000;

function progress(message: string): void {
  process.stderr.write(`  .. ${message}\n`);
}

interface Answer {
  status: number;
  body: Body;
  retryAfter?: number;
}

async function post(url: string, body: unknown): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const retryAfter = response.headers.get('retry-after');
  return {
    status: response.status,
    body: (await response.json()) as Body,
    ...(retryAfter === null ? {} : { retryAfter: Number(retryAfter) }),
  };
}

async function panel(kernel: Child, definition: Body): Promise<string> {
  const created = await post(`${kernel.url}/panels`, definition);
  if (created.status !== 201)
    throw new Error(`creating a panel: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id as string;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface Latency {
  p50: number;
  p99: number;
  max: number;
  failed: number;
}

/** Sequential trivial triggers of the quiet panel. */
async function quietLatency(url: string): Promise<Latency> {
  const times: number[] = [];
  let failed = 0;
  for (let index = 0; index < samples; index += 1) {
    const started = performance.now();
    const answer = await post(url, {});
    times.push(performance.now() - started);
    if (answer.status !== 200 || answer.body.status !== 'success') failed += 1;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1) ?? NaN, failed };
}

/** Keeps `inFlight` triggers of `url` going until stopped; counts the answers by status. */
function noisyClient(url: string, inFlight: number) {
  const answers = new Map<string, number>();
  let running = true;
  const count = (key: string) => answers.set(key, (answers.get(key) ?? 0) + 1);
  const loop = async (): Promise<void> => {
    while (running) {
      const failed: Answer = { status: 0, body: {} };
      const answer = await post(url, {}).catch(() => failed);
      const code = (answer.body.error as { code?: string } | undefined)?.code;
      count(
        `${answer.status} ${typeof answer.body.status === 'string' ? answer.body.status : ''} ${code ?? ''}`
          .replace(/\s+/g, ' ')
          .trim(),
      );
      // A refused trigger comes back at once: the client honours Retry-After, as it should.
      if (answer.retryAfter !== undefined) await sleep(answer.retryAfter * 1000);
    }
  };
  const loops = Array.from({ length: inFlight }, loop);
  return {
    answers,
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}

const answers = (client: ReturnType<typeof noisyClient>): string =>
  [...client.answers.entries()]
    .sort()
    .map(([key, n]) => `${key}: ${n}`)
    .join(', ');

interface Held {
  active: number;
  parked: number;
  queued: number;
}

/** The most instances and waiting executions /health shows, sampled every 100 ms until stopped. */
function watchHealth(url: string): { stop(): Promise<Held> } {
  const held: Held = { active: 0, parked: 0, queued: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const health = (await (await fetch(`${url}/health`)).json()) as {
        queued: number;
        runtime: { activeInstances: number; suspendedInstances: number };
      };
      held.active = Math.max(held.active, health.runtime.activeInstances);
      held.parked = Math.max(held.parked, health.runtime.suspendedInstances);
      held.queued = Math.max(held.queued, health.queued);
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return held;
    },
  };
}

function row(label: string, latency: Latency, held: Held | undefined): string {
  const instances = held === undefined ? '–' : `${held.active} / ${held.parked}`;
  return `| ${label} | ${latency.p50.toFixed(1)} | ${latency.p99.toFixed(1)} | ${latency.max.toFixed(1)} | ${latency.failed} | ${instances} | ${held?.queued ?? '–'} |`;
}

export async function fairnessBenchmark(): Promise<string[]> {
  progress('fairness: a local HTTP target that answers after 2 s, and a kernel with default limits');
  const target = await startHttpTarget();
  target.route('/slow', async (_request, _body, response) => {
    await sleep(SLOW_MS);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  const kernel = await startKernel({
    HTTP_ALLOWED_DOMAINS: `127.0.0.1:${target.port}`,
    // Noisy clients open hundreds of connections; keep every one of them.
    HTTP_KEEP_ALIVE_TIMEOUT_MS: '60000',
  });
  const rows: string[] = [];
  try {
    const quiet = await panel(kernel, { title: 'Quiet', tools: { noop: { handler: 'return 1' } } });
    const noisy = await panel(kernel, {
      title: 'Noisy',
      extensions: ['http'],
      tools: {
        spin: { timeoutMs: 1000, handler: 'for (;;);' },
        park: {
          capabilities: ['ext:http'],
          handler: `await $ext.http.get('${target.origin}/slow'); return 1`,
        },
      },
    });
    const quietUrl = `${kernel.url}/panels/${quiet}/trigger/noop`;
    progress('fairness: warming up');
    await quietLatency(quietUrl);
    progress(`fairness: quiet panel alone (${samples} sequential triggers)`);
    const alone = await quietLatency(quietUrl);
    rows.push(row('alone', alone, undefined));
    const notes: string[] = [];
    for (const [label, tools] of [
      ['beside a panel full of spinning executions', ['spin']],
      ['beside a panel full of parked executions', ['park']],
      ['beside a panel full of both', ['spin', 'park']],
    ] as const) {
      progress(`fairness: quiet panel ${label}`);
      const clients = tools.map((tool) =>
        noisyClient(`${kernel.url}/panels/${noisy}/trigger/${tool}`, noisyInFlight),
      );
      await sleep(3000);
      const watch = watchHealth(kernel.url);
      const beside = await quietLatency(quietUrl);
      const held = await watch.stop();
      await Promise.all(clients.map((client) => client.stop()));
      rows.push(row(label, beside, held));
      notes.push(`${label}: ${tools.map((tool, i) => `${tool} — ${answers(clients[i]!)}`).join('; ')}`);
    }
    return [
      '### Fairness between panels',
      '',
      'One kernel with default limits (MAX_INSTANCES 10, so PANEL_MAX_INSTANCES 5; PANEL_MAX_WAITERS 256). A',
      `quiet panel's trivial trigger (\`return 1\`), ${samples} sequential requests, alone and then while a noisy panel`,
      `of the same kernel is kept full by ${noisyInFlight} clients per tool triggering \`for (;;);\` (timeoutMs 1000)`,
      `and/or a handler parked on an \`http\` call that answers after ${SLOW_MS / 1000} s; each client sends again at`,
      'once, or after `Retry-After` when refused. The last columns are the most /health showed while the',
      'quiet panel was measured (sampled every 100 ms). Target: p99 under 50 ms.',
      '',
      '| quiet panel | p50 ms | p99 ms | max ms | failed | instances active / parked (of 10) | waiting to start |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
      "The noisy clients' answers:",
      '',
      ...notes.map((note) => `- ${note}`),
      '',
    ];
  } finally {
    await kernel.stop();
    await target.close();
  }
}
