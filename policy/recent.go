package policy

import (
	"encoding/binary"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/livemod/livemod/chat"
)

// recent keeps each stream's latest messages for trials over "the last N
// minutes": what a decision depends on (id, user id, badges, text, time;
// not the name or platform, which it does not). A stream's messages are
// copied into a ring of chunks: adding a message is a copy into the
// current chunk, and when it is full the
// oldest chunk is emptied and reused, so the memory of a stream is
// bounded and a message costs no allocation.
type recent struct {
	mu      sync.Mutex // writers of streams; each stream has its own lock
	streams map[string]*recStream
	// read is a copy of streams for add, replaced when a stream comes or
	// goes: most messages find their stream without taking mu.
	read   atomic.Pointer[map[string]*recStream]
	last   atomic.Pointer[recStream] // the stream added to last: most messages are of one show
	chunk  int                       // bytes a chunk holds
	chunks int                       // chunks a stream has
	max    int                       // streams
}

type recStream struct {
	name  string
	mu    sync.Mutex
	buf   [][]byte
	cur   int
	touch int64 // ts of the newest message
}

const recChunks = 16

func newRecent(bytesPerStream, streams int) *recent {
	if bytesPerStream == 0 {
		bytesPerStream = 1 << 20
	}
	if streams <= 0 {
		streams = 64
	}
	chunk := max(bytesPerStream/recChunks, 4096)
	return &recent{streams: map[string]*recStream{}, chunk: chunk, chunks: recChunks, max: streams}
}

func (r *recent) stream(id string, ts int64) *recStream {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.streams[id]
	if s == nil {
		if len(r.streams) >= r.max {
			var quiet string
			var at int64 = 1<<63 - 1
			for k, v := range r.streams {
				v.mu.Lock()
				t := v.touch
				v.mu.Unlock()
				if t < at {
					quiet, at = k, t
				}
			}
			if l := r.last.Load(); l != nil && l.name == quiet {
				r.last.Store(nil)
			}
			delete(r.streams, quiet)
		}
		s = &recStream{name: id, buf: make([][]byte, r.chunks)}
		r.streams[id] = s
		m := maps.Clone(r.streams)
		r.read.Store(&m)
	}
	return s
}

// add copies m in.
func (r *recent) add(m *chat.Message) {
	s := r.last.Load()
	if s == nil || s.name != m.Stream {
		s = nil
		if rd := r.read.Load(); rd != nil {
			s = (*rd)[m.Stream]
		}
		if s == nil {
			s = r.stream(m.Stream, m.TS)
		}
		r.last.Store(s)
	}
	var hdr [binary.MaxVarintLen64 * 2]byte
	n := binary.PutVarint(hdr[:], m.TS)
	n += binary.PutUvarint(hdr[n:], uint64(len(m.User.Badges)))
	size := n + 3*binary.MaxVarintLen32 + len(m.ID) + len(m.User.ID) + len(m.Text)
	for _, b := range m.User.Badges {
		size += binary.MaxVarintLen32 + len(b)
	}
	if size > r.chunk {
		return // cannot happen within the message limits; never split a record
	}
	s.mu.Lock()
	c := s.buf[s.cur]
	if c == nil {
		c = make([]byte, 0, r.chunk)
	}
	if len(c)+size > cap(c) {
		s.buf[s.cur] = c
		s.cur = (s.cur + 1) % len(s.buf)
		c = s.buf[s.cur]
		if c == nil {
			c = make([]byte, 0, r.chunk)
		}
		c = c[:0]
	}
	c = append(c, hdr[:n]...)
	for _, b := range m.User.Badges {
		c = appendStr(c, b)
	}
	c = appendStr(c, m.ID)
	c = appendStr(c, m.User.ID)
	c = appendStr(c, m.Text)
	s.buf[s.cur] = c
	s.touch = max(s.touch, m.TS)
	s.mu.Unlock()
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// since returns stream's kept messages with ts ≥ since, oldest first, at
// most limit.
func (r *recent) since(stream string, since int64, limit int) []*chat.Message {
	r.mu.Lock()
	s := r.streams[stream]
	r.mu.Unlock()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*chat.Message
	for k := 1; k <= len(s.buf); k++ {
		c := s.buf[(s.cur+k)%len(s.buf)]
		for len(c) > 0 {
			m := &chat.Message{Stream: stream}
			var nb uint64
			var n int
			m.TS, n = binary.Varint(c)
			c = c[n:]
			nb, n = binary.Uvarint(c)
			c = c[n:]
			for range nb {
				var b string
				b, c = readStr(c)
				m.User.Badges = append(m.User.Badges, b)
			}
			m.ID, c = readStr(c)
			m.User.ID, c = readStr(c)
			m.Text, c = readStr(c)
			if m.TS >= since {
				out = append(out, m)
			}
		}
	}
	if len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}

func readStr(b []byte) (string, []byte) {
	n, k := binary.Uvarint(b)
	return string(b[k : k+int(n)]), b[k+int(n):]
}

// size returns the bytes kept and the streams.
func (r *recent) size() (bytes, streams int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.streams {
		s.mu.Lock()
		for _, c := range s.buf {
			bytes += cap(c)
		}
		s.mu.Unlock()
	}
	return bytes, len(r.streams)
}
