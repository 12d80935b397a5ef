package chat

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/livemod/livemod/internal/words"
)

// DecodeMessage decodes line, one chat message in the wire format, into m,
// which must be zero, as encoding/json would; m's strings may be pieces of
// sline, which must hold the same bytes as line.
//
// Ingest decodes every message with it. A line in the common form, which
// connectors and the bench send, takes a decoder written for Message: the
// message's own keys in lower case, each once, and any other keys with
// values of any kind, which it skips. Anything else (a key in other case,
// a repeated one, a null, a number with a fraction for ts, invalid UTF-8,
// or a syntax error) goes to encoding/json, which gives the same result
// where both decode (FuzzDecodeMessage checks it) and says what is wrong.
func DecodeMessage(line []byte, sline string, m *Message) error {
	if decodeMessage(sline, m) {
		return nil
	}
	*m = Message{}
	// encoding/json would replace invalid UTF-8 with U+FFFD: refuse it
	// instead, so that what is decided is what was sent.
	if !utf8.Valid(line) {
		i := 0
		for i < len(line) {
			r, n := utf8.DecodeRune(line[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return fmt.Errorf("invalid UTF-8 at byte %d; send UTF-8 text", i)
	}
	return json.Unmarshal(line, m)
}

// decodeMessage is DecodeMessage's fast path: it reports false where
// encoding/json must decide. Strings without escapes are pieces of line,
// so the caller's one copy of the line is all a message allocates for
// them, where a general decoder makes one per string.
func decodeMessage(line string, m *Message) bool {
	d := decoder{s: line}
	var seen keySet
	once := seen.first
	if !d.object(func(key string) bool {
		switch key {
		case "id":
			return once(1) && d.str(&m.ID)
		case "stream":
			return once(2) && d.str(&m.Stream)
		case "platform":
			return once(4) && d.str(&m.Platform)
		case "channel":
			return once(64) && d.str(&m.Channel)
		case "text":
			return once(8) && d.str(&m.Text)
		case "ts":
			return once(16) && d.int(&m.TS)
		case "emote_count":
			var n int64
			if !once(128) || !d.int(&n) || n < 0 || n > MaxTextBytes {
				return false // encoding/json decodes it; Validate refuses it
			}
			m.Emotes = int(n)
			return true
		case "user":
			if !once(32) {
				return false
			}
			var useen keySet
			uonce := useen.first
			return d.object(func(key string) bool {
				switch key {
				case "id":
					return uonce(1) && d.str(&m.User.ID)
				case "name":
					return uonce(2) && d.str(&m.User.Name)
				case "badges":
					return uonce(4) && d.strings(&m.User.Badges)
				}
				return d.other(key, "id", "name", "badges")
			})
		}
		return d.other(key, "id", "stream", "platform", "channel", "text", "ts", "user", "emote_count")
	}) {
		return false
	}
	d.space()
	return d.i == len(d.s)
}

// keySet records which keys of an object were seen, a bit each.
type keySet uint8

// first marks bit seen and reports whether it was not yet: a repeated key
// is left to encoding/json, which merges a repeated object.
func (s *keySet) first(bit keySet) bool {
	if *s&bit != 0 {
		return false
	}
	*s |= bit
	return true
}

type decoder struct {
	s     string
	i     int
	depth int
}

// maxDepth bounds the nesting of skipped values (encoding/json allows
// 10,000; a chat message has no use for more than a few).
const maxDepth = 32

// other skips the value of key, which is none of known; a key equal to
// one of them but for case is left to encoding/json, which would decode
// it into that field.
func (d *decoder) other(key string, known ...string) bool {
	for _, k := range known {
		if strings.EqualFold(key, k) {
			return false
		}
	}
	return d.skip()
}

func (d *decoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips space and reports whether the next byte is c, consuming it.
func (d *decoder) next(c byte) bool {
	d.space()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object decodes an object whose values field decodes by key.
func (d *decoder) object(field func(key string) bool) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	for {
		var key string
		if !d.str(&key) || !d.next(':') || !field(key) {
			return false
		}
		if d.next(',') {
			continue
		}
		return d.next('}')
	}
}

// str decodes a string in valid UTF-8. Without escapes it is a piece of
// the line; with them, a new string.
func (d *decoder) str(dst *string) bool {
	if !d.next('"') {
		return false
	}
	start := d.i
	end := strings.IndexByte(d.s[start:], '"')
	if end < 0 {
		return false
	}
	v := d.s[start : start+end]
	if i := strings.IndexByte(v, '\\'); i >= 0 {
		d.i = start + i
		return d.unescape(start, dst)
	}
	if printable, ascii := words.Scan(v); !printable || !ascii && !utf8.ValidString(v) {
		return false
	}
	d.i = start + end + 1
	*dst = v
	return true
}

// unescape decodes the rest of a string that started at start and has an
// escape at d.i, as encoding/json does: \uXXXX pairs of surrogates make
// one rune, a lone surrogate is U+FFFD.
func (d *decoder) unescape(start int, dst *string) bool {
	b := make([]byte, 0, d.i-start+16)
	b = append(b, d.s[start:d.i]...)
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(b) {
				return false
			}
			*dst = string(b)
			return true
		case c < 0x20:
			return false
		case c != '\\':
			b = append(b, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.s) {
			return false
		}
		e := d.s[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return false
			}
			if utf16.IsSurrogate(r) {
				r1 := r
				r = utf8.RuneError
				if d.i+1 < len(d.s) && d.s[d.i] == '\\' && d.s[d.i+1] == 'u' {
					save := d.i
					d.i += 2
					r2, ok := d.hex4()
					if !ok {
						return false
					}
					if dec := utf16.DecodeRune(r1, r2); dec != utf8.RuneError {
						r = dec
					} else {
						d.i = save // the second escape is decoded on its own
					}
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return false
		}
	}
	return false
}

// hex4 decodes the four hex digits at d.i.
func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	r := hexRune(d.s[d.i : d.i+4])
	if r < 0 {
		return 0, false
	}
	d.i += 4
	return r, true
}

// hexRune returns the value of four hex digits, or -1.
func hexRune(h string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := h[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// strings decodes an array of strings; an empty one is an empty slice, as
// encoding/json makes it.
func (d *decoder) strings(dst *[]string) bool {
	if !d.next('[') {
		return false
	}
	out := []string{}
	if !d.next(']') {
		for {
			var v string
			if !d.str(&v) {
				return false
			}
			out = append(out, v)
			if d.next(',') {
				continue
			}
			if !d.next(']') {
				return false
			}
			break
		}
	}
	*dst = out
	return true
}

// int decodes an integer in JSON's form (no leading zeros, no fraction or
// exponent) that fits in an int64.
func (d *decoder) int(dst *int64) bool {
	d.space()
	neg := d.i < len(d.s) && d.s[d.i] == '-'
	if neg {
		d.i++
	}
	start := d.i
	var v uint64
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		if v > (1<<63)/10 {
			return false
		}
		v = v*10 + uint64(d.s[d.i]-'0')
		d.i++
	}
	n := d.i - start
	switch {
	case n == 0, n > 1 && d.s[start] == '0', n > 19:
		return false
	case d.i < len(d.s) && (d.s[d.i] == '.' || d.s[d.i] == 'e' || d.s[d.i] == 'E'):
		return false
	case neg && v > 1<<63, !neg && v > 1<<63-1:
		return false
	}
	if neg {
		*dst = -int64(v)
	} else {
		*dst = int64(v)
	}
	return true
}

// skip passes over one value of any kind, checking its syntax.
func (d *decoder) skip() bool {
	d.space()
	if d.i >= len(d.s) {
		return false
	}
	switch c := d.s[d.i]; {
	case c == '"':
		var s string
		return d.str(&s)
	case c == '{' || c == '[':
		if d.depth++; d.depth > maxDepth {
			return false
		}
		defer func() { d.depth-- }()
		if c == '{' {
			return d.object(func(string) bool { return d.skip() })
		}
		d.i++
		if d.next(']') {
			return true
		}
		for {
			if !d.skip() {
				return false
			}
			if d.next(',') {
				continue
			}
			return d.next(']')
		}
	case c == 't':
		return d.word("true")
	case c == 'f':
		return d.word("false")
	case c == 'n':
		return d.word("null")
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	}
	return false
}

func (d *decoder) word(w string) bool {
	if strings.HasPrefix(d.s[d.i:], w) {
		d.i += len(w)
		return true
	}
	return false
}

// number passes over a number in JSON's grammar.
func (d *decoder) number() bool {
	if d.s[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	start := d.i
	n := digits()
	if n == 0 || n > 1 && d.s[start] == '0' {
		return false
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return false
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
