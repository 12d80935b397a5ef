-- Commit forwarding positions of streams this node still holds the lease
-- of, and trim what is committed from each forwarding log.
-- KEYS triples: lease, position, forwarding log
-- ARGV[1] node id, ARGV[i+1] the position of the i-th triple
-- The position and the log expire after a day without a commit (a show
-- that ended leaves nothing behind; a later line starts a fresh log).
-- → per triple 1 committed, 0 lease not held (nothing written)
local out = {}
for i = 1, #KEYS / 3 do
  local lease, pos, log = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  if redis.call('GET', lease) == ARGV[1] then
    redis.call('SET', pos, ARGV[i+1], 'PX', 86400000)
    redis.call('XTRIM', log, 'MINID', '~', ARGV[i+1])
    redis.call('PEXPIRE', log, 86400000)
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
