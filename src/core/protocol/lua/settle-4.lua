--[[
  settle-4: settles a whole batch at once: empties a worker's processing list and pushes each
  item's outcome to its destination, in one atomic call, without the items being sent back.

  It applies only when the processing list holds exactly the batch: a consumer that takes the whole
  list (take-2 without "new") and settles it before its next take. The guard is the list's length
  and its two ends (the batch's oldest item at the tail, its newest at the head). Nothing but the
  owner's take adds to a processing list, and a janitor only empties it, so when the guard holds the
  list is the batch. When it does not (a janitor returned the batch after a heartbeat gap), nothing
  is done and 0 is returned: the caller settles item by item with move-4, which pushes nothing for
  items that are gone.

  Input:
    KEYS[1]     processing list
    KEYS[2..4]  destination lists (an unused slot may repeat KEYS[1])
    ARGV[1]     n: the number of items in the batch
    ARGV[2]     the batch's oldest item (taken first: at the tail)
    ARGV[3]     the batch's newest item (at the head)
    ARGV[4..]   pairs of op, replacement, in batch order, for the items that push something:
                  "L<k>"  LPUSH the replacement to KEYS[k] (k = 2..4): a queue's producer end
                  "R<k>"  RPUSH it: a queue's consumer end, taken next
                (items that are only removed need no pair)

  Output:
    1                 the batch was removed and every push done
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
if redis.call('LLEN', KEYS[1]) ~= n
  or redis.call('LINDEX', KEYS[1], -1) ~= ARGV[2]
  or redis.call('LINDEX', KEYS[1], 0) ~= ARGV[3] then
  return 0
end
redis.call('DEL', KEYS[1])
for _, list in pairs(pushes) do
  for i = 1, #list, 1000 do
    redis.call(list.cmd, list.dest, unpack(list, i, math.min(i + 999, #list)))
  end
end
return 1
