--[[
  enqueue-4: push a batch of events onto the ingest queue and count them in the per-minute, per-hour
  and per-day metrics buckets, atomically, unless the queue is at its cap.

  Input:
    KEYS[1]  ingest queue (list; producers LPUSH, consumers take from the tail)
    KEYS[2]  metrics bucket 1m   (string int)
    KEYS[3]  metrics bucket 1h   (string int)
    KEYS[4]  metrics bucket 24h  (string int)
    ARGV[1]  queue cap: refuse the whole batch when LLEN >= cap (0 = no cap)
    ARGV[2]  TTL of the 1m bucket (seconds)
    ARGV[3]  TTL of the 1h bucket (seconds)
    ARGV[4]  TTL of the 24h bucket (seconds)
    ARGV[5..] events (JSON strings), oldest first

  Output:
    { 1, depth }  all events pushed; depth = LLEN after the push
    { 0, depth }  queue at its cap; nothing pushed; depth = current LLEN
]]
local queue = KEYS[1]
local cap = tonumber(ARGV[1])
local depth = redis.call('LLEN', queue)
if cap > 0 and depth >= cap then
  return { 0, depth }
end
local n = #ARGV - 4
if n <= 0 then
  return { 1, depth }
end
-- unpack() is bounded by the Lua C stack, so push in slices.
local slice = 1000
for i = 5, #ARGV, slice do
  depth = redis.call('LPUSH', queue, unpack(ARGV, i, math.min(i + slice - 1, #ARGV)))
end
for k = 2, 4 do
  redis.call('INCRBY', KEYS[k], n)
  redis.call('EXPIRE', KEYS[k], ARGV[k])
end
return { 1, depth }
