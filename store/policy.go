package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Stream policies set over REST (PUT /v1/streams/{id}/policy): one JSON
// document per stream, keyed by the stream id. A Put is committed (and
// synced) before it returns, so a policy that was acknowledged survives
// a crash.

// bucketPolicies is created on first use, beside the other buckets.
var bucketPolicies = []byte("policies")

// PutPolicy stores stream's policy document.
func (db *DB) PutPolicy(stream string, doc []byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPolicies)
		if err != nil {
			return err
		}
		return b.Put([]byte(stream), doc)
	})
}

// Policies returns every stored stream policy document by stream id.
func (db *DB) Policies() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPolicies)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	return out, nil
}
