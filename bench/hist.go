package bench

import (
	"math"
	"math/bits"
	"time"
)

// Hist is a log-linear latency histogram in the manner of HdrHistogram:
// every power of two is cut into 128 linear sub-buckets, so a value is
// known to within 1/128 (under 0.8%, and the reported midpoint to within
// 0.4%) from 1µs to over a minute, in fixed memory and with a constant-time
// Record.
//
// A Hist is not goroutine-safe: give each goroutine its own and Merge them.
// The zero value is empty and ready to use.
type Hist struct {
	counts [histBuckets]uint64
	n      uint64
	min    int64
	max    int64
}

const (
	histSubBits = 7                         // 128 sub-buckets per power of two
	histMaxBits = 36                        // values up to 2^36 ns ≈ 68.7 s
	histMaxNS   = int64(1)<<histMaxBits - 1 // larger values count as this
	histBuckets = (histMaxBits - histSubBits + 1) << histSubBits
)

// histIndex maps a value in ns to its bucket. Below 2^(subBits+1) buckets
// are 1ns wide; above, the bucket of v keeps its top subBits+1 bits.
func histIndex(v int64) int {
	u := uint64(v)
	shift := max(0, bits.Len64(u)-histSubBits-1)
	return shift<<histSubBits + int(u>>shift)
}

// histBounds returns the lowest value of bucket i and the bucket's width.
func histBounds(i int) (low, width int64) {
	if i < 1<<histSubBits {
		return int64(i), 1
	}
	shift := i>>histSubBits - 1
	sub := i - shift<<histSubBits
	return int64(sub) << shift, int64(1) << shift
}

// Record adds one latency. Negative durations count as zero, durations
// beyond 68 s as 68 s.
func (h *Hist) Record(d time.Duration) {
	v := min(max(int64(d), 0), histMaxNS)
	h.counts[histIndex(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	h.max = max(h.max, v)
	h.n++
}

// Merge adds the counts of o to h.
func (h *Hist) Merge(o *Hist) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
}

// Reset empties h.
func (h *Hist) Reset() { *h = Hist{} }

// Count returns how many values were recorded.
func (h *Hist) Count() uint64 { return h.n }

// Max returns the largest value recorded, exactly.
func (h *Hist) Max() time.Duration { return time.Duration(h.max) }

// Min returns the smallest value recorded, exactly.
func (h *Hist) Min() time.Duration { return time.Duration(h.min) }

// Quantile returns the value at quantile q (0.99 for p99): the midpoint of
// the bucket holding the ceil(q·n)-th smallest value, clamped to the exact
// minimum and maximum. An empty Hist gives 0.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		seen += c
		if seen >= rank {
			low, width := histBounds(i)
			v := low + (width-1)/2
			return time.Duration(min(max(v, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
