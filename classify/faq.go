package classify

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/livemod/livemod/chat"
)

// FAQ matching. Every phrase of every entry is compiled through the same
// normalization as messages (plain form, then skeleton words), so
// "कब तक", "kab tak", "KAB TAKK" and "kab tk" need no variants. A phrase
// matches a message as a bag of words, so word order does not matter
// ("delivery time" = "time of delivery"); long words match with one typo
// (a letter missing, extra, wrong or swapped: "delivary", "shpping"). Each
// phrase scores the weighted share of its words found in the message —
// filler words ("the", "is", "hai", "का") weigh less — and the best entry
// at or over the threshold wins.

// FAQEntry is one automated answer as configured.
type FAQEntry struct {
	ID      string
	Match   []string // phrases that ask this question
	Answer  string   // template; see RenderTemplate
	Approve bool     // drafted for a moderator instead of sent
	Product string   // what {product_name} says; empty means "our products"
}

// FAQOptions tune matching. Every zero value means its documented default.
type FAQOptions struct {
	// Threshold is the score (0..1] a phrase needs to match. Zero means
	// 0.75: every content word present, or all but a filler word, or one
	// long word with a typo.
	Threshold float64
}

// FAQMatch is the entry a message matched.
type FAQMatch struct {
	Entry  int     // index into the entries given to NewFAQMatcher
	ID     string  // the entry's id
	Phrase string  // the configured phrase that matched best
	Score  float64 // 0..1
}

// The weights of phrase words, and the discount for a word matched with a
// typo.
const (
	faqFillerWeight = 0.4
	faqTypoFactor   = 0.85
	faqMinTypoRunes = 5  // shorter words must match exactly: "cod" is not "cot"
	faqMaxWordBytes = 64 // longer words are not typo-matched
	faqMaxWords     = 16 // words of a phrase beyond this are ignored
)

// faqFillers are words that carry little meaning in a question, in
// English, Hinglish and Hindi. Written as a reader would; compiled.
var faqFillers = []string{
	"a", "an", "the", "is", "are", "am", "it", "its", "my", "me", "i", "you", "your", "u", "ur",
	"to", "of", "for", "in", "on", "at", "be", "do", "does", "did", "will", "can", "this",
	"that", "and", "or", "please", "pls", "plz", "with", "by", "from",
	"hai", "h", "hain", "ka", "ki", "ke", "ko", "se", "me", "mein", "main", "mera", "meri",
	"mere", "bhi", "to", "ho", "kya", "ye", "yeh", "wo", "woh", "na", "ji",
	"है", "हैं", "का", "की", "के", "को", "से", "में", "मेरा", "मेरी", "मेरे", "भी", "तो", "हो",
	"क्या", "ये", "यह", "वो", "जी",
}

var faqFillerSet = func() map[uint64]bool {
	m := make(map[uint64]bool, len(faqFillers))
	for _, w := range faqFillers {
		for _, h := range compileWords(w) {
			m[h] = true
		}
	}
	return m
}()

type faqPhrase struct {
	entry   int
	text    string
	weights []float32 // per word
	total   float32
}

// faqRef is one word of one phrase.
type faqRef struct {
	phrase int32
	word   uint8
	typo   bool // reached through a typo
}

// FAQMatcher matches messages to FAQ entries. It is read-only after
// NewFAQMatcher and safe for concurrent use.
type FAQMatcher struct {
	entries   []FAQEntry
	phrases   []faqPhrase
	exact     map[uint64][]faqRef // word hash → phrase words
	typoWords map[uint64][]faqRef // words that may be typo-matched, by hash
	deletes   map[uint64][]faqRef // hash of a word with one rune deleted
	threshold float32
}

// ErrNoFAQ is returned by NewFAQMatcher for an entry that cannot match.
var ErrNoFAQ = errors.New("classify: faq entry has no phrase that normalizes to words")

