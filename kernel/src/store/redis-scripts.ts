// The Redis store's server-side scripts. Each state change is one script, so it is atomic: check,
// apply, bump the version, append to the history, publish. Every key a script touches belongs to
// one panel and carries its hash tag (`{<id>}`), so on Redis Cluster a script runs in one slot;
// the index scripts touch only the index's own tag. Feed messages are `<kind>|<origin>|<version>|<frame>`.
//
// Redis with `maxmemory` reached (and `noeviction`, which the store requires) refuses a script's
// first write that needs memory (COMMIT: the whole script, see there). The scripts that free memory or must complete whatever the
// memory (deleting a panel, settling the index) say so with the `allow-oom` flag (Redis 7), so a
// full store can always be emptied; every key they touch is declared in KEYS.

import { createHash } from 'node:crypto';

export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export function script(name: string, source: string): Script {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** A script that runs even when Redis holds its maxmemory: it frees memory or needs next to none. */
function freeing(name: string, body: string): Script {
  return script(name, `#!lua flags=allow-oom${body}`);
}

/**
 * KEYS meta, def, state, revisions, requests, requestExpiry; ARGV epoch, phase, createdAt, summary,
 * definition, ttlMs, bytes, version, revision, then key/json pairs. The definition is also the
 * first revision kept; no request record of an earlier panel of this id survives.
 */
export const CREATE = script(
  'create',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[8], 'e', ARGV[1], 'ph', ARGV[2], 'c', ARGV[3], 't', ARGV[4], 'b', ARGV[7], 'hb', 0, 'r', ARGV[9])
redis.call('SET', KEYS[2], ARGV[5])
redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
redis.call('RPUSH', KEYS[4], '{"revision":' .. ARGV[9] .. ',"createdAt":' .. cjson.encode(ARGV[3]) .. ',"definition":' .. ARGV[5] .. '}')
for i = 10, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
local ttl = tonumber(ARGV[6])
if ttl > 0 then
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
`,
);

/** KEYS meta, def, state, hist, revisions[, logs]: the panel becomes ready and permanent. */
export const FINALIZE = script(
  'finalize',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'ph', 'ready')
for i = 1, #KEYS do redis.call('PERSIST', KEYS[i]) end
return 1
`,
);

/** KEYS panels, pending; ARGV id, now, expiresAt, maxPanels. 1 when reserved, 0 when full. */
export const RESERVE = script(
  'reserve',
  `
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`,
);

/** KEYS panels, pending; ARGV id, listed ('1' adds it to the index, '0' only drops the reservation). */
export const SETTLE = freeing(
  'settle',
  `
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '1' then redis.call('SADD', KEYS[1], ARGV[1]) else redis.call('SREM', KEYS[1], ARGV[1]) end
return 1
`,
);

/** KEYS panels, pending: panels listed plus live reservations. */
export const COUNT = script(
  'count',
  `
local now = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now[1] * 1000 + math.floor(now[2] / 1000))
return redis.call('SCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])
`,
);

/**
 * KEYS meta, state, lock, requests, requestExpiry; ARGV token, leaseMs, knownVersion, knownEpoch,
 * requestKey ('' for none), now. {'gone'} | {'busy', pttl} |
 * {'ok', version, epoch, phase, bytes, revision, record ('' for none)[, entries]}: the record of
 * requestKey when one has not expired.
 */
export const ACQUIRE = script(
  'acquire',
  `
local m = redis.call('HMGET', KEYS[1], 'v', 'e', 'ph', 'b', 'r')
if not m[1] then return {'gone'} end
if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'busy', redis.call('PTTL', KEYS[3])}
end
local revision = m[5] or '1'
local record = ''
if #ARGV[5] > 0 then
  local expires = redis.call('ZSCORE', KEYS[5], ARGV[5])
  if expires and tonumber(expires) > tonumber(ARGV[6]) then record = redis.call('HGET', KEYS[4], ARGV[5]) or '' end
end
if m[1] == ARGV[3] and m[2] == ARGV[4] then return {'ok', m[1], m[2], m[3], m[4], revision, record} end
return {'ok', m[1], m[2], m[3], m[4], revision, record, redis.call('HGETALL', KEYS[2])}
`,
);

/**
 * KEYS lock, meta; ARGV token, leaseMs, leasedVersion, leasedEpoch. 1 while the lease is ours.
 * A lease that lapsed (the kernel was starved past it) is taken again when nobody took the panel
 * meanwhile: no lock, and the panel still at the version and epoch the segment started from.
 */
export const RENEW = script(
  'renew',
  `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if holder then return 0 end
local m = redis.call('HMGET', KEYS[2], 'v', 'e')
if m[1] ~= ARGV[3] or m[2] ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`,
);

