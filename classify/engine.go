package classify

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/state"
)

// Options configure an Engine. Every zero value means the documented default.
type Options struct {
	RepeatWindow    time.Duration // window for one user repeating themselves; zero means 30s
	RepeatCount     int           // same user, same normalized text this many times in the window => flood; zero means 3
	CopypastaWindow time.Duration // zero means 60s
	CopypastaUsers  int           // distinct users sending the same normalized text in the window => flood; zero means 4
	// CopypastaMinLength is the length (characters) from which the same
	// text from many users is copypasta without other marks (crowd.go).
	// Zero means 48.
	CopypastaMinLength int
	// CopypastaStreams overrides the copypasta thresholds per stream; a
	// zero field keeps the value above.
	CopypastaStreams map[string]CopypastaOptions
	Seen             Seen // dedup state; nil means an in-memory, size-bounded, sharded table (goroutine-safe)
	// Restrictions are the timeouts and bans, asked first: a restricted
	// user's message is hidden (user.ban / user.timeout) and goes no
	// further. Nil means nobody is restricted (replay).
	Restrictions Restrictions

	// The learned model (model.go) beside the rules.
	Model          *Model                 // nil means DefaultModel(), the one embedded in the binary
	NoModel        bool                   // rules only
	Thresholds     map[chat.Label]float32 // score at which the model gives a label; missing labels use DefaultThresholds
	HideThresholds map[chat.Label]float32 // score at which the model alone hides; missing labels use DefaultHideThresholds

	// Trending clusters allowed questions and fills Decision.Question
	// (trend.go). Nil means no clustering: Question stays null.
	Trending Questions
}

// Errors New returns for options out of range.
var (
	ErrNegativeOption = errors.New("classify: negative window or count; use zero for the default")
)

// chorusMinWords and chorusMinBytes keep short chat ("hi", "lol") out of
// Decision.Dup's count of users: it counts what many say in chorus.
const (
	chorusMinWords = 4
	chorusMinBytes = 20
)

// spamHits are the rules whose hit makes a text shared by many copypasta
// however short it is (crowd.go).
const spamHits = 1<<ruleSpamLink | 1<<ruleSpamSpacedURL | 1<<ruleSpamChannel | 1<<ruleSpamLike |
	1<<ruleSpamScam | 1<<ruleSpamContact | 1<<ruleSpamPhone | 1<<ruleLinkURL |
	1<<ruleSpamGift | 1<<ruleSpamSMS | 1<<ruleSpamVisit

// Engine classifies messages. It is safe for concurrent use; its mutable
// state sits behind its ports: the Seen table, the Trending clusters and
// the Restrictions it reads.
type Engine struct {
	repeatWindow int64 // ms
	repeatCount  int
	crowd        *crowdRule            // copypasta thresholds (crowd.go)
	crowdStreams map[string]*crowdRule // per stream, if configured
	seen         Seen
	restrict     Restrictions

	m         *matcher // skeleton phrases, lexicon, stems
	plain     table    // plain-only lexicon entries: xxhash → index into plainDet
	plainDet  []string
	plainMild []bool      // plainDet entries that are mild profanity
	plainLen  [256]uint64 // by first byte: bit n set when some plain entry of n bytes starts with it
	leads     map[uint64]string
	exact     map[uint64]ruleID
	exactDet  map[uint64]string

	repeatDetail []string // by count, built once

	keys    table    // phonetic keys of Hinglish lexicon entries → index into keyRule, keyDet
	keyRule []ruleID // ruleToxic, ruleToxicMild or ruleToxicGated
	keyDet  []string
	keyLen  [256]uint32 // by first byte of a raw word: bit n set when an entry's key may come from n bytes
	dict    *wordFilter // dictionaryFilter()

	kin, mentionCue, genitive []uint64 // word hashes of kin, mentionCue, genitive
	mentionAfter              []uint64
	visit                     uint64
	q                         questionCues // question.go

	you, between, after []uint64 // word hashes of secondPerson, insultBetween, insultAfter
	youWords            []string // secondPerson, by index of you
	yours               []uint64 // secondPossessive
	yourWords           []string

	policy *modelPolicy // the model and its thresholds; nil means rules only
	trend  Questions    // question clusters; nil means none
}

