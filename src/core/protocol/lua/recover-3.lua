--[[
  recover-3: the janitor's move. Returns the processing list of a worker presumed dead to the consumer
  end of its queue, keeping order, unless the worker's heartbeat reappeared (checked atomically with
  the move, so a live worker never loses its batch).

  Input:
    KEYS[1]  processing list of the worker
    KEYS[2]  heartbeat key of the worker
    KEYS[3]  queue the items came from

  Output:
    -1 when the heartbeat exists (nothing moved), else the number of items returned
]]
if redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
local n = 0
while redis.call('LMOVE', KEYS[1], KEYS[3], 'LEFT', 'RIGHT') do
  n = n + 1
end
return n
