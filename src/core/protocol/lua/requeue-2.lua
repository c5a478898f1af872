--[[
  requeue-2: returns every item of a processing list to the consumer end of its queue, keeping their
  order (the oldest is taken next). Used by a worker that stops with work in hand.

  Input:
    KEYS[1]  processing list
    KEYS[2]  queue the items came from

  Output:
    the number of items returned
]]
local n = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do
  n = n + 1
end
return n
