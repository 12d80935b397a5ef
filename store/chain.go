package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The audit log is a hash chain: each entry carries
//
//	pd   = SHA-256 of its personal fields (actor, target, user, reason),
//	hash = SHA-256 of the previous entry's hash and the entry's redacted
//	       form: the entry as JSON without those four fields and without
//	       hash, but with pd.
//
// Changing any byte of an entry, removing one or reordering them breaks
// the chain at that entry, which `livemod audit verify` reports. Erasure
// removes the personal fields of an entry and marks it erased: its
// redacted form, and so the chain, stay as they were; its pd can no
// longer be checked against fields that are gone, only its chain link.
//
// The meta bucket keeps the chain's tail (the last entry's seq and hash),
// so an append need not read the last entry, and the anchor: the last
// entry a retention purge removed, where the chain now starts.

var (
	metaAuditTail   = []byte("audit.tail")
	metaAuditAnchor = []byte("audit.anchor")
)

// chainLink is a position in the chain: an entry's seq and hash.
type chainLink struct {
	seq  uint64
	hash [32]byte
}

func (l chainLink) bytes() []byte {
	b := make([]byte, 40)
	binary.BigEndian.PutUint64(b, l.seq)
	copy(b[8:], l.hash[:])
	return b
}

func readLink(v []byte) (chainLink, bool) {
	if len(v) != 40 {
		return chainLink{}, false
	}
	var l chainLink
	l.seq = binary.BigEndian.Uint64(v)
	copy(l.hash[:], v[8:])
	return l, true
}

// personalDigest is pd: the four fields erasure may remove, each with
// its length so that no shift of bytes between them goes unseen.
func personalDigest(e *AuditEntry) [32]byte {
	var stack [512]byte
	buf := stack[:0]
	for _, f := range [...]string{e.Actor, e.Target, e.User, e.Reason} {
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(f)))
		buf = append(buf, f...)
	}
	return sha256.Sum256(buf)
}

// linkHash is the entry's hash after prev: over its redacted form.
func linkHash(prev [32]byte, e *AuditEntry, scratch []byte) ([32]byte, []byte) {
	r := *e
	r.Actor, r.Target, r.User, r.Reason, r.Erased, r.Hash = "", "", "", "", false, ""
	scratch = append(scratch[:0], prev[:]...)
	scratch = r.appendJSON(scratch)
	return sha256.Sum256(scratch), scratch
}

// seal sets e's pd and hash after prev and returns e's hash.
func seal(prev [32]byte, e *AuditEntry, scratch []byte) ([32]byte, []byte) {
	pd := personalDigest(e)
	e.PD = hex.EncodeToString(pd[:])
	e.Hash = ""
	h, scratch := linkHash(prev, e, scratch)
	e.Hash = hex.EncodeToString(h[:])
	return h, scratch
}

// auditTail returns the chain's tail inside tx: the stored one, else the
// last entry's (a store written before the chain: zero, the chain starts
// at the next entry).
func auditTail(tx *bolt.Tx) chainLink {
	if l, ok := readLink(tx.Bucket(bucketMeta).Get(metaAuditTail)); ok {
		return l
	}
	return chainLink{}
}

// ChainBreak is the first broken link `livemod audit verify` found.
type ChainBreak struct {
	Seq    uint64 // the entry where the chain breaks (0: the tail)
	Reason string
}

func (b *ChainBreak) Error() string {
	if b.Seq == 0 {
		return "audit chain broken: " + b.Reason
	}
	return fmt.Sprintf("audit chain broken at entry %d: %s", b.Seq, b.Reason)
}

// ChainReport is what VerifyAudit found on an intact chain.
type ChainReport struct {
	Entries  int    // entries checked on the chain
	Erased   int    // of which erased (their pd not checkable)
	Legacy   int    // entries written before the chain existed, not checked
	First    uint64 // the first chained entry's seq
	Last     uint64 // the last entry's seq
	Anchored bool   // the chain starts after a retention purge
}

// VerifyAudit walks the whole audit log in order and checks every link:
// each entry's JSON, its seq following the previous one, its pd against
// its personal fields (unless erased), its hash against the previous
// hash, and the last hash against the stored tail. The first broken link
// is returned as a *ChainBreak.
func (db *DB) VerifyAudit() (ChainReport, error) {
	var rep ChainReport
	err := db.bolt.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		var prev chainLink
		if a, ok := readLink(meta.Get(metaAuditAnchor)); ok {
			prev, rep.Anchored = a, true
		}
		chained := false
		var scratch []byte
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			first := binary.BigEndian.Uint64(k)
			i := 0
			err := eachAuditLine(v, func(line []byte) error {
				var e AuditEntry
				dec := json.NewDecoder(bytes.NewReader(line))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&e); err != nil {
					return &ChainBreak{Seq: first + uint64(i), Reason: "not an audit entry: " + err.Error()}
				}
				i++
				if e.Hash == "" {
					if chained {
						return &ChainBreak{Seq: e.Seq, Reason: "no hash after chained entries"}
					}
					rep.Legacy++
					prev.seq = e.Seq
					return nil
				}
				if !chained {
					chained, rep.First = true, e.Seq
				} else if e.Seq != prev.seq+1 {
					return &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("follows entry %d: entries are missing or out of order", prev.seq)}
				}
				if rep.Anchored && rep.Entries == 0 && e.Seq != prev.seq+1 {
					return &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("the purge anchor is entry %d: entries are missing", prev.seq)}
				}
				if !e.Erased {
					pd := personalDigest(&e)
					if hex.EncodeToString(pd[:]) != e.PD {
						return &ChainBreak{Seq: e.Seq, Reason: "actor, target, user or reason changed since it was written"}
					}
				} else {
					rep.Erased++
				}
				var h [32]byte
				h, scratch = linkHash(prev.hash, &e, scratch)
				if hex.EncodeToString(h[:]) != e.Hash {
					return &ChainBreak{Seq: e.Seq, Reason: "hash does not match the entry and the one before it (the entry, or one before it, was changed)"}
				}
				prev = chainLink{seq: e.Seq, hash: h}
				rep.Entries++
				rep.Last = e.Seq
				return nil
			})
			if err != nil {
				return err
			}
		}
		tail, ok := readLink(meta.Get(metaAuditTail))
		switch {
		case !ok && chained:
			return &ChainBreak{Reason: "the stored tail is missing"}
		case ok && (tail.seq != prev.seq || tail.hash != prev.hash):
			return &ChainBreak{Seq: tail.seq, Reason: fmt.Sprintf("the stored tail is entry %d but the log ends at entry %d with another hash: entries at the end were removed or changed", tail.seq, prev.seq)}
		}
		return nil
	})
	var br *ChainBreak
	if errors.As(err, &br) {
		return rep, br
	}
	return rep, err
}
