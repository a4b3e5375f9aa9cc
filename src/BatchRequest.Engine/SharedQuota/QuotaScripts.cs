namespace BatchRequest.Engine.SharedQuota;

/// <summary>
/// The quota's updates, each one Lua script that Redis runs atomically, so participants never race on a
/// read-modify-write. Times are the store's own clock (<c>TIME</c>, in ms), so the participants' clocks do not matter.
/// Keys: the slots (a sorted set of leases scored by their end), the next start the rate allows, the hosts' pauses
/// (a hash of host to resume time), and the limit an adaptive participant found.
/// </summary>
internal static class QuotaScripts
{
    private const string Now = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) ";

    /// <summary>
    /// KEYS slots, next start, pauses, limit, waiting participants (by when they were first refused), when each
    /// last asked; ARGV lease ms, limit, ms between starts (0: no rate), host, participant, lease ids.
    /// Leases as many of the ids, in order, as there are free slots: one round trip however many workers wait. A
    /// slot is kept for each participant that has waited longer than the one asking, so a participant that gives a
    /// slot back and asks again does not take it from one that waits; one that stops asking for 2 s loses its place.
    /// Returns {0, ms} while the host is paused, {0, -1} while no slot is free for the one asking, or {leased,
    /// slots now held, then for each leased id the ms to wait before starting (the rate's spacing)}. Leases past
    /// their end are removed first: a killed participant's slots come back without any cleanup run.
    /// </summary>
    public const string Acquire = Now + @"
local resume = tonumber(redis.call('HGET', KEYS[3], ARGV[4]) or '0')
if resume > now then return {0, resume - now} end
local limit = tonumber(ARGV[2])
local found = tonumber(redis.call('GET', KEYS[4]) or '0')
if found > 0 and found < limit then limit = found end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, waiting in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do
  if tonumber(redis.call('HGET', KEYS[6], waiting) or '0') < now - 2000 then
    redis.call('ZREM', KEYS[5], waiting)
    redis.call('HDEL', KEYS[6], waiting)
  end
end
local mine = redis.call('ZSCORE', KEYS[5], ARGV[5])
local ahead
if mine then ahead = redis.call('ZCOUNT', KEYS[5], '-inf', '(' .. mine) else ahead = redis.call('ZCARD', KEYS[5]) end
local held = redis.call('ZCARD', KEYS[1])
local free = limit - held - ahead
if free <= 0 then
  redis.call('ZADD', KEYS[5], 'NX', now, ARGV[5])
  redis.call('HSET', KEYS[6], ARGV[5], now)
  redis.call('PEXPIRE', KEYS[5], 60000)
  redis.call('PEXPIRE', KEYS[6], 60000)
  return {0, -1}
end
redis.call('ZREM', KEYS[5], ARGV[5])
redis.call('HDEL', KEYS[6], ARGV[5])
local count = math.min(free, #ARGV - 5)
local lease = tonumber(ARGV[1])
local spacing = tonumber(ARGV[3])
local start = now
if spacing > 0 then start = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0')) end
local reply = {count, held + count}
for i = 1, count do
  reply[i + 2] = start - now
  redis.call('ZADD', KEYS[1], start + lease, ARGV[i + 5])
  if spacing > 0 then start = start + spacing end
end
if spacing > 0 then redis.call('SET', KEYS[2], start, 'PX', start - now + 60000) end
redis.call('PEXPIRE', KEYS[1], start - now + lease + 60000)
return reply";

    /// <summary>KEYS slots; ARGV lease ms, lease ids. Extends the leases still held; returns how many were.</summary>
    public const string Renew = Now + @"
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) + 60000)
return renewed";

    /// <summary>KEYS slots; ARGV lease id, channel. Gives the slot back and tells the waiting participants.</summary>
    public const string Release = @"
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then redis.call('PUBLISH', ARGV[2], '1') end
return 0";

    /// <summary>
    /// KEYS pauses; ARGV host, ms, channel. Pauses the host for every participant, never shortening a longer pause,
    /// and tells them at once ("ms host"), so that none goes on with the slots it holds.
    /// </summary>
    public const string Pause = Now + @"
local resume = now + tonumber(ARGV[2])
if resume > tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') then
  redis.call('HSET', KEYS[1], ARGV[1], resume)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < tonumber(ARGV[2]) + 60000 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000) end
  redis.call('PUBLISH', ARGV[3], ARGV[2] .. ' ' .. ARGV[1])
end
return resume - now";
}
