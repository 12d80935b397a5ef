package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestReleaseMapped: pages read through the store's map count in the
// process's RSS until released; released, they are gone from it, and
// every value reads back the same, also while readers run.
func TestReleaseMapped(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	val := func(i int) []byte { return bytes.Repeat([]byte(strconv.Itoa(i)), 100) }
	const n = 20_000 // about 6 MB of leaves
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		for i := range n {
			if err := b.Put([]byte(fmt.Sprintf("k%06d", i)), val(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	readAll := func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketUsers)
			for i := range n {
				if v := b.Get([]byte(fmt.Sprintf("k%06d", i))); !bytes.Equal(v, val(i)) {
					return fmt.Errorf("k%06d reads %.20q…", i, v)
				}
			}
			return nil
		})
	}
	if err := readAll(); err != nil {
		t.Fatal(err)
	}
	before := mappedRSS(t, db.path)
	if before < 2<<20 {
		t.Fatalf("the map holds %d KB after reading every page; want it to count", before>>10)
	}
	released, err := db.ReleaseMapped()
	if err != nil {
		t.Fatal(err)
	}
	after := mappedRSS(t, db.path)
	t.Logf("map resident %d KB → %d KB (%d KB of map released)", before>>10, after>>10, released>>10)
	if released == 0 || after > before/4 {
		t.Fatalf("released %d bytes; resident %d KB → %d KB", released, before>>10, after>>10)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- readAll() })
	}
	for range 20 {
		if _, err := db.ReleaseMapped(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// mappedRSS sums the Rss of the process's mappings of the file at path.
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatalf("no /proc/self/smaps on Linux: %v", err)
	}
	defer f.Close()
	var sum int64
	mine := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := bytes.Fields([]byte(line))
		if len(fields) >= 5 && bytes.Contains(fields[0], []byte("-")) {
			n, err := strconv.ParseUint(string(fields[4]), 10, 64)
			mine = err == nil && n == ino
			continue
		}
		if v, ok := bytes.CutPrefix([]byte(line), []byte("Rss:")); ok && mine {
			kb, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			sum += kb << 10
		}
	}
	return sum
}

// TestReleaseOnItsOwn: a store that reads more than ReleaseAfter of its
// file through the map releases the pages by itself.
func TestReleaseOnItsOwn(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n, size = 40_000, 1000 // 40 MB of values
	val := bytes.Repeat([]byte{'x'}, size)
	for lo := 0; lo < n; lo += 10_000 {
		err = db.bolt.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketUsers)
			for i := lo; i < lo+10_000; i++ {
				if err := b.Put([]byte(fmt.Sprintf("k%06d", i)), val); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if db.Releases() != 0 {
		t.Logf("%d releases while writing", db.Releases())
	}
	before := db.Releases()
	err = db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			if len(v) != size {
				return fmt.Errorf("%s: %d bytes", k, len(v))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for db.Releases() == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if db.Releases() == before {
		t.Fatalf("read 40 MB through the map, mapped %d KB of it, and no release followed", mappedRSS(t, db.path)>>10)
	}
	if rss := mappedRSS(t, db.path); rss > 2*ReleaseAfter {
		t.Errorf("after a release %d KB of the file are mapped", rss>>10)
	}
}
