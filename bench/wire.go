package bench

// The little of the wire format that bench reads: the server's ack and
// error frames and the "id" of a decision. Decisions arrive by the hundred
// thousand a second, so they are scanned, not unmarshalled: one pass over
// the top level of the object, strings skipped with their escapes, no
// allocation.

// serverFrame is an ack ({"type":"ack","upto":"m-42","n":128}) or an error
// frame ({"type":"error","id":"m-43","error":"text: empty"}).
type serverFrame struct {
	isAck, isError bool
	upto           []byte // ack: id of the last message acked
	n              int64  // ack: how many messages it acks
	id             []byte // error: the message refused
	errText        []byte // error: why, still JSON-escaped
}

// parseServerFrame reads one line from /v1/ingest. The slices alias line.
func parseServerFrame(line []byte) serverFrame {
	var f serverFrame
	var typ []byte
	for s := (fieldScanner{b: line}); ; {
		key, val, ok := s.next()
		if !ok {
			break
		}
		switch string(key) { // no allocation: the compiler compares in place
		case "type":
			typ = unquote(val)
		case "upto":
			f.upto = unquote(val)
		case "n":
			f.n = parseInt(val)
		case "id":
			f.id = unquote(val)
		case "error":
			f.errText = unquote(val)
		}
	}
	switch string(typ) {
	case "ack":
		f.isAck = true
	case "error":
		f.isError = true
	}
	return f
}

// topLevelID returns the "id" of a JSON object (not the user's), unquoted,
// or nil.
func topLevelID(line []byte) []byte {
	for s := (fieldScanner{b: line}); ; {
		key, val, ok := s.next()
		if !ok {
			return nil
		}
		if string(key) == "id" {
			return unquote(val)
		}
	}
}

// decisionID returns the message id of a decision line, or nil for any
// other event of the feed: those carry a top-level "type" (docs/WIRE.md)
// and may name a message by its id too.
func decisionID(line []byte) []byte {
	var id []byte
	for s := (fieldScanner{b: line}); ; {
		key, val, ok := s.next()
		if !ok {
			return id
		}
		switch string(key) {
		case "type":
			return nil
		case "id":
			id = unquote(val)
		}
	}
}

// fieldScanner walks the key/value pairs at the top level of one JSON
// object. It trusts its input to be JSON; on anything else it stops.
type fieldScanner struct {
	b []byte
	i int
}

// next returns the next key (without quotes) and its raw value.
func (s *fieldScanner) next() (key, val []byte, ok bool) {
	b := s.b
	i := s.skipSpace(s.i)
	if i < len(b) && (b[i] == '{' || b[i] == ',') {
		i = s.skipSpace(i + 1)
	}
	if i >= len(b) || b[i] != '"' {
		return nil, nil, false
	}
	end := skipString(b, i)
	if end < 0 {
		return nil, nil, false
	}
	key = b[i+1 : end-1]
	i = s.skipSpace(end)
	if i >= len(b) || b[i] != ':' {
		return nil, nil, false
	}
	i = s.skipSpace(i + 1)
	start := i
	i = skipValue(b, i)
	if i < 0 {
		return nil, nil, false
	}
	s.i = i
	return key, b[start:i], true
}

func (s *fieldScanner) skipSpace(i int) int {
	for i < len(s.b) && (s.b[i] == ' ' || s.b[i] == '\t' || s.b[i] == '\n' || s.b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] ('"'),
// or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index just past the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				if i < 0 {
					return -1
				}
				i-- // the loop steps past the closing quote
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		for ; i < len(b); i++ {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
		}
		return i
	}
}

// unquote strips the quotes of a JSON string value. Escapes stay: the ids
// bench reads are its own and need none. A non-string gives nil.
func unquote(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	return v[1 : len(v)-1]
}

// parseInt reads a non-negative JSON integer; anything else gives 0.
func parseInt(v []byte) int64 {
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return n
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
