package policy

import "sync"

// offences counts the recent hides of each user, for escalation. It is
// sharded by user key; each shard holds at most max/len(shards) users and
// drops users whose offences are all older than their window, then any
// user, when full.
type offences struct {
	shards [16]offShard
	per    int
}

type offShard struct {
	mu    sync.Mutex
	users map[uint64][]int64 // user key → times (Unix ms) of recent offences, oldest first
	_     [40]byte
}

func newOffences(maxUsers int) *offences {
	if maxUsers <= 0 {
		maxUsers = 100_000
	}
	o := &offences{per: max(1, maxUsers/16)}
	for i := range o.shards {
		o.shards[i].users = map[uint64][]int64{}
	}
	return o
}

// add records an offence at ts and returns the offences of user within
// window (ms) of ts, counting this one; at most keep are kept.
func (o *offences) add(user uint64, ts, window int64, keep int) int {
	sh := &o.shards[user&15]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	times, ok := sh.users[user]
	if !ok && len(sh.users) >= o.per {
		sh.evict(ts, window)
	}
	k := 0
	for k < len(times) && times[k] <= ts-window {
		k++
	}
	times = append(times[k:], ts)
	if len(times) > keep {
		times = times[len(times)-keep:]
	}
	n := len(times)
	if n >= keep {
		times = times[:0] // the timeout is given: count afresh after it
	}
	sh.users[user] = times
	return n
}

// evict drops users with no offence within window of now, or one user if
// every user has one.
func (sh *offShard) evict(now, window int64) {
	startLen := len(sh.users)
	for u, t := range sh.users {
		if len(t) == 0 || t[len(t)-1] <= now-window {
			delete(sh.users, u)
		}
	}
	dropped := len(sh.users) < startLen
	if dropped {
		return
	}
	for u := range sh.users {
		delete(sh.users, u)
		return
	}
}

func (o *offences) len() int {
	n := 0
	for i := range o.shards {
		sh := &o.shards[i]
		sh.mu.Lock()
		n += len(sh.users)
		sh.mu.Unlock()
	}
	return n
}
