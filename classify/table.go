package classify

// table is a read-only open-addressing hash table from a 64-bit key to a
// small int, for the lookups Decide makes per word (phrase starts, stems,
// plain-only lexicon entries). The keys are xxhash values, already well
// spread, so their low bits index the slots directly: one probe and no
// second hash, where a Go map hashes the key again (BenchmarkDecide).
type table struct {
	keys []uint64
	vals []uint16 // value + 1; zero marks an empty slot (16 bits: a smaller table stays in cache)
	mask uint64
}

// newTable returns a table of the pairs in m, at most half full.
func newTable(m map[uint64]int32) table {
	n := 8
	for n < 2*len(m) {
		n *= 2
	}
	t := table{keys: make([]uint64, n), vals: make([]uint16, n), mask: uint64(n - 1)}
	for k, v := range m {
		if v < 0 || v >= 1<<16-1 {
			panic("classify: table value out of range") // a build defect
		}
		i := k & t.mask
		for t.vals[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.keys[i], t.vals[i] = k, uint16(v+1)
	}
	return t
}

// get returns the value stored for k.
func (t *table) get(k uint64) (int32, bool) {
	if len(t.keys) == 0 {
		return 0, false
	}
	for i := k & t.mask; ; i = (i + 1) & t.mask {
		v := t.vals[i]
		if v == 0 {
			return 0, false
		}
		if t.keys[i] == k {
			return int32(v) - 1, true
		}
	}
}
