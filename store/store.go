package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned when a keyed record does not exist.
var ErrNotFound = errors.New("store: not found")

// DB is the embedded durable store.
type DB struct {
	bolt *bolt.DB
	path string
	node string // the cluster node's id (SetNode); empty on one node
	rel  *releaser
	// released counts the releases of the map's pages (Releases).
	released atomic.Int64
}

// The buckets, one per kind of record. Features add theirs here.
var (
	bucketAudit    = []byte("audit")
	bucketHandoffs = []byte("handoffs")
	bucketOutbox   = []byte("outbox")
	bucketOptouts  = []byte("optouts")
	bucketUsers    = []byte("users")
	bucketMeta     = []byte("meta")
	bucketActions  = []byte("actions") // platform actions (actions.go)
)

var allBuckets = [][]byte{bucketAudit, bucketHandoffs, bucketOutbox, bucketOptouts, bucketUsers, bucketMeta, bucketActions, bucketAppeals, bucketDrafts, bucketReviews, bucketKPIs}

// Open opens (creating if needed) the store in dir.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, "livemod.db")
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open %s: another livemod is using it; stop it or pass another --data directory", path)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("init %s: %w", path, err)
	}
	db := &DB{bolt: b, path: path}
	db.startRelease()
	return db, nil
}

// OpenExisting opens the store in dir, which must hold one already (the
// offline tools: a typo in --data must not create an empty store).
func OpenExisting(dir string) (*DB, error) {
	if _, err := os.Stat(filepath.Join(dir, "livemod.db")); err != nil {
		return nil, fmt.Errorf("data dir %s: no livemod.db in it (%w); pass the server's --data directory", dir, err)
	}
	return Open(dir)
}

// SetNode names the cluster node this store belongs to: the audit
// entries it writes from now on carry it. Call it before writing.
func (db *DB) SetNode(id string) { db.node = id }

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close closes the database file.
func (db *DB) Close() error {
	db.stopRelease()
	return db.bolt.Close()
}

// Bolt exposes the underlying database to this package's other files and
// to tests.
func (db *DB) Bolt() *bolt.DB { return db.bolt }
