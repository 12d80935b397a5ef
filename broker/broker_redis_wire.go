package broker

// The Redis broker's messages: uvarint lengths, bytes as they are.

func appendUvarint(p []byte, v uint64) []byte {
	for v >= 0x80 {
		p = append(p, byte(v)|0x80)
		v >>= 7
	}
	return append(p, byte(v))
}

func appendString(p []byte, s string) []byte {
	return append(appendUvarint(p, uint64(len(s))), s...)
}

func appendBytes(p, b []byte) []byte {
	return append(appendUvarint(p, uint64(len(b))), b...)
}

// reader decodes a message; err sticks at the first short or bad field.
type reader struct {
	p   []byte
	err bool
}

func (r *reader) done() bool { return r.err || len(r.p) == 0 }

func (r *reader) byte() byte {
	if len(r.p) == 0 {
		r.err = true
		return 0
	}
	c := r.p[0]
	r.p = r.p[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c := r.byte()
		if r.err {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.err = true
	return 0
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err || n > uint64(len(r.p)) {
		r.err = true
		return nil
	}
	b := r.p[:n:n]
	r.p = r.p[n:]
	return b
}

func (r *reader) string() string { return string(r.bytes()) }
