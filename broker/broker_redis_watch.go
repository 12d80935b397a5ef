package broker

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The watch set of the Redis broker: which node watches which topic.

// Watched implements Broker: a subscriber here or on another node.
func (b *Redis) Watched(view View) bool {
	return b.local.Watched(view) || b.remoteView[view].Load() != 0
}

// Subscribers implements Broker: those here and those on other nodes.
func (b *Redis) Subscribers(stream string, view View) int {
	n := b.local.Subscribers(stream, view)
	if b.remoteView[view].Load() == 0 {
		return n
	}
	s := b.remoteShard(stream)
	s.mu.RLock()
	for _, c := range s.m[Topic{stream, view}] {
		n += c
	}
	s.mu.RUnlock()
	return n
}

// Subscribe implements Broker. The other nodes learn of it within a
// round trip to Redis (a notice on the watch channel).
func (b *Redis) Subscribe(t Topic, s Subscriber) {
	b.local.Subscribe(t, s)
	b.markDirty(t)
}

// Unsubscribe implements Broker.
func (b *Redis) Unsubscribe(t Topic, s Subscriber) {
	b.local.Unsubscribe(t, s)
	b.markDirty(t)
}

func (b *Redis) markDirty(t Topic) {
	b.wmu.Lock()
	b.dirty[t] = struct{}{}
	b.wmu.Unlock()
	select {
	case b.wwake <- struct{}{}:
	default:
	}
}

// setRemote records that node has count subscribers of t (0: none).
// atLeast keeps a larger count already known.
func (b *Redis) setRemote(t Topic, node string, count int, atLeast bool) {
	s := b.remoteShard(t.Stream)
	s.mu.Lock()
	nodes := s.m[t]
	old := nodes[node]
	if atLeast && old >= count {
		s.mu.Unlock()
		return
	}
	switch {
	case count > 0 && old == 0:
		if b.remotePair.Load() >= maxRemoteWatches {
			s.mu.Unlock()
			b.m.errors.WithLabelValues("remote_watches_full").Inc()
			return
		}
		if nodes == nil {
			nodes = map[string]int{}
			s.m[t] = nodes
		}
		nodes[node] = count
		b.remoteView[t.View].Add(1)
		b.remotePair.Add(1)
	case count > 0:
		nodes[node] = count
	case old > 0:
		delete(nodes, node)
		if len(nodes) == 0 {
			delete(s.m, t)
		}
		b.remoteView[t.View].Add(-1)
		b.remotePair.Add(-1)
	}
	s.mu.Unlock()
}

// replaceRemote sets the watches of the nodes for which only is true to
// what all holds for them (none when absent). A watch in both is updated
// in place, never removed and added again: a publisher in between would
// skip its line. Call it with amu held.
func (b *Redis) replaceRemote(all map[string]map[Topic]int, only func(node string) bool) {
	for i := range b.remote {
		s := &b.remote[i]
		s.mu.Lock()
		for t, nodes := range s.m {
			for n := range nodes {
				if !only(n) {
					continue
				}
				if c := all[n][t]; c > 0 {
					nodes[n] = c
					continue
				}
				delete(nodes, n)
				b.remoteView[t.View].Add(-1)
				b.remotePair.Add(-1)
			}
			if len(nodes) == 0 {
				delete(s.m, t)
			}
		}
		s.mu.Unlock()
	}
	for n, set := range all {
		if !only(n) {
			continue
		}
		for t, c := range set {
			if c > 0 {
				b.setRemote(t, n, c, false)
			}
		}
	}
}

// watch is the goroutine that keeps this node's watch set in Redis (a
// hash topic → subscribers, with an expiry, and a notice to the others
// for each change) and reloads the other nodes' sets: at start, every
// WatchTTL and whenever the subscription is restored after Redis was
// away.
func (b *Redis) watch() {
	defer b.wg.Done()
	tick := time.NewTicker(b.ttl / 3)
	defer tick.Stop()
	full, reload, hello := true, true, false
	lastReload := time.Time{}
	backoff := 50 * time.Millisecond
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.wwake:
		case <-b.restore:
			full, reload, hello = true, true, true
		case <-b.announce:
			full = true
		case <-tick.C:
			if time.Since(lastReload) >= b.ttl {
				reload = true
			}
		}
		for b.ctx.Err() == nil {
			err := b.writeWatches(full, hello)
			if err == nil {
				full, hello = false, false
				if reload {
					err = b.reloadWatches()
					if err == nil {
						reload, lastReload = false, time.Now()
					}
				}
			}
			if err == nil {
				b.ioOK.Store(true)
				backoff = 50 * time.Millisecond
				break
			}
			if b.ctx.Err() != nil {
				return
			}
			b.m.errors.WithLabelValues("watch").Inc()
			b.ioOK.Store(false)
			full, reload = true, true // Redis may have lost them: write all once back
			b.sleep(timer, backoff)
			backoff = min(backoff*2, maxBackoff)
		}
	}
}