// defaultRules is compiled once: every engine shares the read-only tables.
var defaultRules = sync.OnceValue(func() *Engine {
	e := &Engine{
		m:        newMatcher(),
		leads:    make(map[uint64]string),
		exact:    make(map[uint64]ruleID),
		exactDet: make(map[uint64]string),
	}
	for r := ruleID(0); r < numRules; r++ {
		for _, p := range phrases[r] {
			e.m.add(p, r)
		}
	}
	for r, words := range classWords() {
		for _, w := range words {
			e.m.add(w, r)
		}
	}
	skeletal, plainOnly := lexicon()
	mild := mildLexicon()
	for _, w := range skeletal {
		if mild[w] {
			e.m.add(w, ruleToxicMild)
		} else {
			e.m.add(w, ruleToxic)
		}
	}
	gated := gatedLexicon()
	for _, w := range gated {
		e.m.add(w, ruleToxicGated)
	}
	e.addKeys(skeletal, mild, gated)
	e.dict = dictionaryFilter()
	plainIdx := make(map[uint64]int32)
	for _, w := range plainOnly {
		if _, ok := plainIdx[xxhash.Sum64String(w)]; ok {
			continue
		}
		plainIdx[xxhash.Sum64String(w)] = int32(len(e.plainDet))
		e.plainDet = append(e.plainDet, matchedDetail(w))
		e.plainMild = append(e.plainMild, mild[w])
		if len(w) >= 64 {
			panic("classify: plain-only lexicon entry of 64 bytes or more: " + w) // a build defect
		}
		e.plainLen[w[0]] |= 1 << len(w)
	}
	e.you, e.youWords = wordHashesNamed(secondPerson)
	e.between, e.after = wordHashes(insultBetween), wordHashes(insultAfter)
	e.yours, e.yourWords = wordHashesNamed(secondPossessive)
	e.kin, e.mentionCue, e.genitive = wordHashes(kin), wordHashes(mentionCue), wordHashes(genitive)
	e.mentionAfter = wordHashes(mentionAfter)
	e.visit = compileWords("visit")[0]
	e.q = newQuestionCues()
	e.plain = newTable(plainIdx)
	e.m.freeze()
	for _, w := range leads {
		ws := compileWords(w)
		e.leads[ws[0]] = matchedDetail(w)
	}
	for r, list := range exact {
		for _, w := range list {
			h := xxhash.Sum64String(skeleton(w))
			e.exact[h] = r
			e.exactDet[h] = matchedDetail(w)
		}
	}
	return e
})

