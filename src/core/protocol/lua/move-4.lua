--[[
  move-4: removes exact items from one list and sends each to the destination chosen for it, in one
  atomic call. An item is pushed to its destination only if it was still in the source list, so a
  call repeated after a lost reply, or an item a janitor already returned to its queue, never
  produces a second copy. Used to settle a forwarder request (acknowledge delivered alerts,
  dead-letter rejected ones, hold back retried ones), to release a retry list's due alerts, and by
  remediation and `mutt dlq replay|purge` to move dead-letter items.

  Input:
    KEYS[1]     source list
    KEYS[2..4]  destination lists (an unused slot may repeat KEYS[1])
    ARGV[1]     which occurrence LREM removes: 1 searches from the head, -1 from the tail
    ARGV[2..]   triples of op, item, replacement:
                  "-"          remove the item only (acknowledge, purge); replacement ignored
                  "L<k>"       remove the item, then LPUSH the replacement to KEYS[k] (k = 2..4):
                               a queue's producer end, joining the back of the line
                  "R<k>"       the same with RPUSH: a queue's consumer end, taken next

  Output:
    { found, missing, gone }  found = items that were in the source and were moved or removed;
                              missing = items no longer there (nothing was pushed for them);
                              gone = the 1-based positions (triple numbers) of those missing items
    error "bad op"            an op other than the above (nothing after it was done)
]]
local direction = tonumber(ARGV[1])
local found = 0
local gone = {}
for i = 2, #ARGV, 3 do
  local op = ARGV[i]
  local side = string.sub(op, 1, 1)
  local k = tonumber(string.sub(op, 2))
  if op ~= '-' and ((side ~= 'L' and side ~= 'R') or k == nil or k < 2 or k > 4) then
    return redis.error_reply('bad op ' .. op)
  end
  if redis.call('LREM', KEYS[1], direction, ARGV[i + 1]) > 0 then
    found = found + 1
    if side == 'L' then
      redis.call('LPUSH', KEYS[k], ARGV[i + 2])
    elseif side == 'R' then
      redis.call('RPUSH', KEYS[k], ARGV[i + 2])
    end
  else
    gone[#gone + 1] = (i + 1) / 3
  end
end
return { found, #gone, gone }
