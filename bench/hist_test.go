package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistIndexBounds(t *testing.T) {
	t.Parallel()
	// Every value falls inside the bounds of its bucket, and buckets are
	// contiguous and increasing.
	prevEnd := int64(0)
	for i := range histBuckets {
		low, width := histBounds(i)
		if low != prevEnd {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, low, prevEnd)
		}
		if got := histIndex(low); got != i {
			t.Fatalf("histIndex(%d) = %d, want %d", low, got, i)
		}
		if got := histIndex(low + width - 1); got != i {
			t.Fatalf("histIndex(%d) = %d, want %d", low+width-1, got, i)
		}
		if low >= int64(time.Microsecond) && float64(width)/float64(low) > 1.0/128+1e-12 {
			t.Fatalf("bucket %d at %d is %d wide: worse than 1/128", i, low, width)
		}
		prevEnd = low + width
	}
	if prevEnd-1 != histMaxNS {
		t.Fatalf("last bucket ends at %d, want %d", prevEnd-1, histMaxNS)
	}
}

func TestHistQuantiles(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		gen  func() time.Duration
	}{
		{"uniform 1µs-60s", func() time.Duration {
			return time.Duration(int64(time.Microsecond) + r.Int64N(int64(60*time.Second)))
		}},
		{"lognormal around 2ms", func() time.Duration {
			return time.Duration(2e6 * math.Exp(r.NormFloat64()))
		}},
		{"bimodal", func() time.Duration {
			if r.IntN(100) == 0 {
				return time.Duration(300e6 + r.Int64N(1e6))
			}
			return time.Duration(50e3 + r.Int64N(10e3))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Hist
			vals := make([]time.Duration, 200000)
			for i := range vals {
				vals[i] = tc.gen()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				rank := max(1, int(math.Ceil(q*float64(len(vals)))))
				want := vals[rank-1]
				got := h.Quantile(q)
				if err := math.Abs(float64(got-want)) / float64(want); err > 0.01 {
					t.Errorf("q%.3f = %v, want %v (error %.2f%%)", q, got, want, err*100)
				}
			}
			if h.Max() != vals[len(vals)-1] || h.Min() != vals[0] {
				t.Errorf("min/max %v/%v, want %v/%v", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
			}
		})
	}
}

func TestHistMergeAndEdges(t *testing.T) {
	t.Parallel()
	var a, b, all Hist
	if a.Quantile(0.99) != 0 {
		t.Fatal("empty Hist has a p99")
	}
	for i := range 1000 {
		d := time.Duration(i) * time.Millisecond
		all.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if a != all {
		t.Fatal("merging halves differs from recording all")
	}
	var h Hist
	h.Record(-time.Second)
	h.Record(time.Hour)
	if h.Min() != 0 || h.Max() != time.Duration(histMaxNS) || h.Count() != 2 {
		t.Fatalf("clamping: min %v max %v n %d", h.Min(), h.Max(), h.Count())
	}
	h.Reset()
	if h.Count() != 0 {
		t.Fatal("Reset left values")
	}
}

func BenchmarkHistRecord(b *testing.B) {
	var h Hist
	d := time.Microsecond
	b.ReportAllocs()
	for b.Loop() {
		d = d*7919%(60*time.Second) + time.Microsecond
		h.Record(d)
	}
}
