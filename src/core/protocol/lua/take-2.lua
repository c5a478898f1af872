--[[
  take-2: reliable dequeue of a batch. Tops a worker's processing list up to `max` items from the
  consumer end (tail) of a queue and returns everything in the processing list, oldest first, in one
  atomic call. A consumer acknowledges a batch before it takes the next, so items already in the list
  at take time were never acknowledged: left by an earlier life of the same worker, or moved by a
  blocking move whose reply was lost with the connection. They are returned again rather than
  stranded behind a live heartbeat.

  With ARGV[2] = "new", it instead moves up to `max` more items and returns only those: a consumer
  that keeps several batches in flight tops up without reading back what it already holds (the items
  it holds are known to it; anything else in the list is returned by its next plain take).

  Input:
    KEYS[1]  source queue (list; producers LPUSH, consumers take from the right)
    KEYS[2]  processing list of this worker
    ARGV[1]  max: the size the processing list is topped up to ("new": how many more to move)
    ARGV[2]  optional "new": move up to max items and return only them

  Items are moved with one RPOP of a count and LPUSHes of up to 1,000 items (the layout LMOVE RIGHT
  LEFT one by one would leave: the oldest at the tail), not one call per item.

  Output:
    the processing list after the move, oldest first (empty when both lists are empty);
    with "new": the items moved, oldest first
]]
local max = tonumber(ARGV[1])

-- Moves up to n items from the tail of the queue to the head of the processing list; returns them,
-- oldest first.
local function move(n)
  if n <= 0 then
    return {}
  end
  local items = redis.call('RPOP', KEYS[1], n)
  if not items then
    return {}
  end
  for i = 1, #items, 1000 do
    redis.call('LPUSH', KEYS[2], unpack(items, i, math.min(i + 999, #items)))
  end
  return items
end

if ARGV[2] == 'new' then
  return move(max)
end
local have = redis.call('LLEN', KEYS[2])
if have == 0 then
  return move(max)
end
move(max - have)
local items = redis.call('LRANGE', KEYS[2], 0, -1)
local n = #items
for i = 1, math.floor(n / 2) do
  items[i], items[n - i + 1] = items[n - i + 1], items[i]
end
return items
