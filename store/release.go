package store

import (
	"sync"
	"time"
)

// The store file is read through a memory map, and every page read
// through it stays in the process's page tables. A long show that opens
// and closes tens of thousands of tickets reads leaf pages all over the
// file, and for each page it faults in the kernel maps the 15 around it
// that are in the page cache too (fault-around, 64 KB; bbolt's
// MADV_RANDOM does not stop it): a hard show at 20,000 msgs/s grew the
// map's share of RSS by 80 MB in half a second, to 200 MB and more over
// minutes (docs/PERFORMANCE.md, "State and memory over a long show"),
// though they are clean file pages the kernel keeps in its page cache and
// may drop at any time.
//
// So the store bounds them: every releaseCheck it reads how many file
// pages the process has mapped (/proc/self/statm, a few microseconds),
// and once ReleaseAfter more than after the last release are mapped, it
// drops the map's pages from the process (madvise MADV_DONTNEED): the
// page cache keeps them, and a page read again costs a minor fault. A
// quiet store never releases; a busy one as often as its reads need,
// and RSS counts the process's own memory and at most ReleaseAfter of
// the file.

// ReleaseAfter is how much of the file the process may map beyond what it
// had mapped after the last release (with the binary's own pages).
const ReleaseAfter = 32 << 20

// releaseCheck is how often the mapped file pages are looked at.
const releaseCheck = 50 * time.Millisecond

// releaser runs the checks until stopped.
type releaser struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func (db *DB) startRelease() {
	r := &releaser{stop: make(chan struct{}), done: make(chan struct{})}
	db.rel = r
	go func() {
		defer close(r.done)
		t := time.NewTicker(releaseCheck)
		defer t.Stop()
		base, ok := fileResident()
		if !ok {
			return // no /proc: nothing to measure, nothing released
		}
		for {
			select {
			case <-t.C:
				if n, _ := fileResident(); n > base+ReleaseAfter {
					db.ReleaseMapped()
					base, _ = fileResident()
					db.released.Add(1)
				}
			case <-r.stop:
				return
			}
		}
	}()
}

func (db *DB) stopRelease() {
	if r := db.rel; r != nil {
		r.once.Do(func() { close(r.stop) })
		<-r.done
	}
}

// Releases returns how many times the store has released its map's pages.
func (db *DB) Releases() int64 { return db.released.Load() }
