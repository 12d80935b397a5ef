package classify

import (
	"bytes"
	"strings"

	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/livemod/livemod/internal/publicsuffix"
)

// Parsers over the plain form: web addresses, phone numbers, order numbers.
// They scan bytes; none uses regexp.

// findURL returns the span of the first web address in plain: a scheme
// ("http://"), "www.", or a name followed by a dot and a known top-level
// domain ("bit.ly/x", "shop.example.in").
func findURL(plain []byte) (a, b int, ok bool) {
	if !mayBeURL(plain) {
		return 0, 0, false
	}
	for i := 0; i < len(plain); i++ {
		c := plain[i]
		switch {
		case c == ':' && bytes.HasPrefix(plain[i:], []byte("://")) && i >= 4 &&
			(bytes.HasSuffix(plain[:i], []byte("http")) || bytes.HasSuffix(plain[:i], []byte("https"))):
			a = i - 4
			if plain[a] == 't' { // "https"
				a--
			}
			return a, chunkEnd(plain, i), true
		case c == 'w' && bytes.HasPrefix(plain[i:], []byte("ww.")) && (i == 0 || !isAlnum(plain[i-1])):
			// "www." is "ww." in the plain form: runs are cut to two.
			return i, chunkEnd(plain, i), true
		case c == '.' && i > 0:
			// name before the dot: at least two characters of a host name
			s := i
			for s > 0 && (isAlnum(plain[s-1]) || plain[s-1] == '-') {
				s--
			}
			if i-s < 2 {
				continue
			}
			e := i + 1
			for e < len(plain) && 'a' <= plain[e] && plain[e] <= 'z' {
				e++
			}
			if e < len(plain) && isAlnum(plain[e]) {
				continue
			}
			if isDomain(plain[s:hostEnd(plain, i)]) {
				return s, chunkEnd(plain, i), true
			}
		}
	}
	return 0, 0, false
}

// mayBeURL reports whether plain has a '.' or a ':', without which it
// holds no web address; most chat lines have neither, and IndexByte is a
// vector scan.
func mayBeURL(plain []byte) bool {
	return bytes.IndexByte(plain, '.') >= 0 || bytes.IndexByte(plain, ':') >= 0
}

func isTLD(b []byte) bool {
	for _, t := range tlds {
		if string(b) == t {
			return true
		}
	}
	return false
}

// hostEnd returns the end of the host name around the dot at plain[i].
func hostEnd(plain []byte, i int) int {
	for i < len(plain) && (isAlnum(plain[i]) || plain[i] == '.' || plain[i] == '-') {
		i++
	}
	for i > 0 && plain[i-1] == '.' {
		i--
	}
	return i
}

// isDomain reports whether a bare host name ("shop.example.co.in",
// "wa.me", "free-nitro.gift") is a registrable domain under a suffix of
// the Public Suffix List: an ICANN suffix of two letters (a country),
// of two labels or more ("co.uk"), one of the common ones (tlds), or any
// other when the host has a hyphen or a digit, as generated domains do.
// Suffixes that are everyday words after a dot typed without a space
// ("ok.so", "nice.one", "hello.guys") need one of those signs too.
func isDomain(host []byte) bool {
	dot := bytes.LastIndexByte(host, '.')
	if dot < 0 || len(host) > 253 {
		return false
	}
	if isTLD(host[dot+1:]) {
		return true // the common case, without a look-up in the list
	}
	// The list keeps no reference to its argument, and host is not
	// changed while it runs: a string header over the bytes, no copy.
	h := unsafe.String(&host[0], len(host))
	suffix, icann := publicsuffix.PublicSuffix(h)
	if suffix == h || !icann && !strings.Contains(suffix, ".") {
		return false
	}
	if strings.Contains(suffix, ".") && icann {
		return true
	}
	last := suffix
	if k := strings.LastIndexByte(suffix, '.'); k >= 0 {
		last = suffix[k+1:]
	}
	if isTLD([]byte(last)) {
		return true
	}
	generated := strings.ContainsAny(h[:len(h)-len(suffix)], "-0123456789")
	if len(last) == 2 && !wordTLD(last) {
		return true
	}
	return generated
}

// wordTLD are two-letter country domains that are also words people type
// after a full stop without a space.
func wordTLD(s string) bool {
	switch s {
	case "so", "is", "it", "to", "at", "no", "am", "do", "go", "my", "us", "as", "an", "id", "im", "mr", "ok", "hi", "lo", "ya", "ye", "re", "tu", "na", "ne", "ma", "pa", "ha":
		return true
	}
	return false
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// chunkEnd returns the end of the space-separated chunk holding plain[i].
func chunkEnd(plain []byte, i int) int {
	for i < len(plain) && plain[i] != ' ' {
		i++
	}
	return i
}

// findPhone reports a phone number: 10 to 13 digits, possibly split by
// spaces, dashes, dots or brackets, optionally after '+'. A number after
// an order word is an order number, not a phone.
func findPhone(plain []byte) (string, bool) {
	if countDigits(plain) < 10 {
		return "", false
	}
	for i := 0; i < len(plain); i++ {
		if !(plain[i] >= '0' && plain[i] <= '9' || plain[i] == '+') {
			continue
		}
		if i > 0 && isAlnum(plain[i-1]) {
			// inside a word or a longer code: skip the whole word
			for i < len(plain) && isAlnum(plain[i]) {
				i++
			}
			continue
		}
		start := i
		digits := 0
		j := i
		for ; j < len(plain); j++ {
			c := plain[j]
			if '0' <= c && c <= '9' {
				digits++
				continue
			}
			if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '+' && j == start) &&
				j+1 < len(plain) && (plain[j+1] >= '0' && plain[j+1] <= '9' || plain[j+1] == '(') {
				continue
			}
			break
		}
		if j < len(plain) && 'a' <= plain[j] && plain[j] <= 'z' {
			digits = 0 // "9876543210abc" is a code, not a phone
		}
		if isPhone(plain[start], plain[start:j], digits) && !afterOrderWord(plain, start) {
			return "matched a phone number", true
		}
		i = j
	}
	return "", false
}

