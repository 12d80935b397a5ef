package classify

import (
	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/chat"
)

// A channel's own policy (package policy) adjusts the engine's decisions
// per stream. The engine lends it what it already computed, so that the
// channel's terms are matched through the same normalization as the
// built-in rules without normalizing the message twice:
//
//   - an AllowList names words the built-in lexicons must not flag on
//     that stream ("damn" on a family show that allows it);
//   - an Inspector sees the decision and the message's normal forms
//     (View) last, and may change the decision.

// AllowList is a set of terms the built-in toxic lexicons do not flag.
// Build it with NewAllowList; it is read-only and goroutine-safe.
type AllowList struct {
	few   []uint64              // skel's keys when there are few: a scan beats a map probe
	skel  map[uint64]bool       // skeleton word hash of one-word terms
	plain map[uint64]bool       // plain-form hash of one-word terms (plain-only lexicon)
	multi map[uint64][][]uint64 // first word hash → skeleton word hashes of terms of several words
}

// NewAllowList compiles terms through the normalization of messages.
// Terms that normalize to nothing are skipped.
func NewAllowList(terms []string) *AllowList {
	a := &AllowList{skel: map[uint64]bool{}, plain: map[uint64]bool{}, multi: map[uint64][][]uint64{}}
	for _, t := range terms {
		ws := compileWords(t)
		switch {
		case len(ws) == 0:
		case len(ws) == 1:
			a.skel[ws[0]] = true
			var tmp []byte
			p := appendPlain(nil, &tmp, t)
			a.plain[hashPlain(p)] = true
		default:
			a.multi[ws[0]] = append(a.multi[ws[0]], ws)
		}
	}
	if len(a.skel) <= 8 {
		for h := range a.skel {
			a.few = append(a.few, h)
		}
	}
	return a
}

func hashPlain(b []byte) uint64 { return xxhash.Sum64(b) }

// mask returns the words of toks (up to 64) that allowed terms cover.
func (a *AllowList) mask(toks []tok) uint64 {
	var m uint64
	for i := range min(len(toks), 64) {
		h := toks[i].h
		if a.few != nil || len(a.skel) == 0 {
			for _, x := range a.few {
				if x == h {
					m |= 1 << i
				}
			}
		} else if a.skel[h] {
			m |= 1 << i
		}
		if len(a.multi) == 0 {
			continue
		}
		for _, ws := range a.multi[h] {
			if matchFrom(ws, 1, toks, i+1) {
				for k := i; k < i+len(ws) && k < 64; k++ {
					m |= 1 << k
				}
			}
		}
	}
	return m
}

// Inspector adjusts a decision after the engine took it. Inspect runs on
// the pipeline's shard goroutines: it must not block.
type Inspector interface {
	Inspect(d *chat.Decision, m *chat.Message, v *View)
}

// View is the normal forms of the message being decided, lent to an
// Inspector for the duration of the call.
type View struct{ sc *scratch }

// Plain is the plain form of the text (see Normalize).
func (v *View) Plain() []byte { return v.sc.plain }

// Skeleton is the skeleton: the plain form's words with leetspeak
// undone, spaced-out letters joined, repeats cut, one space between words.
func (v *View) Skeleton() []byte { return v.sc.skel }

// Words is the number of skeleton words.
func (v *View) Words() int { return len(v.sc.toks) }

// Word returns the i-th skeleton word and its hash (HashWord).
func (v *View) Word(i int) ([]byte, uint64) {
	t := v.sc.toks[i]
	return v.sc.skel[t.a:t.b], t.h
}

// Spaced reports letters spaced out to spell a web address.
func (v *View) Spaced() bool { return v.sc.spaced }

// HashWord is the hash of a skeleton word, as View.Word returns it.
func HashWord(w []byte) uint64 { return hashWord(w) }

// TermWords returns the skeleton words of a term as the engine compiles
// its own phrases: a channel's term "ch3ap f0llows" gives "cheap",
// "foiiows" (l and 1 are one letter to the skeleton).
func TermWords(term string) [][]byte {
	var tmp []byte
	plain := appendPlain(nil, &tmp, term)
	sk, toks, _, _ := appendSkeleton(nil, nil, nil, plain)
	out := make([][]byte, len(toks))
	for i, t := range toks {
		out[i] = sk[t.a:t.b]
	}
	return out
}

// IsPrivileged reports a badge that the built-in rules never hide links
// or promotion for (broadcaster, moderator, vip, admin, staff, owner).
func IsPrivileged(badges []string) bool { return isPrivileged(badges) }

// DecideWith is DecideInto for a stream with its own policy: the words of
// allow (nil for none) are not flagged by the built-in lexicons, and in
// (nil for none) inspects the decision after the rules and the model,
// before the question joins trending.
//
// Restrictions come first (see DecideInto): a timed-out or banned user's
// message is hidden, and the Inspector does not see it.
func (e *Engine) DecideWith(d *chat.Decision, m *chat.Message, allow *AllowList, in Inspector) {
	until, restricted := e.restriction(m)
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	e.decide(d, m, sc, allow, in, restricted)
	if restricted {
		restrictDecision(d, until)
	}
}

// inspect lends in the normal forms in sc. A restricted user's message
// is not inspected: it is hidden whatever the channel's rules say.
func inspect(d *chat.Decision, m *chat.Message, sc *scratch, in Inspector, restricted bool) {
	if in == nil || restricted {
		return
	}
	sc.view.sc = sc // the View lives in the pooled scratch: passing it costs no allocation
	in.Inspect(d, m, &sc.view)
}
