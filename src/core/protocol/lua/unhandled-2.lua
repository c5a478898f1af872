--[[
  unhandled-2: counts one unhandled event for a host and message signature (PROTOCOL.md, "Lua
  semantics"), the same script semantics as Python MUTT 2.x so both count into one key. While a
  meta-alert's suppression marker exists nothing is counted. The counter lives UNHANDLED_EXPIRY_SECONDS
  from its first event; when it reaches the threshold it becomes the suppression marker (RENAME) for
  another expiry period and the caller raises one meta-alert. `>=` rather than `==`, so a threshold
  lowered below a running count still fires.

  Input:
    KEYS[1]  counter      mutt:unhandled:<hostname>:<sig>
    KEYS[2]  suppression  mutt:unhandled:<hostname>:<sig>:triggered
    ARGV[1]  threshold (integer >= 1)
    ARGV[2]  expiry seconds (integer >= 1)

  Output:
    1  the threshold was reached: raise one meta-alert
    0  counted (or suppressed): nothing to raise
]]
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
end
if n >= tonumber(ARGV[1]) then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
  return 1
end
return 0
