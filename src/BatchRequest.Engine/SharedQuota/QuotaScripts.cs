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
    /// KEYS slots, next start, pauses, limit; ARGV lease id, lease ms, limit, ms between starts (0: no rate), host.
    /// Returns {0, ms} while the host is paused, {0, -1} while every slot is held, or {1, ms to wait before
    /// starting (the rate's spacing), slots now held}. Leases past their end are removed first: a killed
    /// participant's slots come back without any cleanup run.
    /// </summary>
    public const string Acquire = Now + @"
local resume = tonumber(redis.call('HGET', KEYS[3], ARGV[5]) or '0')
if resume > now then return {0, resume - now} end
local limit = tonumber(ARGV[3])
local found = tonumber(redis.call('GET', KEYS[4]) or '0')
if found > 0 and found < limit then limit = found end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= limit then return {0, -1} end
local wait = 0
local spacing = tonumber(ARGV[4])
if spacing > 0 then
  local start = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
  wait = start - now
  redis.call('SET', KEYS[2], start + spacing, 'PX', wait + spacing + 60000)
end
redis.call('ZADD', KEYS[1], now + wait + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], wait + tonumber(ARGV[2]) + 60000)
return {1, wait, held + 1}";

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

    /// <summary>KEYS pauses; ARGV host, ms. Pauses the host for every participant, never shortening a longer pause.</summary>
    public const string Pause = Now + @"
local resume = now + tonumber(ARGV[2])
if resume > tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') then
  redis.call('HSET', KEYS[1], ARGV[1], resume)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < tonumber(ARGV[2]) + 60000 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000) end
end
return resume - now";
}