// New returns an Engine with the default rules of English, Hindi and
// Hinglish.
func New(opts Options) (*Engine, error) {
	for _, o := range []struct {
		name string // the option and its livemod.yaml key
		v    int64
	}{
		{"RepeatWindow (classify.repeat_window)", int64(opts.RepeatWindow)},
		{"CopypastaWindow (classify.copypasta_window)", int64(opts.CopypastaWindow)},
		{"RepeatCount (classify.repeat_count)", int64(opts.RepeatCount)},
		{"CopypastaUsers (classify.copypasta_users)", int64(opts.CopypastaUsers)},
		{"CopypastaMinLength (classify.copypasta_min_length)", int64(opts.CopypastaMinLength)},
	} {
		if o.v < 0 {
			return nil, fmt.Errorf("%s is %d: %w", o.name, o.v, ErrNegativeOption)
		}
	}
	for id, o := range opts.CopypastaStreams {
		if o.MinLength < 0 || o.Users < 0 || o.Window < 0 {
			return nil, fmt.Errorf("CopypastaStreams[%q] (classify.copypasta_streams.%s) has a negative value: %w", id, id, ErrNegativeOption)
		}
	}
	d := defaultRules()
	e := *d
	e.repeatWindow = durOr(opts.RepeatWindow, 30*time.Second).Milliseconds()
	e.repeatCount = intOr(opts.RepeatCount, 3)
	def := CopypastaOptions{MinLength: opts.CopypastaMinLength, Users: opts.CopypastaUsers, Window: opts.CopypastaWindow}
	e.crowd = newCrowdRule(def, def)
	if len(opts.CopypastaStreams) > 0 {
		e.crowdStreams = make(map[string]*crowdRule, len(opts.CopypastaStreams))
		for s, o := range opts.CopypastaStreams {
			e.crowdStreams[s] = newCrowdRule(o, def)
		}
	}
	e.restrict = opts.Restrictions
	e.seen = opts.Seen
	if e.seen == nil {
		e.seen = state.NewMemorySeen()
	}
	policy, err := newModelPolicy(opts)
	if err != nil {
		return nil, err
	}
	e.policy = policy
	e.trend = opts.Trending
	rw := durOr(opts.RepeatWindow, 30*time.Second).String()
	e.repeatDetail = make([]string, state.SeenRing+1)
	for n := range e.repeatDetail {
		e.repeatDetail[n] = "same user sent it " + strconv.Itoa(n) + " times in " + rw
	}
	return &e, nil
}

func durOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func intOr(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// scratch holds the per-call buffers of Decide; pooled so that Decide
// does not allocate for them.
type scratch struct {
	tmp   []byte
	plain []byte
	skel  []byte
	toks  []tok
	raws  []rawTok
	hits  hits
	feats []uint64 // the model's hashed features

	spaced bool // letters spaced out to spell a web address
	view   View // lent to an Inspector (tune.go)
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{
		tmp:   make([]byte, 0, 512),
		plain: make([]byte, 0, 512),
		skel:  make([]byte, 0, 512),
		toks:  make([]tok, 0, 64),
		raws:  make([]rawTok, 0, 64),
		feats: make([]uint64, 0, 256),
	}
}}

// reasonOrder is the order reasons are written in: the rule that decided
// the action first. A rule whose labels are already explained adds no
// second reason.
var reasonOrder = [...]ruleID{
	ruleThreat, ruleToxic, ruleToxicInsult, ruleToxicMild, ruleToxicMention, ruleSpamLink, ruleSpamSpacedURL,
	ruleSpamVisit, ruleSpamScam, ruleSpamGift, ruleSpamSMS, ruleSpamContact,
	ruleSpamPhone, ruleSpamChannel, ruleSpamLike, ruleLinkURL, ruleFloodCopypasta, ruleFloodRepeat,
	ruleOptoutStop, ruleOptoutStart, ruleAgent, ruleAgentNotBot, ruleSupportRefund, ruleSupportWrongItem,
	ruleSupportNotDelivered, ruleSupportDamaged, ruleSupportReturn, ruleSupportCancel,
	ruleSupportStatus, ruleQuestionPrice, rulePurchase, ruleQuestionWord, ruleQuestionMark,
}

// Decide classifies m. It is goroutine-safe and pure apart from the Seen
// table: time is m.TS, and there is no I/O.
func (e *Engine) Decide(m *chat.Message) chat.Decision {
	var d chat.Decision
	e.DecideInto(&d, m)
	return d
}

// DecideInto is Decide writing the decision over *d, whose Reasons array
// and Question it reuses: a caller that decides message after message
// into one Decision (a pipeline shard) allocates neither per message.
// Whatever held on to d's previous Reasons or Question sees them change.
//
// The order of precedence (docs/ARCHITECTURE.md) starts here:
// restrictions first. A timed-out or banned user's message is hidden
// with reason user.timeout or user.ban and goes no further: it keeps the
// labels the rules give it, so that moderators see what it was (an agent
// request, say), but joins no trending question, and automation
// (automate.Stage) neither answers it nor opens a ticket.
func (e *Engine) DecideInto(d *chat.Decision, m *chat.Message) {
	e.DecideWith(d, m, nil, nil)
}

