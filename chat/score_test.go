package chat

import (
	"strconv"
	"testing"
)

// TestAppendScoreMatchesStrconv over the whole float32 range that scores use.
func TestAppendScoreMatchesStrconv(t *testing.T) {
	for i := 0; i <= 1_000_000; i++ {
		v := float32(i) / 1_000_000
		got := string(appendScore(nil, v))
		want := strconv.FormatFloat(float64(v), 'f', 3, 32)
		if got != want {
			t.Fatalf("appendScore(%v) = %s, strconv says %s", v, got, want)
		}
	}
}

func BenchmarkAppendScore(b *testing.B) {
	buf := make([]byte, 0, 16)
	for i := 0; i < b.N; i++ {
		buf = appendScore(buf[:0], 0.734)
	}
}
