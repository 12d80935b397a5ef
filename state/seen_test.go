package state

import "testing"

func TestMemorySeenBounded(t *testing.T) {
	t.Parallel()
	s := NewMemorySeen()
	for i := range SeenCap * 3 {
		s.Observe("s", uint64(i)*0x9E3779B97F4A7C15, 1, int64(i), 30_000, 60_000)
	}
	if n := s.Len(); n > SeenCap {
		t.Fatalf("table holds %d entries, cap %d", n, SeenCap)
	}
	// Expired entries are freed as time moves on.
	s2 := NewMemorySeen()
	for i := range 1000 {
		s2.Observe("s", uint64(i)*0x9E3779B97F4A7C15, 1, 0, 30_000, 60_000)
	}
	for i := range 5000 {
		s2.Observe("s", uint64(i+1_000_000)*0x9E3779B97F4A7C15, 1, 10_000_000+int64(i), 30_000, 60_000)
	}
	if n := s2.Len(); n >= 6000 {
		t.Errorf("expired entries kept: %d", n)
	}
}

// TestMemorySeenCounts: a text's senders are counted within each window,
// out of order too, and an entry that lives for weeks (a text repeated
// every day) keeps counting right after its times are rebased.
func TestMemorySeenCounts(t *testing.T) {
	t.Parallel()
	s := NewMemorySeen()
	const h, userW, crowdW = 42, 30_000, 60_000
	var u, c int
	for i, at := range []int64{1_000, 2_000, 500} { // the last one late
		u, c = s.Observe("s", h, 7, at, userW, crowdW)
		if u != i+1 || c != 1 {
			t.Fatalf("repeat %d: user count %d, crowd %d; want %d, 1", i+1, u, c, i+1)
		}
	}
	if u, c = s.Observe("s", h, 8, 40_000, userW, crowdW); u != 1 || c != 2 {
		t.Fatalf("second sender at 40 s: user %d crowd %d; want 1, 2", u, c)
	}
	if u, c = s.Observe("s", h, 7, 101_000, userW, crowdW); u != 1 || c != 1 {
		t.Fatalf("first sender again at 101 s: user %d crowd %d; want 1, 1 (the others left both windows)", u, c)
	}
	// A text sent every 8 days for 48 days, counted over a 10-day window
	// from the start, so that its entry never expires: times more than
	// 2³¹ ms apart must neither wrap into the window nor fall out of it.
	const day = 24 * 3600 * 1000
	for d := int64(0); d <= 6; d++ {
		u, c = s.Observe("s", 43, uint64(100+d), d*8*day, 1_000, 10*day)
		want := 2 // this one and the one 8 days before; not 16 days
		if d == 0 {
			want = 1
		}
		if u != 1 || c != want {
			t.Fatalf("day %d: user %d crowd %d; want 1, %d", d*8, u, c, want)
		}
	}
}

func BenchmarkMemorySeenObserve(b *testing.B) {
	s := NewMemorySeen()
	b.ReportAllocs()
	for i := range b.N {
		// 4,096 texts from 1,024 users: entries are found, filled and counted.
		s.Observe("s", uint64(i&4095)*0x9E3779B97F4A7C15, uint64(i&1023), int64(i), 30_000, 60_000)
	}
}