// restriction reports whether m's author is timed out (until, Unix ms)
// or banned (until zero).
func (e *Engine) restriction(m *chat.Message) (until int64, restricted bool) {
	if e.restrict == nil {
		return 0, false
	}
	return restrictedOn(e.restrict, m)
}

// restrictDecision hides the decision about a restricted user's message,
// the restriction its first reason.
func restrictDecision(d *chat.Decision, until int64) {
	rule, det := chat.RuleUserBan, "user is banned"
	if until != 0 {
		rule, det = chat.RuleUserTimeout, "user is timed out until "+time.UnixMilli(until).UTC().Format(time.RFC3339)
	}
	d.Action = chat.Hide
	d.Question = nil
	d.Reasons = slices.Insert(d.Reasons, 0, chat.Reason{Rule: rule, Detail: det})
}

// restrictedOn asks r about m's author: a restriction given for the user
// id alone holds on every platform (a bridge without platforms), one
// given for (platform, user) only there; one given in a stream only
// (StreamRestrictions) holds only in m's stream.
func restrictedOn(r Restrictions, m *chat.Message) (int64, bool) {
	until, ok := r.Restricted(m.User.ID, m.TS)
	if ok {
		return until, ok
	}
	mr, mem := r.(*state.MemoryRestrictions)
	if mem && mr.Len() == 0 {
		return 0, false // most shows restrict nobody: no key to build
	}
	sr, inStream := r.(StreamRestrictions)
	if inStream {
		if until, ok := sr.RestrictedIn(m.Stream, m.User.ID, m.TS); ok {
			return until, ok
		}
	}
	if m.Platform == "" {
		return 0, false
	}
	subject := chat.Subject(m.Platform, m.User.ID)
	if until, ok := r.Restricted(subject, m.TS); ok || !inStream || (mem && mr.LenIn() == 0) {
		return until, ok
	}
	return sr.RestrictedIn(m.Stream, subject, m.TS)
}

// decide decides m into d with the scratch buffers given. The words of
// allow are not flagged by the toxic lexicons; in (a channel's policy,
// tune.go) adjusts the decision before the question joins trending, so
// that a message the channel hides never trends.
func (e *Engine) decide(d *chat.Decision, m *chat.Message, sc *scratch, allow *AllowList, in Inspector, restricted bool) {
	startDecision(d, m, restricted)
	h := &sc.hits
	h.reset()

	text := m.Text
	if len(text) > chat.MaxTextBytes {
		text = text[:chat.MaxTextBytes]
	}
	sc.plain = appendPlain(sc.plain[:0], &sc.tmp, text)
	var spaced bool
	sc.skel, sc.toks, sc.raws, spaced = appendSkeletonKnown(sc.skel[:0], sc.toks[:0], sc.raws[:0], sc.plain, e.m)
	sc.spaced = spaced
	leadQ := e.scanRules(h, sc, allow)

	// A raid's text: long, or carrying spam, links, caps or a symbol
	// flood. Only such text shared by many users is copypasta (crowd.go);
	// the same short reaction or question from many is a crowd. The marks
	// are read only when they matter (a text others sent too, a question):
	// most chat is neither, and reading them costs a pass over the text.
	lm := lazyMarks{text: text}
	cr := e.crowdFor(m.Stream)
	e.dedup(d, m, h, sc, &lm, cr)
	// A shouted line is a declaration unless it asks with '?' or opens
	// with a question word: "NOBODY DOES IT LIKE DIDI" asks nothing.
	if h.has(ruleQuestionWord) && !leadQ && !h.has(ruleQuestionMark) && lm.get().caps {
		h.set &^= 1 << ruleQuestionWord
	}
	var labels chat.Labels
	n := 0
	for _, r := range reasonOrder {
		if h.has(r) {
			labels |= chat.Labels(rules[r].label)
			n++
		}
	}
	if labels == 0 && !h.has(ruleOptoutStart) {
		e.applyModel(d, sc, text, 0, m.User.Badges)
	} else {
		e.act(d, m, h, sc.plain, labels, n)
		if d.Action != chat.Hide || !labels.Has(chat.LabelSpam) {
			// Spam the rules hide is not scored: the model could change
			// neither its action nor its spam label, and a raid sends it by
			// the thousand. Its decision carries no scores.
			e.applyModel(d, sc, text, labels, m.User.Badges)
		}
	}
	inspect(d, m, sc, in, restricted)
	e.observeQuestion(d, sc.plain, &lm, cr)
}

