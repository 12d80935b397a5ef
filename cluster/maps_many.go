package cluster

import (
	"bytes"
	"context"
)

// KV is one key and value for SetMany.
type KV struct {
	Key string
	Val []byte
}

// SetMany sets every kv on every node in one MULTI (one round trip), as
// Set does each: after Redis acknowledged them all, or, degraded, applied
// here and queued (ErrQueueFull when the queue cannot take them all; then
// none is queued). A store's group commit of many opt-outs uses it.
func (m *Map) SetMany(ctx context.Context, kvs []KV) error {
	if len(kvs) == 0 {
		return nil
	}
	own := make([]KV, len(kvs))
	for i, kv := range kvs {
		if kv.Val == nil {
			kv.Val = []byte{}
		}
		own[i] = KV{kv.Key, bytes.Clone(kv.Val)}
	}
	return m.write(ctx, own)
}
