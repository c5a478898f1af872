--[[
  rate-limit-sliding-1: sliding-window log limiter shared by every node on the Redis. Admits up to
  `count` requests at once (MUTT batches the requests that arrive in one event-loop tick); a MUTT 2.x
  node adding one member per request shares the same window.

  Input:
    KEYS[1]  sorted set; score = request time, member = unique request id
    ARGV[1]  limit: requests allowed per window
    ARGV[2]  window length, in the unit of the scores
    ARGV[3]  now, in the unit of the scores
    ARGV[4]  count of requests asking for admission
    ARGV[5]  unique member prefix (pod id + counter); members are <prefix>:<i>
    ARGV[6]  key TTL in milliseconds

  Output:
    { admitted, oldest }  admitted = how many of the `count` requests may proceed (the first ones);
                          oldest = score of the oldest entry in the window (to compute Retry-After),
                          or -1 when the window is empty
]]
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local count = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
local admitted = math.max(0, math.min(count, limit - used))
for i = 1, admitted do
  redis.call('ZADD', key, now, ARGV[5] .. ':' .. i)
end
if admitted > 0 then
  redis.call('PEXPIRE', key, ARGV[6])
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] then
  return { admitted, oldest[2] }
end
return { admitted, '-1' }
