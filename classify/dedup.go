package classify

import (
	"encoding/binary"

	"github.com/livemod/livemod/state"
)

// Seen is the dedup state an Engine needs. The default is an in-memory
// table (NewMemorySeen); store may implement it over Redis to share the
// windows between nodes.
type Seen interface {
	// Observe records that user sent text hash h at ts (Unix ms) and returns
	// how many times that user sent h within userWindow and how many distinct
	// users sent h within crowdWindow (windows in ms), both counting this one.
	Observe(stream string, h, user uint64, ts int64, userWindow, crowdWindow int64) (userCount, crowdUsers int)
}

var _ Seen = (*state.MemorySeen)(nil)

// hashWord is the hash of one skeleton word (tok.h): words are short,
// and a loop of eight-byte loads with xxhash's avalanche at the end
// costs less than xxhash's setup for each of them (BenchmarkDecide).
// Every word hash of the package (rules, FAQ, model features) is this
// one.
func hashWord(b []byte) uint64 {
	h := uint64(len(b)) * prime64
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * 0xC2B2AE3D27D4EB4F
		h ^= h >> 31
		b = b[8:]
	}
	// The last bytes: two overlapping loads, or three bytes that cover
	// all of a word of one to three (with the length in h, no two words
	// of one length read alike).
	var t uint64
	switch n := len(b); {
	case n >= 4:
		t = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	case n > 0:
		t = uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
	}
	return mix64((h ^ t) * prime64)
}