/** KEYS lock; ARGV token. */
export const UNLOCK = freeing(
  'unlock',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`,
);

/**
 * KEYS meta, state, hist, lock, marker, def, revisions, requests, requestExpiry; ARGV token,
 * maxStateBytes, historyLength, historyBytes, origin, channel, patchPrefix, patchSuffix,
 * eventCount, leasedVersion, leasedEpoch, markerMs, maxFeedFrameBytes, definition, summary,
 * definedAt, revisionsKept, publish, requestKey, requestRecord, requestExpiresAt, requestsKept,
 * now, events..., then (op, key, json) triples with op 's' (set) or 'd' (delete). Later writes to
 * a key win. Sizes are bytes of key + JSON + 4.
 *
 * A requestKey ('' for none) records requestRecord under it in the same step, so a retry finds
 * the record exactly when this commit applied; expired records go, and beyond requestsKept the
 * oldest.
 *
 * A definition ('' for none) switches the panel to it in the same step: its revision is the
 * panel's plus one, it is kept among the last revisionsKept, and the commit takes a version of its
 * own (its frame, a REVISION message, is history and feed like a PATCH) even without mutations.
 *
 * Budgets, whatever the frame the caller built: a PATCH frame larger than historyBytes is not
 * kept (the history is emptied, so a client resuming from before it takes the state), and one
 * larger than maxFeedFrameBytes is published as a notice of its version with no frame (every
 * subscriber then reads the state) — see keepsInHistory() and maxFeedFrameBytes() in types.ts.
 *
 * Declared with a shebang (and no flags), so Redis refuses the whole commit while it holds its
 * maxmemory: without one, a commit whose first write needs no memory (deleting a key) would let
 * the writes after it through.
 *
 * publish '1': the PATCH and events go to the feed from the script. '0' (a store that
 * acknowledges a commit only once replicas hold it): nothing is published here; the caller
 * publishes with FEED once WAIT says the change survives the loss of the primary, so no
 * subscriber sees a change a promotion can still undo.
 *
 * Fencing: the segment applies while the lease is ours, or when it lapsed (the kernel was starved)
 * but nobody took the panel meanwhile — no lock, and the version and epoch are still the ones the
 * segment ran on. Anything else is {'lost'}: another kernel used the panel. An applied commit
 * leaves a marker (`<version> <bytes>`, expiring after markerMs) under its token, so a commit
 * retried after an unanswered attempt is applied once.
 * {'ok', version, bytes, revision} | {'too_large', bytes} | {'lost'} | {'gone'}.
 */
export const COMMIT = script(
  'commit',
  `#!lua
local done = redis.call('GET', KEYS[5])
if done then
  local v, b, r = string.match(done, '^(%d+) (%d+) (%d+)$')
  return {'ok', tonumber(v), tonumber(b), tonumber(r)}
end
local holder = redis.call('GET', KEYS[4])
local m = redis.call('HMGET', KEYS[1], 'v', 'b', 'hb', 'e', 'r')
if not m[1] then
  if holder == ARGV[1] then redis.call('DEL', KEYS[4]) end
  return {'gone'}
end
if holder ~= ARGV[1] and (holder or m[1] ~= ARGV[10] or m[4] ~= ARGV[11]) then return {'lost'} end
local version, bytes, hbytes = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
local revision = tonumber(m[5] or '1')
local definition = ARGV[14]
local events = tonumber(ARGV[9])
local first = 24 + events
local publish = ARGV[18] == '1'
local final, order = {}, {}
for i = first, #ARGV, 3 do
  local key = ARGV[i + 1]
  if final[key] == nil then order[#order + 1] = key end
  if ARGV[i] == 's' then final[key] = ARGV[i + 2] else final[key] = false end
end
local size = bytes
for _, key in ipairs(order) do
  local old = redis.call('HSTRLEN', KEYS[2], key)
  if old > 0 or redis.call('HEXISTS', KEYS[2], key) == 1 then size = size - (#key + old + 4) end
  if final[key] then size = size + #key + #final[key] + 4 end
end
if #order > 0 and size > tonumber(ARGV[2]) and size > bytes then
  if holder then redis.call('DEL', KEYS[4]) end
  return {'too_large', size}
end
local origin, channel = ARGV[5], ARGV[6]
if #definition > 0 then
  revision = revision + 1
  redis.call('SET', KEYS[6], definition)
  redis.call('HSET', KEYS[1], 'r', revision, 't', ARGV[15])
  redis.call('RPUSH', KEYS[7], '{"revision":' .. revision .. ',"createdAt":' .. cjson.encode(ARGV[16]) .. ',"definition":' .. definition .. '}')
  redis.call('LTRIM', KEYS[7], -tonumber(ARGV[17]), -1)
end
if #order > 0 or #definition > 0 then
  for _, key in ipairs(order) do
    if final[key] then redis.call('HSET', KEYS[2], key, final[key]) else redis.call('HDEL', KEYS[2], key) end
  end
  version = version + 1
  local frameBytes = #ARGV[7] + #tostring(version) + #ARGV[8]
  redis.call('HSET', KEYS[1], 'v', version, 'b', size)
  local limit, limitBytes = tonumber(ARGV[3]), tonumber(ARGV[4])
  if frameBytes <= limitBytes and limit > 0 then
    redis.call('RPUSH', KEYS[3], ARGV[7] .. version .. ARGV[8])
    hbytes = hbytes + frameBytes
    local length = redis.call('LLEN', KEYS[3])
    while length > 0 and (length > limit or hbytes > limitBytes) do
      hbytes = hbytes - #redis.call('LPOP', KEYS[3])
      length = length - 1
    end
  else
    redis.call('DEL', KEYS[3])
    hbytes = 0
  end
  redis.call('HSET', KEYS[1], 'hb', hbytes)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
  if not publish then
  elseif frameBytes <= tonumber(ARGV[13]) then
    redis.call('SPUBLISH', channel, 'P|' .. origin .. '|' .. version .. '|' .. ARGV[7] .. version .. ARGV[8])
  else
    redis.call('SPUBLISH', channel, 'P|' .. origin .. '|' .. version .. '|')
  end
end
if publish then
  for i = 24, first - 1 do redis.call('SPUBLISH', channel, 'E|' .. origin .. '||' .. ARGV[i]) end
end
if #ARGV[19] > 0 then
  redis.call('HSET', KEYS[8], ARGV[19], ARGV[20])
  redis.call('ZADD', KEYS[9], ARGV[21], ARGV[19])
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[9], '-inf', ARGV[23])) do redis.call('HDEL', KEYS[8], key) end
  redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', ARGV[23])
  local over = redis.call('ZCARD', KEYS[9]) - tonumber(ARGV[22])
  if over > 0 then
    local oldest = redis.call('ZPOPMIN', KEYS[9], over)
    for i = 1, #oldest, 2 do redis.call('HDEL', KEYS[8], oldest[i]) end
  end
end
if holder then redis.call('DEL', KEYS[4]) end
redis.call('SET', KEYS[5], version .. ' ' .. size .. ' ' .. revision, 'PX', ARGV[12])
return {'ok', version, size, revision}
`,
);

/**
 * KEYS meta; ARGV channel, messages...: a commit's feed messages, in order, published once the
 * replicas acknowledged it (COMMIT with publish '0'). Nothing when the panel is gone.
 */
export const FEED = freeing(
  'feed',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV do redis.call('SPUBLISH', ARGV[1], ARGV[i]) end
return 1
`,
);