// startDecision resets d for m, keeping the storage a reused Decision
// lends (its reasons' array, its QuestionRef).
func startDecision(d *chat.Decision, m *chat.Message, restricted bool) {
	reasons, question := d.Reasons[:0], d.QuestionBuf
	*d = chat.Decision{
		ID:             m.ID,
		Stream:         m.Stream,
		Platform:       m.Platform,
		Channel:        m.Channel,
		User:           chat.User{ID: m.User.ID, Name: m.User.Name, Badges: m.User.Badges},
		Text:           m.Text,
		TS:             m.TS,
		Reasons:        reasons,
		QuestionBuf:    question,
		RestrictedUser: restricted,
	}
}

// scanRules runs the rules over the normalized text in sc into h: the
// lexicons, phrases and composed rules, question cues, links and phone
// numbers. It reports whether the message starts with a question word
// (after a greeting, a name …).
func (e *Engine) scanRules(h *hits, sc *scratch, allow *AllowList) (leadQ bool) {
	toks, skel, plain := sc.toks, sc.skel, sc.plain
	var allowed uint64 // words a channel's allowed terms cover
	if allow != nil {
		allowed = allow.mask(toks)
	}
	url, digits := mayBeURL(plain), countDigits(plain)
	h.quiet = quietWords(toks, plain, url)
	e.m.scan(toks, skel, plain, h, allowed)
	if sc.spaced {
		h.add(ruleSpamSpacedURL, "matched a spaced-out web address")
	}
	for ti := range toks {
		t := &toks[ti]
		if ti < 64 && (h.quiet|allowed)&(1<<ti) != 0 {
			continue
		}
		if n := int(t.pb - t.pa); n < 64 && e.plainLen[plain[t.pa]]&(1<<n) != 0 {
			if k, ok := e.plain.get(xxhash.Sum64(plain[t.pa:t.pb])); ok && (allow == nil || !allow.plain[xxhash.Sum64(plain[t.pa:t.pb])]) {
				if e.plainMild[k] {
					h.add(ruleToxicMild, e.plainDet[k])
					h.mark(ruleToxicMild, ti)
				} else {
					h.add(ruleToxic, e.plainDet[k])
					h.mark(ruleToxic, ti)
				}
			}
		}
	}
	e.matchKeys(toks, plain, h, allowed)
	e.compose(toks, plain, h, digits, url)
	leadQ = false
	if i := e.leadAt(toks, plain, h); i < len(toks) {
		if det, ok := e.leads[toks[i].h]; ok {
			h.add(ruleQuestionWord, det)
			leadQ = true
		}
	}
	if len(toks) <= 3 {
		hx := xxhash.Sum64(skel)
		if r, ok := e.exact[hx]; ok {
			h.add(r, e.exactDet[hx])
		}
	}
	if hasQuestionMark(plain) {
		h.add(ruleQuestionMark, "ends with '?'")
	}
	if n := len(toks); n > 0 && (n <= 64 && h.clsAt[ruleClsEmote-ruleClsPreamble] == 1<<n-1 || e.sameWord(toks)) {
		// "Kappa Kappa Kappa", "LUL LUL?": reactions, not questions.
		h.set &^= 1<<ruleQuestionWord | 1<<ruleQuestionMark
		h.add(ruleQuestionNot, "")
	}
	if h.has(ruleQuestionNot) && !h.has(ruleQuestionMark) {
		h.set &^= 1 << ruleQuestionWord
	}
	h.qcue = h.set&(1<<ruleQuestionWord|1<<ruleQuestionMark|1<<ruleQuestionPrice) != 0 ||
		!h.has(ruleQuestionNot) && h.any(ruleClsWh)
	if url {
		if _, _, ok := findURL(plain); ok {
			h.add(ruleLinkURL, "") // detail written below, only when it is a reason
		}
	}
	if digits >= 10 {
		if det, ok := findPhone(plain); ok {
			h.add(ruleSpamPhone, det)
		}
	}

	return leadQ
}

