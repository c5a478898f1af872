--[[
  ack-1: acknowledges finished items by removing them from a worker's processing list.

  Input:
    KEYS[1]  processing list
    ARGV[1..n]  the exact item strings to remove (one occurrence each)

  Output:
    the number of items removed (less than n when an item was already gone, e.g. recovered by a
    janitor after a heartbeat gap)
]]
local removed = 0
for i = 1, #ARGV do
  removed = removed + redis.call('LREM', KEYS[1], 1, ARGV[i])
end
return removed
