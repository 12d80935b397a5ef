package cluster

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// OwnerOf returns the node that decides stream, without taking the stream
// when nobody does (Owner takes it): for a REST call or a page that names a
// stream, which should go to its decider but not make this node one.
// known is false when no node holds the stream's lease or Redis cannot be
// asked (then the caller answers itself). It answers from the lease cache
// when the stream was seen here, else with one GET.
func (n *Node) OwnerOf(stream string) (owner Peer, self, known bool) {
	if n.degraded.Load() || n.closed.Load() {
		return n.self, true, false
	}
	if v, ok := n.leases.m.Load(stream); ok {
		if l := v.(*lease); l.done.Load() {
			if l.self.Load() {
				return n.self, true, true
			}
			if o := l.owner.Load(); o != nil && *o != "" {
				p, live := n.Peer(*o)
				return p, false, live
			}
		}
	}
	ctx, cancel := context.WithTimeout(n.ctx, opTimeout)
	defer cancel()
	holder, err := n.rdb.Get(ctx, n.leaseKey(stream)).Result()
	if errors.Is(err, redis.Nil) || err != nil || holder == "" {
		return Peer{}, false, false
	}
	if holder == n.o.NodeID {
		return n.self, true, true
	}
	p, live := n.Peer(holder)
	return p, false, live
}
