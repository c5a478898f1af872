--[[
  unhandled-5: counts one unhandled event for a host and message signature (PROTOCOL.md, "Lua
  semantics"), with the counting semantics of Python MUTT 2.x so both count into one key: while a
  meta-alert's suppression marker exists nothing is counted; the counter lives UNHANDLED_EXPIRY_SECONDS
  from its first event; when it reaches the threshold it becomes the suppression marker (RENAME) for
  another expiry period and the caller raises one meta-alert. `>=` rather than `==`, so a threshold
  lowered below a running count still fires.

  MUTT addition: at most `cap` distinct signatures are counted per host and window. The signatures
  seen are kept in a set that lives one expiry period from its first member; a new signature beyond
  the cap is counted under the host's overflow counter instead (KEYS[4], KEYS[5]), so random garbage
  sent to a listener cannot create keys without bound. Python nodes ignore the set.

  Input:
    KEYS[1]  counter        mutt:unhandled:<hostname>:<sig>
    KEYS[2]  suppression    mutt:unhandled:<hostname>:<sig>:triggered
    KEYS[3]  signature set  mutt:unhandled_signatures:<hostname>
    KEYS[4]  overflow counter      mutt:unhandled:<hostname>:overflow
    KEYS[5]  overflow suppression  mutt:unhandled:<hostname>:overflow:triggered
    ARGV[1]  threshold (integer >= 1)
    ARGV[2]  expiry seconds (integer >= 1)
    ARGV[3]  cap: distinct signatures per host and window (0: no cap)
    ARGV[4]  sig: the signature of KEYS[1]

  Output: { fired, folded }
    fired   1 when the threshold was reached (raise one meta-alert), else 0
    folded  1 when the event was counted under the overflow counter (the cap was reached), else 0
]]
local threshold = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local counter, suppression, folded = KEYS[1], KEYS[2], 0
if cap > 0 and redis.call('SISMEMBER', KEYS[3], ARGV[4]) == 0 then
  local have = redis.call('SCARD', KEYS[3])
  if have >= cap then
    counter, suppression, folded = KEYS[4], KEYS[5], 1
  else
    redis.call('SADD', KEYS[3], ARGV[4])
    if have == 0 then
      redis.call('EXPIRE', KEYS[3], expiry)
    end
  end
end
if redis.call('EXISTS', suppression) == 1 then
  return { 0, folded }
end
local n = redis.call('INCR', counter)
if n == 1 then
  redis.call('EXPIRE', counter, expiry)
end
if n >= threshold then
  redis.call('RENAME', counter, suppression)
  redis.call('EXPIRE', suppression, expiry)
  return { 1, folded }
end
return { 0, folded }
