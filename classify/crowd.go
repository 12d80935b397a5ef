package classify

import (
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/livemod/livemod/state"
)

// Copypasta as moderators mean it.
//
// Many viewers saying the same thing at once is a live show working:
// "video lag ho raha hai", "your voice is so sweet", "🔥🔥🔥", "price?",
// "XL hai?". That is a crowd, and the questions among it are what the
// trending panel exists for. A raid is different: the same long text
// pasted by many users, or text that also carries spam, links, shouting
// (caps) or a flood of symbols. Only a raid's text can be copypasta.

// CopypastaOptions are the thresholds of the copypasta rule for one
// stream. Every zero value means the engine's default.
type CopypastaOptions struct {
	// MinLength is the length, in characters, from which the same text
	// from many users is copypasta even without marks. Zero means 48.
	MinLength int
	// Users is how many distinct users must send the text within Window.
	// Zero means 4.
	Users int
	// Window is how far back users are counted. Zero means 60s.
	Window time.Duration
}

// Defaults of CopypastaOptions.
const (
	DefaultCopypastaMinLength = 48
	DefaultCopypastaUsers     = 4
	DefaultCopypastaWindow    = 60 * time.Second
)

// crowdRule is a stream's copypasta thresholds, resolved.
type crowdRule struct {
	minLen int
	users  int
	window int64 // ms
	detail []string
}

func newCrowdRule(o, def CopypastaOptions) *crowdRule {
	o.MinLength = intOr(o.MinLength, intOr(def.MinLength, DefaultCopypastaMinLength))
	o.Users = intOr(o.Users, intOr(def.Users, DefaultCopypastaUsers))
	o.Window = durOr(o.Window, durOr(def.Window, DefaultCopypastaWindow))
	r := &crowdRule{minLen: o.MinLength, users: o.Users, window: o.Window.Milliseconds()}
	r.detail = make([]string, state.SeenRing+1)
	for n := range r.detail {
		r.detail[n] = strconv.Itoa(n) + " users sent it in " + o.Window.String()
	}
	return r
}

// crowdFor returns the copypasta thresholds of stream.
func (e *Engine) crowdFor(stream string) *crowdRule {
	if len(e.crowdStreams) > 0 {
		if r, ok := e.crowdStreams[stream]; ok {
			return r
		}
	}
	return e.crowd
}

// marks is what a raw text carries besides its words.
type marks struct {
	caps      bool // shouting: mostly capitals, ten letters or more
	symbols   bool // a flood of symbols or emoji among words
	emoteOnly bool // no letters or digits at all ("🔥🔥🔥", "!!!")
	runes     int
}

// lazyMarks reads a text's marks once, when first asked.
type lazyMarks struct {
	text string
	m    marks
	done bool
}

func (l *lazyMarks) get() *marks {
	if !l.done {
		l.m, l.done = textMarks(l.text), true
	}
	return &l.m
}

// raidLike reports a raid's kind of text under r's thresholds: long, or
// carrying spam or links (spam), caps or a symbol flood; never a line of
// emotes alone.
func (l *lazyMarks) raidLike(r *crowdRule, spam bool) bool {
	if spam {
		return true
	}
	if len(l.text) < r.minLen && !l.couldShout() {
		return false // too short, and no capitals or symbols to read
	}
	if !l.done && utf8.RuneCountInString(l.text) >= r.minLen {
		return hasWordRune(l.text) // long: the caps and symbols do not matter
	}
	m := l.get()
	return !m.emoteOnly && (m.runes >= r.minLen || m.caps || m.symbols)
}

// hasWordRune reports a letter, digit or combining mark in s.
func hasWordRune(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) {
			return true
		}
		i += size
	}
	return false
}

// couldShout reports whether the text has a capital letter or a byte of a
// non-ASCII character: without either it has no caps and no symbols.
func (l *lazyMarks) couldShout() bool {
	for i := 0; i < len(l.text); i++ {
		if c := l.text[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// textMarks reads the marks of text, the message as sent (the plain form
// has lost its case and its emoji).
func textMarks(text string) marks {
	var m marks
	upper, lower, words, syms, run, maxRun := 0, 0, 0, 0, 0, 0
	var prev rune
	inWord := false
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf {
			// ASCII: letters and digits make words; nothing is a symbol.
			i++
			m.runes++
			word := true
			switch {
			case 'A' <= c && c <= 'Z':
				upper++
			case 'a' <= c && c <= 'z':
				lower++
			case '0' <= c && c <= '9':
			default:
				word = false
			}
			if word && !inWord {
				words++
			}
			inWord = word
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				run, prev = 0, rune(c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		m.runes++
		switch {
		case unicode.IsUpper(r):
			upper++
		case unicode.IsLower(r):
			lower++
		}
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
		if word && !inWord {
			words++
		}
		inWord = word
		if isSymbol(r) {
			syms++
			if r == prev {
				run++
			} else {
				run = 1
			}
			maxRun = max(maxRun, run)
		} else if !unicode.IsSpace(r) && r != 0xFE0F && r != 0x200D {
			run = 0
		}
		if r != 0xFE0F && r != 0x200D && !unicode.IsSpace(r) {
			prev = r
		}
	}
	m.emoteOnly = words == 0
	m.caps = upper >= 10 && upper*10 >= (upper+lower)*7
	m.symbols = words >= 3 && (maxRun >= 3 || syms >= 6)
	return m
}

// isSymbol reports emoji, pictographs and other symbols (not letters,
// digits, spaces or ordinary punctuation).
func isSymbol(r rune) bool {
	if r < utf8.RuneSelf {
		return false
	}
	return unicode.IsSymbol(r) || (r >= 0x1F000 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF)
}

// Restrictions tells the engine which users may not speak: timeouts and
// bans. It is the first thing the engine asks about a message (see
// docs/ARCHITECTURE.md, "Order of precedence"). Implementations are
// goroutine-safe and do no I/O on the call.
type Restrictions interface {
	// Restricted reports whether user is timed out at ts (until, Unix ms,
	// after ts) or banned (until 0).
	Restricted(user string, ts int64) (until int64, ok bool)
}

// StreamRestrictions are Restrictions that may also hold in one stream
// only (given through a token limited to streams; docs/ARCHITECTURE.md,
// "Order of precedence"). The engine asks RestrictedIn after Restricted.
type StreamRestrictions interface {
	Restrictions
	RestrictedIn(stream, user string, ts int64) (until int64, ok bool)
}

var _ StreamRestrictions = (*state.MemoryRestrictions)(nil)