// isPhone reports whether a run of digits is dialable: "+" and 10 to 13
// digits, 10 digits of an Indian mobile (6–9 first), or 11 to 13 digits
// with a trunk or country prefix (0…, 91…). "1000000000 views" is not.
func isPhone(first byte, run []byte, digits int) bool {
	switch {
	case first == '+':
		return digits >= 10 && digits <= 13
	case digits == 10:
		return first >= '6' && first <= '9'
	case digits >= 11 && digits <= 13:
		return first == '0' || bytes.HasPrefix(run, []byte("91"))
	}
	return false
}

// afterOrderWord reports whether one of the two words before plain[i] is
// an order word ("order 9876543210", "order no 9876543210").
func afterOrderWord(plain []byte, i int) bool {
	words := 0
	end := i
	for k := i - 1; k >= -1 && words < 3; k-- {
		if k == -1 || plain[k] == ' ' {
			if w := strings.Trim(string(plain[k+1:end]), "#:.-"); w != "" {
				if isOrderWord(w) {
					return true
				}
				words++
			}
			end = k
		}
	}
	return false
}

func isOrderWord(w string) bool {
	for _, o := range orderWords {
		if w == o {
			return true
		}
	}
	return false
}

func isFiller(w string) bool {
	for _, f := range orderFillers {
		if w == f {
			return true
		}
	}
	return false
}

// ExtractOrderID returns the order number a message names, upper-cased, or
// "" if it names none: "order 5521" → "5521", "order #A-7781" → "A-7781",
// "ऑर्डर नंबर 5521" → "5521", "my order is #99812" → "99812". An order
// number has 3 to 32 letters, digits, '-' or '_' and at least one digit.
func ExtractOrderID(text string) string {
	var tmp []byte
	return extractOrderID(appendPlain(nil, &tmp, text))
}

// extractOrderID finds the order number in plain, a scratch buffer: the
// words it looks at point into plain, and the id it returns is a copy.
func extractOrderID(plain []byte) string {
	if len(plain) == 0 {
		return ""
	}
	s := unsafe.String(&plain[0], len(plain))
	var buf [64]string
	fields := appendFields(buf[:0], s)
	for i, f := range fields {
		w := strings.Trim(f, ".,:;!?()[]")
		// "order#5521", "order:5521", "ऑर्डर#5521"
		for _, o := range orderWords {
			if rest, ok := strings.CutPrefix(w, o); ok && rest != "" && strings.ContainsAny(rest[:1], "#:-") {
				if id := orderIDToken(strings.TrimLeft(rest, "#:-")); id != "" {
					return id
				}
			}
		}
		if strings.HasPrefix(w, "#") {
			if id := orderIDToken(w[1:]); id != "" {
				return id
			}
			continue
		}
		if !isOrderWord(w) {
			continue
		}
		for k := i + 1; k < len(fields) && k <= i+4; k++ {
			c := strings.Trim(fields[k], ".,:;!?()[]")
			if id := orderIDToken(strings.TrimLeft(c, "#")); id != "" {
				return id
			}
			if !isFiller(c) {
				break
			}
		}
	}
	return ""
}

// appendFields appends the words of s, split as strings.Fields splits
// them, to dst.
func appendFields(dst []string, s string) []string {
	start := -1
	for i, r := range s {
		space := r < utf8.RuneSelf && asciiSpace[r] != 0 || r >= utf8.RuneSelf && unicode.IsSpace(r)
		switch {
		case space && start >= 0:
			dst = append(dst, s[start:i])
			start = -1
		case !space && start < 0:
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, s[start:])
	}
	return dst
}

var asciiSpace = [utf8.RuneSelf]uint8{'\t': 1, '\n': 1, '\v': 1, '\f': 1, '\r': 1, ' ': 1}

// orderIDToken returns w upper-cased, in a string of its own, if it looks
// like an order number.
func orderIDToken(w string) string {
	if len(w) < 3 || len(w) > 32 {
		return ""
	}
	digit := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case '0' <= c && c <= '9':
			digit = true
		case 'a' <= c && c <= 'z', c == '-', c == '_':
		default:
			return ""
		}
	}
	if !digit {
		return ""
	}
	b := make([]byte, len(w)) // w may point into a scratch buffer
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b[i] = c
	}
	return unsafe.String(&b[0], len(b))
}
