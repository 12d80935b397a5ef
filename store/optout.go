package store

import (
	"encoding/json"

	"github.com/livemod/livemod/chat"
	bolt "go.etcd.io/bbolt"
)

// OptOuts returns every recorded STOP and START, for export and audits.
func (db *DB) OptOuts() ([]chat.OptOut, error) {
	var out []chat.OptOut
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOptouts).ForEach(func(_, v []byte) error {
			var o chat.OptOut
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			out = append(out, o)
			return nil
		})
	})
	return out, err
}
