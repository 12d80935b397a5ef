-- Extend the leases this node holds; a lease that lapsed or changed hands
-- is left alone.
-- KEYS lease keys; ARGV[1] node id, ARGV[2] TTL in milliseconds
-- → per key, the holder after the call ("" if none)
local out = {}
for i, k in ipairs(KEYS) do
  local cur = redis.call('GET', k)
  if cur == ARGV[1] then
    redis.call('PEXPIRE', k, ARGV[2])
  end
  if cur == false then cur = '' end
  out[i] = cur
end
return out
