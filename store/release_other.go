//go:build !linux

package store

// ReleaseMapped does nothing here: it reads /proc/self/maps, which only
// Linux has.
func (db *DB) ReleaseMapped() (int64, error) { return 0, nil }

// fileResident is not known here.
func fileResident() (int64, bool) { return 0, false }