// writeWatches writes the changed topics (all when full) to this node's
// hash, refreshes its expiry and the node's heartbeat, and sends the
// notice, in one pipeline. hello asks the other nodes to announce their
// watches: this node has just (re)subscribed and may have missed theirs.
func (b *Redis) writeWatches(full, hello bool) error {
	// Numbered before the state is read: a notice numbered after a
	// snapshot request was numbered reflects the subscription the
	// request follows.
	seq := b.watchSeq.Add(1)
	b.wmu.Lock()
	dirty := b.dirty
	b.dirty = map[Topic]struct{}{}
	b.wmu.Unlock()
	var recs []watchRec
	if full {
		recs = b.localWatches()
	} else {
		for t := range dirty {
			recs = append(recs, watchRec{t, b.local.Subscribers(t.Stream, t.View)})
		}
	}
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	key := b.watchKey(b.id)
	pipe := b.c.TxPipeline() // MULTI: a reload elsewhere never reads the hash between DEL and HSET
	if full {
		pipe.Del(ctx, key)
	}
	var set []any
	var del []string
	for _, r := range recs {
		if r.count > 0 {
			set = append(set, topicField(r.t), r.count)
		} else {
			del = append(del, topicField(r.t))
		}
	}
	if len(set) > 0 {
		pipe.HSet(ctx, key, set...)
	}
	if len(del) > 0 && !full {
		pipe.HDel(ctx, key, del...)
	}
	now := time.Now()
	pipe.PExpire(ctx, key, b.ttl)
	pipe.ZAdd(ctx, b.keyNodes, redis.Z{Score: float64(now.UnixMilli()), Member: b.id})
	pipe.ZRemRangeByScore(ctx, b.keyNodes, "-inf", strconv.FormatInt(now.Add(-b.ttl).UnixMilli(), 10))
	if full || len(recs) > 0 {
		var flags byte
		if full {
			flags = watchFull
		}
		if hello {
			flags |= watchHello
		}
		pipe.Publish(ctx, b.chWatch, b.encodeWatch(flags, seq, recs))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.wmu.Lock()
		for t := range dirty {
			b.dirty[t] = struct{}{}
		}
		b.wmu.Unlock()
		return err
	}
	return nil
}

type watchRec struct {
	t     Topic
	count int
}

func (b *Redis) localWatches() []watchRec {
	var recs []watchRec
	for i := range b.local.shards {
		s := &b.local.shards[i]
		s.mu.RLock()
		for t, subs := range s.subs {
			recs = append(recs, watchRec{t, len(subs)})
		}
		s.mu.RUnlock()
	}
	return recs
}

// reloadWatches replaces what this node knows of the others' watches by
// what Redis holds for the nodes alive within WatchTTL.
func (b *Redis) reloadWatches() error {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	b.amu.Lock()
	began := b.noticeSeq
	b.amu.Unlock()
	nodes, err := b.c.ZRangeByScore(ctx, b.keyNodes, &redis.ZRangeBy{Min: strconv.FormatInt(time.Now().Add(-b.ttl).UnixMilli(), 10), Max: "+inf"}).Result()
	if err != nil {
		return err
	}
	pipe := b.c.Pipeline()
	cmds := map[string]*redis.MapStringStringCmd{}
	for _, n := range nodes {
		if n != b.id {
			cmds[n] = pipe.HGetAll(ctx, b.watchKey(n))
		}
	}
	if len(cmds) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	all := map[string]map[Topic]int{}
	for n, cmd := range cmds {
		set := map[Topic]int{}
		for f, v := range cmd.Val() {
			t, ok := parseTopicField(f)
			c, err := strconv.Atoi(v)
			if ok && err == nil && c > 0 {
				set[t] = c
			}
		}
		all[n] = set
	}
	b.amu.Lock()
	b.replaceRemote(all, func(n string) bool { return n != b.id && b.lastNotice[n] <= began })
	for p := range b.pins {
		b.setRemote(p.t, p.node, 1, true)
	}
	b.amu.Unlock()
	return nil
}

// topicField is a topic as a hash field: the view's digit, ':' and the
// stream.
func topicField(t Topic) string { return string(rune('0'+t.View)) + ":" + t.Stream }

func parseTopicField(f string) (Topic, bool) {
	if len(f) < 2 || f[1] != ':' || f[0] < '0' || View(f[0]-'0') >= NumViews {
		return Topic{}, false
	}
	return Topic{Stream: f[2:], View: View(f[0] - '0')}, true
}

func (b *Redis) encodeWatch(flags byte, seq uint64, recs []watchRec) []byte {
	p := []byte{wireVersion, kindWatch}
	p = appendString(p, b.id)
	p = append(p, flags)
	p = appendUvarint(p, seq)
	for _, r := range recs {
		p = append(p, byte(r.t.View))
		p = appendString(p, r.t.Stream)
		p = appendUvarint(p, uint64(r.count))
	}
	return p
}