// dedup counts the text's repeats by this user and by the crowd (the
// Seen port) into d and h: flood and copypasta, whose earlier copies
// leave the trending questions.
func (e *Engine) dedup(d *chat.Decision, m *chat.Message, h *hits, sc *scratch, lm *lazyMarks, cr *crowdRule) {
	toks := sc.toks
	// Dedup over the skeleton, so evasions of one text count as one.
	key := sc.skel
	if len(key) == 0 {
		key = sc.plain
	}
	if len(key) > 0 {
		kh := xxhash.Sum64(key)
		who := xxhash.Sum64String(m.User.ID)
		if m.Platform != "" { // Twitch user 42 is not YouTube user 42
			who ^= xxhash.Sum64String(m.Platform) * 0x9e3779b97f4a7c15
		}
		uc, cu := e.seen.Observe(m.Stream, kh, who, m.TS, e.repeatWindow, cr.window)
		// The count shown counts a chorus of sentences too; greetings
		// and one-word chat count one each.
		if len(toks) >= chorusMinWords && len(key) >= chorusMinBytes {
			d.Dup.Count = max(uc, cu, 1)
		} else {
			d.Dup.Count = max(uc, 1)
		}
		if cu > 1 && !lm.raidLike(cr, h.set&spamHits != 0) {
			cu = 1
		}
		if uc >= e.repeatCount {
			h.add(ruleFloodRepeat, e.repeatDetail[min(uc, len(e.repeatDetail)-1)])
		}
		if cu >= cr.users {
			h.add(ruleFloodCopypasta, cr.detail[min(cu, len(cr.detail)-1)])
			if e.trend != nil {
				// The first copies were allowed, and may have joined a
				// question: a raid's text never trends.
				e.trend.Purge(m.Stream, kh)
			}
		}
		d.TextKey = kh
		d.Shared = cu > 1 // raid-like text another user sent
	} else {
		d.Dup.Count = 1
	}
}

// act gives d the labels of the rules that hit, the action they call for
// and a reason for each label (n is how many rules hit).
func (e *Engine) act(d *chat.Decision, m *chat.Message, h *hits, plain []byte, labels chat.Labels, n int) {
	d.Labels = labels
	priv := isPrivileged(m.User.Badges)
	switch {
	case labels.Has(chat.LabelThreat):
		d.Action = chat.Hold
	case !priv && (labels&chat.Labels(chat.LabelSpam|chat.LabelFlood|chat.LabelLink) != 0):
		d.Action = chat.Hide
	case h.has(ruleToxic) || h.has(ruleToxicInsult):
		d.Action = chat.Hold
	}

	d.Reasons = slices.Grow(d.Reasons, n)
	var explained chat.Labels
	for _, r := range reasonOrder {
		if !h.has(r) {
			continue
		}
		ru := &rules[r]
		if chat.Labels(ru.label)&^explained == 0 && ru.label != 0 {
			continue
		}
		explained |= chat.Labels(ru.label)
		det := h.detail[r]
		switch {
		case r == ruleLinkURL:
			if a, b, ok := findURL(plain); ok {
				det = matchedDetail(string(clipBytes(plain[a:b], 64)))
			}
		case ru.issue != "":
			if id := extractOrderID(plain); id != "" {
				det += ", order " + id
			}
		}
		d.Reasons = append(d.Reasons, chat.Reason{Rule: ru.name, Detail: det})
	}
}

