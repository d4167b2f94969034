// The store budget's per-panel figure against a real Redis: panels laid out as the kernel keeps
// them (its own key names), every part at the bound the budget counts, take no more `used_memory`
// than perPanelBytes says. The parts at their bounds are the state (one field whose size as the
// kernel counts it, key + JSON + 4, is maxStateBytes), the PATCH history (historyBytes in
// historyLength frames, or in one frame), the current definition and the revisions kept (each of
// the largest body), the log ring, the idempotency records (each with a 128-byte key and a return
// value of the largest kept size), the meta hash, the lease, a commit marker and the index entry.
// What Redis takes beyond those bytes — its encodings and the allocator's size classes — is what
// ALLOCATOR_ROUNDING, STORE_ENTRY_OVERHEAD_BYTES, REQUEST_RECORD_OVERHEAD_BYTES and
// PANEL_OVERHEAD_BYTES stand for. Measured on Redis 7.0 (per panel, used_memory / perPanelBytes):
// the defaults 10,996,114 / 11,399,184 (history in 256 frames), the tuned sample's bounds
// 2,660,644 / 2,861,264, small bounds 490,986 / 595,184.
import { commitMarkerKey, indexKeys, panelKeys } from '../../../kernel/src/store/redis-keys.js';
import { startRedis, type TestRedis } from '../../../kernel/src/testing/redis-server.js';
import type { NexusRuntimeSpec } from '../api/types.js';
import { spec } from '../testing/fixtures.js';
import { panelRetention, panelStoreBytes, type PanelRetention } from './store-budget.js';

const PREFIX = 'nexus:';

/** Writes one panel at its bounds in one script; string.rep builds the values inside Redis. */
const LAY_OUT = `
local n = tonumber
redis.call('HSET', KEYS[1], 'v', '1000000', 'e', '1', 'ph', 'ready', 'c', '1764979200000',
  't', '1764979200000', 'b', ARGV[1], 'hb', ARGV[2])
local field = 'counter'
redis.call('HSET', KEYS[2], field, string.rep('x', n(ARGV[1]) - #field - 4))
for _ = 1, n(ARGV[3]) do redis.call('RPUSH', KEYS[3], string.rep('h', n(ARGV[4]))) end
redis.call('SET', KEYS[4], string.rep('d', n(ARGV[5])))
for _ = 1, n(ARGV[6]) do redis.call('RPUSH', KEYS[5], string.rep('r', n(ARGV[5]))) end
for _ = 1, n(ARGV[7]) do redis.call('RPUSH', KEYS[6], string.rep('g', n(ARGV[8]))) end
redis.call('SET', KEYS[7], 'kernel-7d9f8c6b5-x2x4q:0123456789abcdef', 'PX', 60000)
redis.call('SET', KEYS[8], '1000000 ' .. ARGV[1], 'PX', 60000)
redis.call('ZADD', KEYS[9], 1764979200000, ARGV[9])
local record = '{"fingerprint":"' .. string.rep('f', 43) .. '","status":"success","version":1000000,"revision":100,"returnValueJson":"'
  .. string.rep('v', n(ARGV[11])) .. '"}'
for i = 1, n(ARGV[10]) do
  local key = string.rep('k', 120) .. string.format('%08d', i)
  redis.call('HSET', KEYS[10], key, record)
  redis.call('ZADD', KEYS[11], 1764979200000 + i, key)
end
return 1
`;

async function usedMemory(redis: TestRedis): Promise<number> {
  const info = await redis.cli('INFO', 'memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match) throw new Error(`no used_memory in INFO memory:\n${info}`);
  return Number(match[1]);
}

/** Lays out `count` panels at the bounds `r`; `frames` PATCHes hold the history's bytes. */
async function layOut(redis: TestRedis, r: PanelRetention, count: number, frames: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const id = `panel-${String(i).padStart(8, '0')}`;
    const keys = panelKeys(PREFIX, id);
    const historyFrames = r.historyLength === 0 ? 0 : frames;
    const lineBytes = r.logLines === 0 ? 0 : Math.floor(r.logBytes / r.logLines);
    await redis.cli(
      'EVAL',
      LAY_OUT,
      '11',
      keys.meta,
      keys.state,
      keys.history,
      keys.definition,
      keys.revisions,
      keys.logs,
      keys.lock,
      commitMarkerKey(PREFIX, id, '0123456789abcdef'),
      indexKeys(PREFIX).panels,
      keys.requests,
      keys.requestExpiry,
      String(r.maxStateBytes),
      String(r.historyBytes),
      String(historyFrames),
      String(historyFrames === 0 ? 0 : Math.floor(r.historyBytes / historyFrames)),
      String(r.definitionBytes),
      String(r.revisions),
      String(r.logLines),
      String(lineBytes),
      id,
      String(r.requestKeys),
      String(r.requestResultBytes),
    );
  }
}

describe('the per-panel figure, against Redis’ used_memory', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });
  beforeEach(async () => {
    await redis.cli('FLUSHALL', 'SYNC');
  });

  const PANELS = 4;
  const cases: [string, NexusRuntimeSpec, 'many' | 'one'][] = [
    ['the defaults, history in 256 frames', {}, 'many'],
    ['the defaults, history in one frame', {}, 'one'],
    [
      'the tuned sample’s bounds (256Ki values, 5 revisions, 100 log lines, 64 records)',
      {
        runtime: { maxStateSize: '256Ki' },
        server: { maxBodySize: '256Ki' },
        store: {
          history: 512,
          historySize: '256Ki',
          revisions: 5,
          logRing: { lines: 100, size: '64Ki' },
          idempotency: { keys: 64, resultSize: '512' },
        },
      },
      'many',
    ],
    [
      'small bounds, no history and no log ring',
      {
        runtime: { maxStateSize: '4Ki' },
        server: { maxBodySize: '8Ki' },
        store: { history: 0, revisions: 3, logRing: { lines: 0 } },
      },
      'many',
    ],
  ];

  it.each(cases)('%s', async (_what, overrides, frames) => {
    const retention = panelRetention(spec(overrides));
    if (typeof retention === 'string') throw new Error(retention);
    const perPanel = panelStoreBytes(retention).total;
    const before = await usedMemory(redis);
    await layOut(redis, retention, PANELS, frames === 'one' ? 1 : retention.historyLength);
    const measured = ((await usedMemory(redis)) - before) / PANELS;
    expect(measured).toBeLessThanOrEqual(perPanel);
    // At 1Mi bounds the figure is close to what Redis takes, so a derived bound is not needlessly low.
    if (overrides.runtime === undefined) expect(measured).toBeGreaterThan(0.95 * perPanel);
  });
});
