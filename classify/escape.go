package classify

import (
	"bytes"
	"html"
	"strconv"
	"unicode/utf8"
)

// Escapes in chat text. Messages copied through JSON, logs, scrapers and
// bridges arrive with their escapes undone only once, or not at all:
// "you\nidiot", "sh\x69t", "\xe0\xa4\x9a…" (Devanagari as escaped
// bytes), "&lt;3", "it&#39;s". Left as they are, the escapes glue words
// together ("\nidiot" is the word "nidiot") and turn other scripts into
// runs of hex digits that no rule reads and the model scores as noise.
// The plain form decodes them: backslash escapes (\n \r \t, \xNN, \uXXXX,
// \UXXXXXXXX) and HTML character references (named, decimal, hex).

// maxUnescapeRounds bounds the rounds of decoding for text escaped more
// than once ("&amp;lt;"). What is still escaped after them loses its '&'
// and '\' (see appendPlainUnescaped), which keeps Normalize idempotent.
const maxUnescapeRounds = 4

// mayHaveEscape reports whether the plain form p has a backslash escape or
// an HTML character reference: two vector scans, and most chat has
// neither byte.
func mayHaveEscape(p []byte) bool {
	if i := bytes.IndexByte(p, '\\'); i >= 0 && i+1 < len(p) {
		for ; i >= 0 && i+1 < len(p); i = nextIndex(p, i, '\\') {
			if escapeLen(p[i:]) > 0 {
				return true
			}
		}
	}
	if i := bytes.IndexByte(p, '&'); i >= 0 {
		for ; i >= 0; i = nextIndex(p, i, '&') {
			if refLen(p[i:]) > 0 {
				return true
			}
		}
	}
	return false
}

func nextIndex(p []byte, i int, c byte) int {
	j := bytes.IndexByte(p[i+1:], c)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// escapeLen returns the length of the backslash escape that starts p, or
// zero. Letters are lower case here: the plain form is folded.
func escapeLen(p []byte) int {
	if len(p) < 2 || p[0] != '\\' {
		return 0
	}
	switch p[1] {
	case 'n', 'r', 't':
		return 2
	case 'x':
		if len(p) >= 4 && isHex(p[2]) && isHex(p[3]) {
			return 4
		}
	case 'u':
		if len(p) >= 6 && isHex(p[2]) && isHex(p[3]) && isHex(p[4]) && isHex(p[5]) {
			return 6
		}
	}
	return 0
}

// refLen returns the length of the HTML character reference that starts
// p ("&amp;", "&#39;", "&#x1f600;"), or zero. Only references closed by
// ';' count: "AT&T" and "Q&A" are words.
func refLen(p []byte) int {
	if len(p) < 4 || p[0] != '&' {
		return 0
	}
	i := 1
	if p[1] == '#' {
		i = 2
		if i < len(p) && p[i] == 'x' {
			i++
		}
		start := i
		for i < len(p) && i-start < 8 && isHex(p[i]) {
			i++
		}
		if i == start || i >= len(p) || p[i] != ';' {
			return 0
		}
		return i + 1
	}
	for i < len(p) && i < 32 && ('a' <= p[i] && p[i] <= 'z' || '0' <= p[i] && p[i] <= '9') {
		i++
	}
	if i == 1 || i >= len(p) || p[i] != ';' {
		return 0
	}
	if html.UnescapeString(string(p[:i+1])) == string(p[:i+1]) {
		return 0 // not a known name
	}
	return i + 1
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// unescape returns p with its escapes decoded: \n \r \t as a space, \xNN
// as the byte NN (runs of them spell UTF-8), \uXXXX as the rune (a
// surrogate pair as one), character references as their characters.
func unescape(p []byte) []byte {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		switch p[i] {
		case '\\':
			n := escapeLen(p[i:])
			if n == 0 {
				break
			}
			switch p[i+1] {
			case 'n', 'r', 't':
				out = append(out, ' ')
			case 'x':
				v, _ := strconv.ParseUint(string(p[i+2:i+4]), 16, 8)
				out = append(out, byte(v))
			case 'u':
				v, _ := strconv.ParseUint(string(p[i+2:i+6]), 16, 16)
				r := rune(v)
				if 0xD800 <= r && r < 0xDC00 && escapeLen(p[i+6:]) == 6 && p[i+7] == 'u' {
					lo, _ := strconv.ParseUint(string(p[i+8:i+12]), 16, 16)
					if 0xDC00 <= lo && lo < 0xE000 {
						r = 0x10000 + (r-0xD800)<<10 + rune(lo) - 0xDC00
						n = 12
					}
				}
				out = utf8.AppendRune(out, r)
			}
			i += n
			continue
		case '&':
			n := refLen(p[i:])
			if n == 0 {
				break
			}
			out = append(out, html.UnescapeString(string(p[i:i+n]))...)
			i += n
			continue
		}
		out = append(out, p[i])
		i++
	}
	return out
}

// appendPlainUnescaped re-normalizes the plain form dst[start:] after
// decoding its escapes, as many rounds as the text was escaped (at most
// maxUnescapeRounds). It is called only for text that has an escape.
func appendPlainUnescaped(dst []byte, start int, tmp *[]byte) []byte {
	for range maxUnescapeRounds {
		dec := unescape(dst[start:])
		dst = appendPlainOnce(dst[:start], tmp, string(dec))
		if !mayHaveEscape(dst[start:]) {
			return dst
		}
	}
	// Escaped more often than any bridge does: what is left is not text
	// anyone reads. Blank the escapes' lead bytes so that Normalize stays
	// idempotent.
	s := bytes.Map(func(r rune) rune {
		if r == '\\' || r == '&' {
			return ' '
		}
		return r
	}, dst[start:])
	return appendPlainOnce(dst[:start], tmp, string(s))
}

// appendPlain appends the plain form of s to dst, escapes decoded. tmp is
// scratch space, grown as needed and handed back for reuse.
func appendPlain(dst []byte, tmp *[]byte, s string) []byte {
	start := len(dst)
	dst = appendPlainOnce(dst, tmp, s)
	if mayHaveEscape(dst[start:]) {
		dst = appendPlainUnescaped(dst, start, tmp)
	}
	return dst
}