// wordHashes returns the skeleton word hash of each one-word entry.
func wordHashes(list []string) []uint64 {
	hs, _ := wordHashesNamed(list)
	return hs
}

// wordHashesNamed is wordHashes with the entries kept beside.
func wordHashesNamed(list []string) ([]uint64, []string) {
	var hs []uint64
	var names []string
	for _, w := range list {
		if ws := compileWords(w); len(ws) == 1 {
			hs = append(hs, ws[0])
			names = append(names, w)
		}
	}
	return hs, names
}

func indexHash(hs []uint64, h uint64) int {
	for i, x := range hs {
		if x == h {
			return i
		}
	}
	return -1
}

func hasHash(hs []uint64, h uint64) bool { return indexHash(hs, h) >= 0 }

// aimed reports mild profanity aimed at someone and says why: a
// second-person word before it, perhaps with "are a", "such a" or other
// profanity between ("you are a fucking …", "u r shit"), or right after
// it, perhaps after "hai"/"ho" ("fuck you", "shit hai tu", "fuck your
// …"). at marks the words that matched mild entries; mild is the detail
// of the first. "I love you so fucking much" is not aimed: "so" is not
// an insult's company. The word lists are in rules.go.
func (e *Engine) aimed(toks []tok, at uint64, mild string) (string, bool) {
	for i := range min(len(toks), 64) {
		if at&(1<<i) == 0 {
			continue
		}
		for k := i - 1; k >= 0 && k >= i-4; k-- {
			hk := toks[k].h
			if y := indexHash(e.you, hk); y >= 0 {
				return mild + ", aimed at someone ('" + e.youWords[y] + "')", true
			}
			if !hasHash(e.between, hk) && at&(1<<k) == 0 {
				break
			}
		}
		k := i + 1
		if k < len(toks) && hasHash(e.after, toks[k].h) {
			k++
		}
		if k < len(toks) {
			if y := indexHash(e.you, toks[k].h); y >= 0 {
				return mild + ", aimed at someone ('" + e.youWords[y] + "')", true
			}
			if y := indexHash(e.yours, toks[k].h); y >= 0 {
				return mild + ", aimed at someone ('" + e.yourWords[y] + "')", true
			}
		}
	}
	return "", false
}

func clipBytes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	// Cut on a rune boundary.
	for n > 0 && b[n]&0xC0 == 0x80 {
		n--
	}
	return b[:n]
}

func isPrivileged(badges []string) bool {
	for _, b := range badges {
		for _, p := range privileged {
			if b == p {
				return true
			}
		}
	}
	return false
}

// hasQuestionMark reports a '?' that is not the whole message nor part of
// a web address ("watch?v=…", "detail.php?id=…"): one followed by a letter,
// a digit or '=' is a query string.
func hasQuestionMark(plain []byte) bool {
	i := bytes.IndexByte(plain, '?')
	if i < 0 {
		return false
	}
	for ; i >= 0; i = nextIndex(plain, i, '?') {
		if i+1 == len(plain) || !(isAlnum(plain[i+1]) || plain[i+1] == '=') {
			break
		}
	}
	if i < 0 {
		return false
	}
	for _, c := range plain {
		switch c {
		case '?', ' ', '!', '.':
		default:
			return true
		}
	}
	return false
}