// NewFAQMatcher compiles entries. An entry without an id, without a usable
// phrase, or whose answer has an unknown token is an error naming it.
func NewFAQMatcher(entries []FAQEntry, opts FAQOptions) (*FAQMatcher, error) {
	if opts.Threshold < 0 || opts.Threshold > 1 {
		return nil, fmt.Errorf("classify: faq threshold %v out of range; use 0 (0.75) up to 1", opts.Threshold)
	}
	th := opts.Threshold
	if th == 0 {
		th = 0.75
	}
	f := &FAQMatcher{
		entries:   append([]FAQEntry(nil), entries...),
		exact:     make(map[uint64][]faqRef),
		typoWords: make(map[uint64][]faqRef),
		deletes:   make(map[uint64][]faqRef),
		threshold: float32(th),
	}
	var errs []error
	for ei, e := range entries {
		if e.ID == "" {
			errs = append(errs, fmt.Errorf("faq[%d]: id is empty", ei))
			continue
		}
		if err := ValidateTemplate(e.Answer); err != nil {
			errs = append(errs, fmt.Errorf("faq %q: answer: %w", e.ID, err))
		}
		n := 0
		for _, p := range e.Match {
			if f.addPhrase(ei, p) {
				n++
			}
		}
		if n == 0 {
			errs = append(errs, fmt.Errorf("faq %q: %w", e.ID, ErrNoFAQ))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func (f *FAQMatcher) addPhrase(entry int, text string) bool {
	var tmp []byte
	plain := appendPlain(nil, &tmp, text)
	skel, toks, _, _ := appendSkeleton(nil, nil, nil, plain)
	pi := int32(len(f.phrases))
	p := faqPhrase{entry: entry, text: text}
	seen := map[uint64]bool{}
	content := 0
	for _, t := range toks {
		if seen[t.h] || len(p.weights) == faqMaxWords {
			continue
		}
		seen[t.h] = true
		w := float32(1)
		if faqFillerSet[t.h] {
			w = faqFillerWeight
		} else {
			content++
		}
		ref := faqRef{phrase: pi, word: uint8(len(p.weights))}
		p.weights = append(p.weights, w)
		f.exact[t.h] = append(f.exact[t.h], ref)
		word := skel[t.a:t.b]
		if utf8.RuneCount(word) >= faqMinTypoRunes && len(word) <= faqMaxWordBytes {
			tr := ref
			tr.typo = true
			f.typoWords[t.h] = append(f.typoWords[t.h], tr)
			eachDeletion(word, func(h uint64) { f.deletes[h] = append(f.deletes[h], tr) })
		}
	}
	if len(p.weights) == 0 {
		return false
	}
	if content == 0 { // a phrase of filler words only: every word counts
		for i := range p.weights {
			p.weights[i] = 1
		}
	}
	for _, w := range p.weights {
		p.total += w
	}
	f.phrases = append(f.phrases, p)
	return true
}

// eachDeletion calls fn with the hash of word with each one of its runes
// deleted.
func eachDeletion(word []byte, fn func(uint64)) {
	var buf [faqMaxWordBytes]byte
	for i := 0; i < len(word); {
		_, size := utf8.DecodeRune(word[i:])
		n := copy(buf[:], word[:i])
		n += copy(buf[n:], word[i+size:])
		fn(hashWord(buf[:n]))
		i += size
	}
}

// Entries returns the entries the matcher was built from.
func (f *FAQMatcher) Entries() []FAQEntry { return f.entries }

// Match returns the entry text asks about, if any scores at or over the
// threshold. Ties go to the phrase with more matched weight, then to the
// entry listed first.
func (f *FAQMatcher) Match(text string) (FAQMatch, bool) {
	if f == nil || len(f.phrases) == 0 {
		return FAQMatch{}, false
	}
	if len(text) > chat.MaxTextBytes {
		text = text[:chat.MaxTextBytes]
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.plain = appendPlain(sc.plain[:0], &sc.tmp, text)
	sc.skel, sc.toks, sc.raws, _ = appendSkeleton(sc.skel[:0], sc.toks[:0], sc.raws[:0], sc.plain)
	return f.match(sc.skel, sc.toks)
}

// faqScore is what a message earned against one phrase: a bit per word
// matched exactly, a bit per word matched with a typo.
type faqScore struct{ exact, typo uint16 }

func (f *FAQMatcher) match(skel []byte, toks []tok) (FAQMatch, bool) {
	var stack [128]faqScore
	var scores []faqScore
	if len(f.phrases) <= len(stack) {
		scores = stack[:len(f.phrases)]
	} else {
		scores = make([]faqScore, len(f.phrases))
	}
	mark := func(refs []faqRef, typo bool) {
		for _, r := range refs {
			if typo {
				scores[r.phrase].typo |= 1 << r.word
			} else {
				scores[r.phrase].exact |= 1 << r.word
			}
		}
	}
	for _, t := range toks {
		if refs, ok := f.exact[t.h]; ok {
			mark(refs, false)
		}
		word := skel[t.a:t.b]
		if len(word) > faqMaxWordBytes || utf8.RuneCount(word) < faqMinTypoRunes-1 {
			continue
		}
		// One typo: the message word is a phrase word with a rune missing
		// (its hash is among the deletions), has an extra rune (one of its
		// deletions is a phrase word), or a wrong or swapped one (they
		// share a deletion).
		if refs, ok := f.deletes[t.h]; ok {
			mark(refs, true)
		}
		eachDeletion(word, func(h uint64) {
			if refs, ok := f.typoWords[h]; ok {
				mark(refs, true)
			}
			if refs, ok := f.deletes[h]; ok {
				mark(refs, true)
			}
		})
	}
	best, bestScore, bestWeight := -1, float32(0), float32(0)
	for pi := range scores {
		s := scores[pi]
		if s.exact|s.typo == 0 {
			continue
		}
		p := &f.phrases[pi]
		var got float32
		content := false
		for w, wt := range p.weights {
			switch {
			case s.exact&(1<<w) != 0:
				got += wt
			case s.typo&(1<<w) != 0:
				got += wt * faqTypoFactor
			default:
				continue
			}
			content = content || wt == 1
		}
		if !content {
			continue
		}
		score := got / p.total
		if score < f.threshold {
			continue
		}
		if best < 0 || score > bestScore || score == bestScore && (got > bestWeight || got == bestWeight && p.entry < f.phrases[best].entry) {
			best, bestScore, bestWeight = pi, score, got
		}
	}
	if best < 0 {
		return FAQMatch{}, false
	}
	p := &f.phrases[best]
	return FAQMatch{Entry: p.entry, ID: f.entries[p.entry].ID, Phrase: p.text, Score: float64(bestScore)}, true
}

// Templates.

// TemplateTokens are the tokens a reply template may use. config checks
// templates against the same list.
var TemplateTokens = []string{"author_name", "first_name", "order_id", "product_name", "issue", "stream"}

// TemplateFields are the values of a template's tokens.
type TemplateFields struct {
	AuthorName  string // "@asha", or "@asha @ravi" for a reply to several
	FirstName   string
	OrderID     string
	ProductName string
	Issue       string
	Stream      string
}

// ValidateTemplate reports an unknown or unclosed {token} in t.
func ValidateTemplate(t string) error {
	for rest := t; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Errorf("unclosed { in %q", t)
		}
		name := rest[i+1 : i+j]
		if tokenValue(name, &TemplateFields{}) == nil {
			return fmt.Errorf("unknown token {%s}; known tokens: {%s}", name, strings.Join(TemplateTokens, "}, {"))
		}
		rest = rest[i+j+1:]
	}
}

func tokenValue(name string, f *TemplateFields) *string {
	switch name {
	case "author_name":
		return &f.AuthorName
	case "first_name":
		return &f.FirstName
	case "order_id":
		return &f.OrderID
	case "product_name":
		return &f.ProductName
	case "issue":
		return &f.Issue
	case "stream":
		return &f.Stream
	}
	return nil
}

// RenderTemplate replaces the tokens of t with the values of f. Unknown
// tokens are left as written (ValidateTemplate catches them at load).
func RenderTemplate(t string, f *TemplateFields) string {
	if strings.IndexByte(t, '{') < 0 {
		return t
	}
	var b strings.Builder
	b.Grow(len(t) + 32)
	for rest := t; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		if v := tokenValue(rest[i+1:i+j], f); v != nil {
			b.WriteString(*v)
		} else {
			b.WriteString(rest[i : i+j+1])
		}
		rest = rest[i+j+1:]
	}
	return b.String()
}
