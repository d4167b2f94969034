// The Redis store's log rings (PanelLogs): one list per panel in the panel's slot (`keys.logs`),
// newest last, its line count and bytes bounded by PANEL_LOG_LINES and PANEL_LOG_BYTES. An append
// is one script: it numbers the lines (the panel's `gs` counter in its meta hash), pushes them,
// trims the oldest past either bound and publishes them on the panel's channel, in one round trip
// and one slot (Redis Cluster runs it on the panel's node). The ring is deleted with the panel
// (REMOVE, BEGIN_DELETE) and made permanent with it (FINALIZE).

import type { RedisLink, RedisReply } from './redis-link.js';
import { panelKeys } from './redis-keys.js';
import { script } from './redis-scripts.js';
import {
  type LogRead,
  type NewLogLine,
  type PanelLogLine,
  type PanelLogs,
  type StoreLimits,
  newestFitting,
} from './types.js';

/**
 * KEYS meta, logs; ARGV maxLines, maxBytes, channel, origin, then each line's JSON text (an
 * object without `seq`). {'gone'} when the panel does not exist or is being deleted, else
 * {'ok', lastSeq}. Each line is stored as `{"seq":<n>,…}`; its bytes count against maxBytes. The
 * ring takes the meta hash's expiry while the panel is a reservation (a kernel that dies while
 * creating it leaves nothing behind). Published as `L|origin||[lines]`.
 */
export const APPEND_LOGS = script(
  'append-logs',
  `
local phase = redis.call('HGET', KEYS[1], 'ph')
if not phase or phase == 'deleting' then return {'gone'} end
local count = #ARGV - 4
local last = redis.call('HINCRBY', KEYS[1], 'gs', count)
local bytes = tonumber(redis.call('HGET', KEYS[1], 'gb') or '0')
local seq = last - count
local texts = {}
for i = 5, #ARGV do
  seq = seq + 1
  local text = '{"seq":' .. seq .. ',' .. string.sub(ARGV[i], 2)
  texts[#texts + 1] = text
  bytes = bytes + #text
  redis.call('RPUSH', KEYS[2], text)
end
local length = redis.call('LLEN', KEYS[2])
local maxLines, maxBytes = tonumber(ARGV[1]), tonumber(ARGV[2])
while length > 0 and (length > maxLines or bytes > maxBytes) do
  bytes = bytes - #redis.call('LPOP', KEYS[2])
  length = length - 1
end
redis.call('HSET', KEYS[1], 'gb', bytes)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('SPUBLISH', ARGV[3], 'L|' .. ARGV[4] .. '||[' .. table.concat(texts, ',') .. ']')
return {'ok', last}
`,
);

/**
 * KEYS meta, logs; ARGV since, limit. {'gone'} | {'ok', lastSeq, lines}: the newest `limit`
 * lines after `since`. The ring's seqs are consecutive (lines leave from the oldest end only), so
 * the first one kept is lastSeq - length + 1.
 */
export const READ_LOGS = script(
  'read-logs',
  `
local m = redis.call('HMGET', KEYS[1], 'ph', 'gs')
if not m[1] then return {'gone'} end
local last = tonumber(m[2] or '0')
local length = redis.call('LLEN', KEYS[2])
local after = length - math.max(0, tonumber(ARGV[1]) - (last - length))
if after <= 0 then return {'ok', last, {}} end
local take = math.min(after, tonumber(ARGV[2]))
return {'ok', last, redis.call('LRANGE', KEYS[2], length - take, -1)}
`,
);

export interface RedisLogsOptions {
  readonly prefix: string;
  readonly limits: StoreLimits;
  readonly origin: string;
}

export class RedisLogs implements PanelLogs {
  constructor(
    private readonly link: RedisLink,
    private readonly options: RedisLogsOptions,
  ) {}

  async appendLogs(id: string, lines: readonly NewLogLine[]): Promise<'ok' | 'gone'> {
    const { logLines, logBytes } = this.options.limits;
    const kept = newestFitting(lines, logLines, logBytes);
    if (kept.length === 0) return 'ok';
    const keys = panelKeys(this.options.prefix, id);
    const reply = await this.link.run(
      APPEND_LOGS,
      [keys.meta, keys.logs],
      [logLines, logBytes, keys.channel, this.options.origin, ...kept.map((line) => JSON.stringify(line))],
    );
    return Array.isArray(reply) && reply[0] === 'ok' ? 'ok' : 'gone';
  }

  async readLogs(id: string, since: number, limit: number): Promise<LogRead | 'gone'> {
    const keys = panelKeys(this.options.prefix, id);
    const reply = await this.link.run(READ_LOGS, [keys.meta, keys.logs], [since, limit]);
    if (!Array.isArray(reply) || reply[0] !== 'ok') return 'gone';
    const texts: RedisReply[] = Array.isArray(reply[2]) ? reply[2] : [];
    return { last: Number(reply[1]), lines: texts.map((text) => JSON.parse(String(text)) as PanelLogLine) };
  }
}

/** The lines of a `log` feed message's payload (`[line, …]`), or undefined when unreadable. */
export function parseLogLines(text: string): PanelLogLine[] | undefined {
  try {
    const lines = JSON.parse(text) as unknown;
    return Array.isArray(lines) ? (lines as PanelLogLine[]) : undefined;
  } catch {
    return undefined;
  }
}
