// Package words tests strings eight bytes at a time, in a uint64 (SWAR:
// SIMD within a register). The hot paths that look at every byte of every
// message (the ingest decoder, the normalizer, the JSON encoder) use it
// instead of a loop over bytes.
//
// Its functions are pure and goroutine-safe.
package words
