package stream

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// TestHashSetAgainstMap: random adds, removes and lookups in a small table
// (many collisions and wrap-arounds) answer as a map does.
func TestHashSetAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		h := newHashSet(64)
		want := map[uint64]bool{}
		// Keys from a small space, with their bits where home() reads
		// them, so that probes collide and wrap.
		key := func() uint64 { return uint64(r.IntN(300)) << 20 }
		for range 5000 {
			k := key()
			switch op := r.IntN(3); {
			case op == 0 && !want[k] && h.n < 64:
				h.add(k)
				want[k] = true
			case op == 1:
				h.remove(k)
				delete(want, k)
			default:
				if h.has(k) != want[k] {
					t.Fatalf("round %d: has(%d) = %v, want %v", round, k, h.has(k), want[k])
				}
			}
			if h.n != len(want) {
				t.Fatalf("round %d: n %d, want %d", round, h.n, len(want))
			}
		}
		for k := range want {
			if !h.has(k) {
				t.Fatalf("round %d: lost %d", round, k)
			}
		}
	}
	// The hash 0 is a key like any other.
	h := newHashSet(4)
	h.add(0)
	if !h.has(0) {
		t.Error("0 not found after add")
	}
	h.remove(0)
	if h.has(0) || h.n != 0 {
		t.Error("0 still there after remove")
	}
}

// TestDedupForgetThenTake: a forgotten id is taken again.
func TestDedupForgetThenTake(t *testing.T) {
	d := newDedup(time.Minute, 1<<12)
	now := time.Unix(1795000000, 0)
	k := dedupKey("s", "m-1")
	if !d.take(k, now) || d.take(k, now) {
		t.Fatal("take: want new, then seen")
	}
	d.forget(k)
	if !d.take(k, now) {
		t.Error("a forgotten id is still seen")
	}
	// One window on, the id is in the previous generation: still seen;
	// two windows on, forgotten.
	if d.take(k, now.Add(time.Minute)) {
		t.Error("forgotten after one window")
	}
	if !d.take(k, now.Add(3*time.Minute)) {
		t.Error("remembered after two windows")
	}
}

// TestDedupMemoryPerID: at its bound the dedup holds 16 bytes an id or
// less, allocated once.
func TestDedupMemoryPerID(t *testing.T) {
	const maxIDs = 1 << 18
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d := newDedup(time.Hour, maxIDs)
	now := time.Unix(1795000000, 0)
	for i := range 3 * maxIDs {
		d.take(uint64(i)*0x9e3779b97f4a7c15, now)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(d)
	perID := float64(after.HeapAlloc-before.HeapAlloc) / maxIDs
	if perID > 17 {
		t.Errorf("%.1f bytes an id at the bound, want ≤ 16", perID)
	}
	if n := d.size(); n > maxIDs {
		t.Errorf("holds %d ids, bound %d", n, maxIDs)
	}
}

// BenchmarkDedupTake: one new id taken at the bound (generations retire
// as they fill), the work of every message with an id on the ingest path.
func BenchmarkDedupTake(b *testing.B) {
	b.ReportAllocs()
	d := newDedup(time.Hour, DefaultDedupMaxIDs)
	now := time.Unix(1795000000, 0)
	for i := range b.N {
		d.take(uint64(i)*0x9e3779b97f4a7c15, now)
	}
	b.ReportMetric(float64(d.size()), "ids")
}
