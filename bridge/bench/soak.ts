// The soak test: a million executions through one runtime, resident memory at start and end.
// Fails when an execution fails or when the process grew by more than the allowance, which a
// leak of even a hundred bytes per execution would exceed.
import { WasmRuntime } from '@nexus/bridge';
import type { WasmContext } from '@nexus/bridge';

const MiB = 1024 * 1024;
const total = Number(process.env.SOAK_EXECUTIONS ?? 1_000_000);
const concurrency = 16;
const allowedGrowth = 64 * MiB;

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage.rss();
}

const runtime = new WasmRuntime({ maxInstances: 8 });
const context = (i: number): WasmContext => ({
  panelId: 'soak',
  handlerName: 'tick',
  stateSnapshot: { count: i - 1 },
  args: { i },
  capabilities: ['state:read:count', 'state:write:count', 'events:emit:tick'],
});
const source = "$state.count = $state.count + 1; $emit('tick', { i: $args.i }); return $args.i * 2;";
const bytecode = await runtime.precompileHandler(source);

let failures = 0;
let firstFailure = '';
async function execute(i: number): Promise<void> {
  // Every hundredth execution goes through the source path and its bytecode cache.
  const result =
    i % 100 === 0
      ? await runtime.executeHandler(source, context(i))
      : await runtime.executeCompiledHandler(bytecode, context(i));
  if (result.status !== 'success' || result.returnValueJson !== String(i * 2) || result.events.length !== 1) {
    failures += 1;
    firstFailure ||= `execution ${i}: ${JSON.stringify(result.error) ?? result.returnValueJson}`;
  }
}

let next = 0;
async function lane(until: number): Promise<void> {
  while (next < until) await execute(next++);
}

process.stderr.write(
  `==> bridge soak: ${total.toLocaleString('en-US')} executions, ${concurrency} in flight\n`,
);
await Promise.all(Array.from({ length: concurrency }, () => lane(Math.min(10_000, total))));
const start = rss();
let peak = start;
const began = Date.now();
const step = Math.max(1, Math.floor(total / 10));
while (next < total) {
  const until = Math.min(total, next + step);
  await Promise.all(Array.from({ length: concurrency }, () => lane(until)));
  const now = rss();
  peak = Math.max(peak, now);
  const rate = (next - 10_000) / ((Date.now() - began) / 1000);
  process.stderr.write(
    `  ${next.toLocaleString('en-US')} done, ${Math.round(rate).toLocaleString('en-US')}/s, RSS ${(now / MiB).toFixed(1)} MiB\n`,
  );
}
const end = rss();
const seconds = (Date.now() - began) / 1000;
await runtime.shutdown();

process.stdout.write(
  `\nSoak: ${total.toLocaleString('en-US')} executions in ${seconds.toFixed(1)} s ` +
    `(${Math.round((total - 10_000) / seconds).toLocaleString('en-US')}/s), ${failures} failed; ` +
    `RSS after warm-up ${(start / MiB).toFixed(1)} MiB, at the end ${(end / MiB).toFixed(1)} MiB, ` +
    `peak ${(peak / MiB).toFixed(1)} MiB.\n`,
);
if (failures > 0) {
  process.stderr.write(`soak: ${failures} executions failed; first: ${firstFailure}\n`);
  process.exit(1);
}
if (end - start > allowedGrowth) {
  process.stderr.write(
    `soak: RSS grew by ${((end - start) / MiB).toFixed(1)} MiB (allowed ${allowedGrowth / MiB} MiB)\n`,
  );
  process.exit(1);
}
