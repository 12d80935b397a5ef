package store

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// ReleaseMapped drops the store file's pages from the process's page
// tables (see ReleaseEvery) and returns how many bytes of map it
// released. It runs inside a read transaction, which keeps bbolt from
// remapping the file meanwhile: the regions found in /proc/self/maps are
// the file's until it ends.
func (db *DB) ReleaseMapped() (released int64, err error) {
	fi, err := os.Stat(db.path)
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, nil
	}
	err = db.bolt.View(func(*bolt.Tx) error {
		maps, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			return err
		}
		return eachMapping(maps, uint64(st.Ino), func(start, end uintptr) error {
			// Through the syscall rather than unix.Madvise: the region is
			// not a Go slice, and making it one needs a pointer from an
			// integer.
			if _, _, e := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED); e != 0 {
				return e
			}
			released += int64(end - start)
			return nil
		})
	})
	return released, err
}

// eachMapping calls fn with each region of maps (the text of
// /proc/self/maps) that maps the file with inode ino.
func eachMapping(maps []byte, ino uint64, fn func(start, end uintptr) error) error {
	sc := bufio.NewScanner(bytes.NewReader(maps))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		// start-end perms offset dev inode [path]
		f := bytes.Fields(sc.Bytes())
		if len(f) < 6 {
			continue
		}
		if n, err := strconv.ParseUint(string(f[4]), 10, 64); err != nil || n != ino {
			continue
		}
		lo, hi, ok := bytes.Cut(f[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		if err := fn(uintptr(start), uintptr(end)); err != nil {
			return err
		}
	}
	return sc.Err()
}

// fileResident returns the bytes of files the process has mapped and
// resident (statm's third field, in pages: file and shared memory pages).
func fileResident() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		return 0, false
	}
	return n * int64(os.Getpagesize()), true
}
