-- Take a stream's lease if it is free (or held under this node's id by a
-- former life of the node), and read the stream's committed forwarding
-- position in the same step.
-- KEYS[1] lease, KEYS[2] committed position
-- ARGV[1] node id, ARGV[2] TTL in milliseconds
-- → {1, position} when taken ("0-0" if none), {0, holder} otherwise
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  local pos = redis.call('GET', KEYS[2])
  if pos == false then pos = '0-0' end
  return {1, pos}
end
return {0, cur}
