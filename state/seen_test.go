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
