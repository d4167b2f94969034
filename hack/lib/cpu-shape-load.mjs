// The load of hack/bench-cpu-shape.sh, run inside the node's network namespace against one kernel
// pod's address: trivial triggers at a steady rate (the latency an honest user sees), optionally
// beside clients that keep CPU-bound handlers running back to back on panels of their own.
// Prints one JSON line: the trivial triggers' latency percentiles and every answer counted by kind.
// Usage: node cpu-shape-load.mjs BASE_URL SECONDS HOT_CLIENTS [TRIVIAL_PER_SECOND]
import { Buffer } from 'node:buffer';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const [base, secondsText, hotText, rateText] = process.argv.slice(2);
if (!base || !secondsText || !hotText) {
  console.error('usage: node cpu-shape-load.mjs BASE_URL SECONDS HOT_CLIENTS [TRIVIAL_PER_SECOND]');
  process.exit(2);
}
const seconds = Number(secondsText);
const hotClients = Number(hotText);
const trivialPerSecond = Number(rateText ?? 20);
const agent = new http.Agent({ keepAlive: true, maxSockets: hotClients + 64 });

/** One request; resolves to {status, body, ms} (never rejects: a failure is an answer too). */
function request(method, path, body) {
  const started = performance.now();
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      new URL(path, base),
      {
        method,
        agent,
        timeout: 60_000,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          let parsed;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString());
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, ms: performance.now() - started });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) =>
      resolve({ status: 0, body: { error: error.message }, ms: performance.now() - started }),
    );
    if (payload) req.write(payload);
    req.end();
  });
}

async function createPanel(definition) {
  const res = await request('POST', '/panels', definition);
  if (res.status !== 201) throw new Error(`POST /panels answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** What an answer was: success, a handler error by code, or an HTTP status. */
function kind(res) {
  if (res.status === 200 && res.body?.status === 'success') return 'success';
  if (res.status === 200) return `handler ${res.body?.error?.code ?? 'error'}`;
  return `http ${res.status}${res.body?.code ? ` ${res.body.code}` : ''}`;
}

const trivial = await createPanel({
  title: 'quiet',
  state: { n: 0 },
  tools: { ping: { capabilities: [], timeoutMs: 20, handler: 'return 1' } },
});
const hot = [];
for (let i = 0; i < hotClients; i += 1) {
  hot.push(
    await createPanel({
      title: `hot ${i}`,
      tools: {
        spin: {
          capabilities: [],
          // About 40 ms of CPU in the sandbox on the reference machine.
          handler: 'let x = 0; for (let i = 0; i < 1000000; i++) x = (x + i * 7) % 1000003; return x',
        },
      },
    }),
  );
}

const counts = { trivial: {}, hot: {} };
const count = (table, key) => (table[key] = (table[key] ?? 0) + 1);
const latencies = [];
const ends = Date.now() + seconds * 1000;

const hotLoops = hot.map(async (id) => {
  while (Date.now() < ends) count(counts.hot, kind(await request('POST', `/panels/${id}/trigger/spin`, {})));
});
const trivialLoop = (async () => {
  const inFlight = [];
  const interval = 1000 / trivialPerSecond;
  for (let next = performance.now(); Date.now() < ends; next += interval) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      request('POST', `/panels/${trivial}/trigger/ping`, {}).then((res) => {
        count(counts.trivial, kind(res));
        if (kind(res) === 'success') latencies.push(res.ms);
      }),
    );
  }
  await Promise.all(inFlight);
})();
await Promise.all([...hotLoops, trivialLoop]);

latencies.sort((a, b) => a - b);
const at = (q) =>
  latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : NaN;
for (const id of [trivial, ...hot]) await request('DELETE', `/panels/${id}`);
agent.destroy();
console.log(
  JSON.stringify({
    hotClients,
    seconds,
    trivial: { n: latencies.length, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? NaN },
    counts,
  }),
);
