--[[
  node-lease-1: the name of a running MUTT node (POD_NAME, by default the host name) is held by one
  process at a time: a key whose value describes the holder and which lives a few seconds unless
  renewed. A process that starts claims it; a restart of the same node takes it over from a
  predecessor proven gone (the caller checks the PID on this host); renewals keep it; a clean stop
  releases it. MUTT addition (Python nodes use `<hostname>-<pid>` names and never see it).

  Input:
    KEYS[1]  mutt:node:<name>
    ARGV[1]  operation: "claim" (only when free), "takeover" (only from the holder in ARGV[4]),
             "renew" (when held by us, or free again after a Redis restart), "release" (when ours)
    ARGV[2]  our holder value (JSON: host, pid, process start, boot id, start time)
    ARGV[3]  lifetime, milliseconds
    ARGV[4]  takeover: the exact value of the holder being replaced

  Output: { ok, holder }
    ok      1 done, 0 refused
    holder  when refused: the value of the process that holds the name
]]
local op = ARGV[1]
local mine = ARGV[2]
local ttl = tonumber(ARGV[3])
local current = redis.call('GET', KEYS[1])

if op == 'release' then
  if current == mine then
    redis.call('DEL', KEYS[1])
  end
  return { 1, '' }
end
-- Free (never held, expired, or lost with a Redis restart) or already ours: any operation takes it.
if current == false or current == mine then
  redis.call('SET', KEYS[1], mine, 'PX', ttl)
  return { 1, '' }
end
if op == 'takeover' and current == ARGV[4] then
  redis.call('SET', KEYS[1], mine, 'PX', ttl)
  return { 1, '' }
end
return { 0, current }
