package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Record is one durable per-stream record (a ticket, a draft) mirrored in
// Redis so that a stream's next owner can load it.
type Record struct {
	Stream string
	Key    string
	Value  []byte // nil: delete
}

func (n *Node) recKey(bucket, stream string) string {
	return n.o.Prefix + "rec:" + bucket + ":" + stream
}
func (n *Node) recIndex(bucket string) string { return n.o.Prefix + "recidx:" + bucket }

func checkBucket(bucket string) error {
	if bucket == "" || strings.ContainsAny(bucket, ": \x00") {
		return fmt.Errorf("cluster: bad bucket name %q", bucket)
	}
	return nil
}

// PutRecords writes recs (a nil Value deletes) in one MULTI: each into
// the hash of its (bucket, stream) and the bucket's key → stream index.
// It returns after Redis acknowledged the whole MULTI (with appendfsync
// always, after it is on disk), or ErrDegraded at once while Redis is
// unreachable: a caller that acknowledges a human action after both its
// stores committed must not acknowledge then.
func (n *Node) PutRecords(ctx context.Context, bucket string, recs []Record) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	if n.degraded.Load() {
		return ErrDegraded
	}
	idx := n.recIndex(bucket)
	_, err := n.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range recs {
			k := n.recKey(bucket, r.Stream)
			if r.Value == nil {
				p.HDel(ctx, k, r.Key)
				p.HDel(ctx, idx, r.Key)
				continue
			}
			p.HSet(ctx, k, r.Key, r.Value)
			p.HSet(ctx, idx, r.Key, r.Stream)
		}
		return nil
	})
	if err != nil {
		n.fail("records", err)
		return fmt.Errorf("cluster: put %d records in %q: %w", len(recs), bucket, err)
	}
	return nil
}

// Records returns the records of (bucket, stream): key → value.
func (n *Node) Records(ctx context.Context, bucket, stream string) (map[string][]byte, error) {
	if err := checkBucket(bucket); err != nil {
		return nil, err
	}
	if n.degraded.Load() {
		return nil, ErrDegraded
	}
	m, err := n.rdb.HGetAll(ctx, n.recKey(bucket, stream)).Result()
	if err != nil {
		n.fail("records", err)
		return nil, fmt.Errorf("cluster: records %q of %q: %w", bucket, stream, err)
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out, nil
}

// StreamOf returns the stream of the record key in bucket (to route a call
// on a ticket id to its stream's owner); false if there is none.
func (n *Node) StreamOf(ctx context.Context, bucket, key string) (string, bool, error) {
	if err := checkBucket(bucket); err != nil {
		return "", false, err
	}
	if n.degraded.Load() {
		return "", false, ErrDegraded
	}
	s, err := n.rdb.HGet(ctx, n.recIndex(bucket), key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		n.fail("records", err)
		return "", false, fmt.Errorf("cluster: stream of %q in %q: %w", key, bucket, err)
	}
	return s, true, nil
}

// ReserveIDs reserves count consecutive ids of kind ("h", "r", "w", "m",
// …), unique across the nodes: it returns the first; the ids are first …
// first+count-1, and ids start at 1. One INCRBY: callers reserve blocks
// and hand ids out of them in memory. ErrDegraded while Redis is away.
func (n *Node) ReserveIDs(ctx context.Context, kind string, count uint64) (first uint64, err error) {
	if count == 0 || count > 1<<40 {
		return 0, fmt.Errorf("cluster: reserve %d ids: count must be 1 … 2^40", count)
	}
	if n.degraded.Load() {
		return 0, ErrDegraded
	}
	last, err := n.rdb.IncrBy(ctx, n.o.Prefix+"ids:"+kind, int64(count)).Result()
	if err != nil {
		n.fail("ids", err)
		return 0, fmt.Errorf("cluster: reserve %d %q ids: %w", count, kind, err)
	}
	return uint64(last) - count + 1, nil
}