/**
 * KEYS meta, state; ARGV knownVersion, knownEpoch. {} when gone |
 * {version, epoch, phase, bytes, revision[, entries]} (entries only when not the known ones).
 */
export const READ = script(
  'read',
  `
local m = redis.call('HMGET', KEYS[1], 'v', 'e', 'ph', 'b', 'r')
if not m[1] then return {} end
local revision = m[5] or '1'
if m[1] == ARGV[1] and m[2] == ARGV[2] then return {m[1], m[2], m[3], m[4], revision} end
return {m[1], m[2], m[3], m[4], revision, redis.call('HGETALL', KEYS[2])}
`,
);

/**
 * KEYS meta, hist, state; ARGV since, epoch. {'gone'} | {'history', version, epoch, revision,
 * frames} | {'snapshot', version, epoch, bytes, revision, entries}.
 */
export const HISTORY = script(
  'history',
  `
local m = redis.call('HMGET', KEYS[1], 'v', 'e', 'b', 'r')
if not m[1] then return {'gone'} end
local revision = m[4] or '1'
local version, since = tonumber(m[1]), tonumber(ARGV[1])
if m[2] == ARGV[2] and since <= version then
  local missing = version - since
  local length = redis.call('LLEN', KEYS[2])
  if missing == 0 then return {'history', m[1], m[2], revision, {}} end
  if missing <= length then
    return {'history', m[1], m[2], revision, redis.call('LRANGE', KEYS[2], length - missing, -1)}
  end
end
return {'snapshot', m[1], m[2], m[3], revision, redis.call('HGETALL', KEYS[3])}
`,
);

/** KEYS meta, def. {} when gone | {version, epoch, phase, createdAt, definition, revision}. */
export const GET = script(
  'get',
  `
local m = redis.call('HMGET', KEYS[1], 'v', 'e', 'ph', 'c', 'r')
if not m[1] then return {} end
return {m[1], m[2], m[3], m[4], redis.call('GET', KEYS[2]), m[5] or '1'}
`,
);

/**
 * KEYS meta, def, state, hist, revisions, logs, requests, requestExpiry; ARGV ttlMs. 1 when a
 * ready panel is now deleting. The panel's
 * keys expire after ttlMs: a kernel that dies before REMOVE leaves nothing behind for longer
 * (the index forgets ids whose panel expired, RedisStore.sweep()).
 */
export const BEGIN_DELETE = freeing(
  'begin-delete',
  `
if redis.call('HGET', KEYS[1], 'ph') ~= 'ready' then return 0 end
redis.call('HSET', KEYS[1], 'ph', 'deleting')
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return 1
`,
);

/**
 * KEYS meta, def, state, hist, lock, revisions, logs, requests, requestExpiry; ARGV channel,
 * origin. Frees first, then tells every kernel.
 */
export const REMOVE = freeing(
  'remove',
  `
local existed = redis.call('DEL', unpack(KEYS))
redis.call('SPUBLISH', ARGV[1], 'D|' .. ARGV[2] .. '||')
return existed
`,
);
