package store

import (
	"sync"
	"time"
)

// The store file is read through a memory map, and every page read
// through it stays in the process's page tables: a long show that opens
// and closes tens of thousands of tickets touches pages all over the
// file, and the process's RSS grew by a megabyte a second with them
// (docs/PERFORMANCE.md, "The store's pages in RSS"), though they are
// clean file pages the kernel keeps in its page cache and may drop at
// any time. Every ReleaseEvery the map's pages are dropped from the
// process (madvise MADV_DONTNEED): the page cache keeps them, and a page
// read again costs a minor fault. RSS then counts the process's own
// memory, and what it reads between two releases.

// ReleaseEvery is how often the store releases its map's pages.
const ReleaseEvery = 500 * time.Millisecond

// releaser runs release every ReleaseEvery until stopped.
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
		t := time.NewTicker(ReleaseEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				db.ReleaseMapped()
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
