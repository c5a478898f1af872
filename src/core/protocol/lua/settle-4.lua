--[[
  settle-4: settles a whole batch at once: removes it from the tail of a worker's processing list
  and pushes each item's outcome to its destination, in one atomic call, without the items being
  sent back.

  It applies to a consumer that settles its batches in the order it took them: the oldest batch in
  hand is then the tail of the list (take-2 pushes new items at the head). The guard is the list's
  length and the batch's two ends (its oldest item at the tail, its newest n-1 places up). Nothing but
  the owner's takes adds to a processing list, and a janitor only empties it, so when the guard holds
  those n items are the batch. When it does not (a janitor returned the batch after a heartbeat gap),
  nothing is done and 0 is returned: the caller settles item by item with move-4, which pushes
  nothing for items that are gone.

  Input:
    KEYS[1]     processing list
    KEYS[2..4]  destination lists (an unused slot may repeat KEYS[1])
    ARGV[1]     n: the number of items in the batch
    ARGV[2]     the batch's oldest item (taken first: at the tail)
    ARGV[3]     the batch's newest item (n-1 places from the tail)
    ARGV[4..]   pairs of op, replacement, in batch order, for the items that push something:
                  "L<k>"  LPUSH the replacement to KEYS[k] (k = 2..4): a queue's producer end
                  "R<k>"  RPUSH it: a queue's consumer end, taken next
                (items that are only removed need no pair)

  Output:
    1                 the batch was removed (the newer items in hand stay) and every push done
    0                 the guard failed; nothing was done
    error "bad op"    an op other than the above (nothing was done)
]]
local n = tonumber(ARGV[1])
local pushes = {}
for i = 4, #ARGV, 2 do
  local op = ARGV[i]
  local side = string.sub(op, 1, 1)
  local k = tonumber(string.sub(op, 2))
  if (side ~= 'L' and side ~= 'R') or k == nil or k < 2 or k > 4 then
    return redis.error_reply('bad op ' .. op)
  end
  local key = side .. k
  local list = pushes[key]
  if not list then
    list = { cmd = side == 'L' and 'LPUSH' or 'RPUSH', dest = KEYS[k] }
    pushes[key] = list
  end
  list[#list + 1] = ARGV[i + 1]
end
local len = redis.call('LLEN', KEYS[1])
if n < 1 or len < n
  or redis.call('LINDEX', KEYS[1], -1) ~= ARGV[2]
  or redis.call('LINDEX', KEYS[1], -n) ~= ARGV[3] then
  return 0
end
if len == n then
  redis.call('DEL', KEYS[1])
else
  redis.call('LTRIM', KEYS[1], 0, -n - 1)
end
for _, list in pairs(pushes) do
  for i = 1, #list, 1000 do
    redis.call(list.cmd, list.dest, unpack(list, i, math.min(i + 999, #list)))
  end
end
return 1
