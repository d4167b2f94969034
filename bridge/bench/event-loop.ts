// Node's event-loop delay while the bridge runs handlers on it: short ones finish on the calling
// thread, long ones must yield within their slice and move to bridge threads. Measured with
// perf_hooks.monitorEventLoopDelay in three phases of the same process — no sandbox work, a
// stream of trivial executions, and that stream with hostile handlers (endless loops, memory
// bombs, runaway recursion, 2 ms of busy work) kept in flight beside it — and printed as Markdown.
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

import { WasmRuntime } from '@nexus/bridge';
import type { WasmContext } from '@nexus/bridge';

const phaseMs = Number(process.env.EVENT_LOOP_PHASE_MS ?? 4000);
// timeoutMs is CPU time: a trivial handler (microseconds of CPU) cannot reach it however busy the
// machine is, so a trivial handler's error below is a defect, never the machine's load.
const runtime = new WasmRuntime({ maxInstances: 16, timeoutMs: 50 });
const context: WasmContext = {
  panelId: 'event-loop',
  handlerName: 'h',
  stateSnapshot: {},
  args: { a: 1, b: 2 },
  capabilities: [],
};

const HOSTILE = {
  'endless loop': 'for (;;) {}',
  'memory bomb': "const a = []; for (;;) a.push('x'.repeat(1 << 16) + a.length);",
  'runaway recursion': 'function f(n) { return f(n + 1) + 1; } return f(0);',
  '2 ms of work': 'let x = 0; for (let i = 0; i < 20000; i++) x += i % 7; return x;',
} as const;

const trivial = await runtime.precompileHandler('return $args.a + $args.b;');
const hostile = await Promise.all(Object.values(HOSTILE).map((body) => runtime.precompileHandler(body)));

interface Phase {
  name: string;
  trivial: number;
  hostile: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Trivial executions from `lanes` callers, each yielding to the event loop between calls, as requests do. */
async function trivialLane(until: number, count: { n: number }): Promise<void> {
  while (performance.now() < until) {
    const result = await runtime.executeCompiledHandler(trivial, context);
    if (result.status !== 'success') throw new Error(`trivial handler: ${JSON.stringify(result.error)}`);
    count.n += 1;
    await nextTurn();
  }
}

async function hostileLane(bytecode: Buffer, until: number, count: { n: number }): Promise<void> {
  while (performance.now() < until) {
    await runtime.executeCompiledHandler(bytecode, context);
    count.n += 1;
    await nextTurn();
  }
}

async function phase(name: string, trivialLanes: number, withHostile: boolean): Promise<Phase> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const until = performance.now() + phaseMs;
  const trivialCount = { n: 0 };
  const hostileCount = { n: 0 };
  histogram.enable();
  const lanes: Promise<void>[] = [];
  for (let i = 0; i < trivialLanes; i++) lanes.push(trivialLane(until, trivialCount));
  if (withHostile) {
    for (const bytecode of hostile) {
      for (let i = 0; i < 2; i++) lanes.push(hostileLane(bytecode, until, hostileCount));
    }
  }
  if (lanes.length === 0) await new Promise((resolve) => setTimeout(resolve, phaseMs));
  await Promise.all(lanes);
  histogram.disable();
  process.stderr.write(`  ${name}: done\n`);
  const ms = (ns: number): number => ns / 1e6;
  return {
    name,
    trivial: trivialCount.n,
    hostile: hostileCount.n,
    p50Ms: ms(histogram.percentile(50)),
    p99Ms: ms(histogram.percentile(99)),
    maxMs: ms(histogram.max),
  };
}

process.stderr.write(`==> event-loop delay, ${phaseMs} ms per phase\n`);
const loadAtStart = loadavg()[0]!.toFixed(1);
const phases = [
  await phase('no sandbox work (the timer alone)', 0, false),
  await phase('trivial executions (8 callers)', 8, false),
  await phase('trivial executions beside hostile handlers (8 callers + 8 hostile)', 8, true),
];
const segments = (name: string): string =>
  /^nexus_bridge_segments_(\w+)_total (\d+)$/m.exec(
    runtime
      .getMetrics()
      .split('\n')
      .filter((line) => line.startsWith(`nexus_bridge_segments_${name}_total `))[0] ?? '',
  )?.[2] ?? '0';
const inline = segments('inline');
const moved = segments('moved');
await runtime.shutdown();

const f = (n: number): string => n.toFixed(2);
process.stdout.write(
  `\nEvent-loop delay (monitorEventLoopDelay, 1 ms resolution: each sample is the time between two 1 ms timer turns, so an idle loop shows about 1 ms; load average ${loadAtStart} → ${loadavg()[0]!.toFixed(1)}; ` +
    `hostile handlers: ${Object.keys(HOSTILE).join(', ')}, a 50 ms CPU time budget):\n\n` +
    '| phase | trivial executions | hostile executions | delay p50 ms | delay p99 ms | delay max ms |\n' +
    '| --- | --- | --- | --- | --- | --- |\n' +
    phases
      .map(
        (p) => `| ${p.name} | ${p.trivial} | ${p.hostile} | ${f(p.p50Ms)} | ${f(p.p99Ms)} | ${f(p.maxMs)} |`,
      )
      .join('\n') +
    `\n\nSegments on the calling thread: ${inline}; moved on to a bridge thread after their slice: ${moved}.\n`,
);
