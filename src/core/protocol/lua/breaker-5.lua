--[[
  breaker-5: the Moogsoft circuit breaker shared by every forwarder on the Redis (PROTOCOL.md), as
  one explicit state machine:

                 failure that brings the count to the threshold
      CLOSED ──────────────────────────────────────────────────► OPEN
        ▲   success resets the count                               │  acquire after the open timeout:
        │                                                          │  the caller becomes the probe
        │                        success                           ▼
        └──────────────────────────────────────────────────── HALF_OPEN ──failure──► OPEN (again)

  Python MUTT 2.x nodes share the state, failures and open_time keys. Two MUTT additions, which
  Python nodes ignore:
  - the probe lease: exactly one forwarder sends the half-open probe, and the lease expires if that
    forwarder dies, so another takes over;
  - probe backoff: the open timeout is the initial timeout doubled for every probe that failed since
    the breaker last closed, up to the maximum (KEYS[5] counts those probes), then shortened by up to
    a quarter, by a fraction read off the milliseconds of the time it opened (scripts have no
    randomness of their own; that time is as good as random), so that probes do not fall into step
    with a Moogsoft that flaps at a regular period. A short outage is probed again within seconds, a
    long one no more often than once per maximum timeout. The count expires on its own (four maximum
    timeouts after the last failed probe), so a breaker closed by another implementation starts from
    the initial timeout again.

  Input:
    KEYS[1]  state       "CLOSED" | "OPEN" | "HALF_OPEN" (missing means CLOSED)
    KEYS[2]  failures    consecutive failures (string int)
    KEYS[3]  open_time   epoch seconds (float) when the breaker opened
    KEYS[4]  probe       lease of the half-open probe (value = holder; expires)
    KEYS[5]  probe_failures  failed probes since the breaker last closed (string int)
    ARGV[1]  operation   "acquire": may I send?  "success" | "failure": the outcome of a request;
                         "release": give the probe lease back without a verdict (e.g. a 429)
    ARGV[2]  now, epoch milliseconds
    ARGV[3]  threshold: consecutive failures that open the breaker
    ARGV[4]  maximum open timeout, milliseconds
    ARGV[5]  probe lease, milliseconds
    ARGV[6]  holder: unique id of the calling forwarder
    ARGV[7]  initial open timeout, milliseconds

  Output: { state, permit, transition, wait_ms }
    state       the state after the call
    permit      acquire: 0 = wait, 1 = send, 2 = send as the half-open probe; other operations: 0
    transition  "" or "FROM>TO" when this call changed the state (the caller counts it)
    wait_ms     acquire with permit 0, or a call that opened the breaker: when asking again may
                change the answer
]]
local op = ARGV[1]
local now = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local max_timeout = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local holder = ARGV[6]
local initial = tonumber(ARGV[7])
local state = redis.call('GET', KEYS[1]) or 'CLOSED'
if state ~= 'OPEN' and state ~= 'HALF_OPEN' then
  state = 'CLOSED'
end

-- The open timeout after `n` failed probes, for a breaker opened at `opened_ms`: initial * 2^n, at
-- most the maximum, times a factor from 0.75 to 1 read off the milliseconds of `opened_ms`.
local function timeout_after(n, opened_ms)
  local t = initial
  for _ = 1, math.min(n, 40) do
    t = t * 2
    if t >= max_timeout then
      t = max_timeout
      break
    end
  end
  t = math.min(t, max_timeout)
  return math.floor(t * (0.75 + 0.25 * (math.floor(opened_ms + 0.5) % 1000) / 1000))
end

local function open(from)
  local n = 0
  if from == 'HALF_OPEN' then
    n = redis.call('INCR', KEYS[5])
    redis.call('PEXPIRE', KEYS[5], 4 * max_timeout)
  else
    redis.call('DEL', KEYS[5])
  end
  redis.call('SET', KEYS[1], 'OPEN')
  redis.call('SET', KEYS[3], string.format('%.3f', now / 1000))
  redis.call('DEL', KEYS[4])
  return { 'OPEN', 0, from .. '>OPEN', timeout_after(n, now) }
end

if op == 'acquire' then
  if state == 'CLOSED' then
    return { state, 1, '', 0 }
  end
  if state == 'OPEN' then
    local failed = tonumber(redis.call('GET', KEYS[5])) or 0
    local opened = tonumber(redis.call('GET', KEYS[3]))
    if opened == nil then
      -- OPEN without a time (written by another implementation): start the timeout now.
      redis.call('SET', KEYS[3], string.format('%.3f', now / 1000))
      return { state, 0, '', timeout_after(failed, now) }
    end
    local left = opened * 1000 + timeout_after(failed, opened * 1000) - now
    if left > 0 then
      return { state, 0, '', math.ceil(left) }
    end
    redis.call('SET', KEYS[1], 'HALF_OPEN')
    redis.call('SET', KEYS[4], holder, 'PX', lease)
    return { 'HALF_OPEN', 2, 'OPEN>HALF_OPEN', 0 }
  end
  -- HALF_OPEN: the one holder of the lease probes; everyone else waits for its verdict.
  if redis.call('SET', KEYS[4], holder, 'NX', 'PX', lease) then
    return { state, 2, '', 0 }
  end
  return { state, 0, '', math.max(1, redis.call('PTTL', KEYS[4])) }
end

if op == 'success' then
  if state == 'HALF_OPEN' then
    redis.call('SET', KEYS[1], 'CLOSED')
    redis.call('SET', KEYS[2], '0')
    redis.call('DEL', KEYS[3], KEYS[4], KEYS[5])
    return { 'CLOSED', 0, 'HALF_OPEN>CLOSED', 0 }
  end
  if state == 'CLOSED' and (tonumber(redis.call('GET', KEYS[2])) or 0) > 0 then
    redis.call('SET', KEYS[2], '0')
  end
  -- OPEN: a request sent before the breaker opened came back fine; the probe still decides.
  return { state, 0, '', 0 }
end

if op == 'failure' then
  if state == 'CLOSED' then
    local failures = redis.call('INCR', KEYS[2])
    if failures >= threshold then
      return open('CLOSED')
    end
    return { state, 0, '', 0 }
  end
  if state == 'HALF_OPEN' then
    return open('HALF_OPEN')
  end
  return { state, 0, '', 0 }
end

if op == 'release' then
  if redis.call('GET', KEYS[4]) == holder then
    redis.call('DEL', KEYS[4])
  end
  return { state, 0, '', 0 }
end

return redis.error_reply('unknown operation ' .. tostring(op))
