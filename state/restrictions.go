package state

import (
	"sync"
	"sync/atomic"
)

// MemoryRestrictions is a classify.Restrictions (and StreamRestrictions)
// in memory, the one the moderation desk sets. The zero value is
// ready. Most shows restrict nobody: the check then costs one atomic
// load.
type MemoryRestrictions struct {
	mu sync.RWMutex
	m  map[string]int64 // user → until (0 = banned)
	// in holds the restrictions of one stream: stream → user → until.
	in map[string]map[string]int64
	n  atomic.Int32 // of m and in
	ni atomic.Int32 // of in
}

// count stores the sizes; r.mu is held.
func (r *MemoryRestrictions) count() {
	ni := 0
	for _, users := range r.in {
		ni += len(users)
	}
	r.ni.Store(int32(ni))
	r.n.Store(int32(len(r.m) + ni))
}

// SetIn restricts user in stream only, until (Unix ms; 0 bans).
func (r *MemoryRestrictions) SetIn(stream, user string, until int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.in == nil {
		r.in = map[string]map[string]int64{}
	}
	users := r.in[stream]
	if users == nil {
		users = map[string]int64{}
		r.in[stream] = users
	}
	users[user] = until
	r.count()
}

// DeleteIn lifts user's restriction in stream (not one of every stream).
func (r *MemoryRestrictions) DeleteIn(stream, user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if users := r.in[stream]; users != nil {
		delete(users, user)
		if len(users) == 0 {
			delete(r.in, stream)
		}
	}
	r.count()
}

// RestrictedIn implements StreamRestrictions: user's restriction in
// stream only (Restricted answers for every stream).
func (r *MemoryRestrictions) RestrictedIn(stream, user string, ts int64) (int64, bool) {
	if r == nil || r.ni.Load() == 0 {
		return 0, false
	}
	r.mu.RLock()
	until, ok := r.in[stream][user]
	r.mu.RUnlock()
	if !ok || (until != 0 && until <= ts) {
		return 0, false
	}
	return until, true
}

// Set restricts user until (Unix ms; 0 bans).
func (r *MemoryRestrictions) Set(user string, until int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]int64{}
	}
	r.m[user] = until
	r.count()
}

// Delete lifts user's restriction.
func (r *MemoryRestrictions) Delete(user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, user)
	r.count()
}

// Len is how many users are restricted (ended timeouts included until
// they are lifted or swept).
func (r *MemoryRestrictions) Len() int { return int(r.n.Load()) }

// LenIn returns how many restrictions hold in one stream only.
func (r *MemoryRestrictions) LenIn() int { return int(r.ni.Load()) }

// Sweep forgets timeouts that ended before now (Unix ms).
func (r *MemoryRestrictions) Sweep(now int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for u, until := range r.m {
		if until != 0 && until <= now {
			delete(r.m, u)
		}
	}
	for s, users := range r.in {
		for u, until := range users {
			if until != 0 && until <= now {
				delete(users, u)
			}
		}
		if len(users) == 0 {
			delete(r.in, s)
		}
	}
	r.count()
}

// Restricted implements Restrictions.
func (r *MemoryRestrictions) Restricted(user string, ts int64) (int64, bool) {
	if r == nil || r.n.Load() == 0 {
		return 0, false
	}
	r.mu.RLock()
	until, ok := r.m[user]
	r.mu.RUnlock()
	if !ok || (until != 0 && until <= ts) {
		return 0, false
	}
	return until, true
}
