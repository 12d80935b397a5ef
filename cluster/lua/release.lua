-- Delete the leases this node holds (and only those).
-- KEYS lease keys; ARGV[1] node id → number deleted
local n = 0
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then
    redis.call('DEL', k)
    n = n + 1
  end
end
return n
