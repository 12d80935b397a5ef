package policy

import (
	"bytes"

	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/internal/words"

	"github.com/livemod/livemod/classify"
)

// An Env is where a stream's rules act beyond the decision: the
// escalation counts and the timeouts. The rules of every stream of a
// Book share one; a trial run has its own, so it gives no real timeout.
type Env struct {
	offences *offences
	// Timeout is asked to time a user out. It runs on a pipeline shard:
	// it must not block (Book queues the work). Nil gives none.
	Timeout func(stream, user, name string, seconds int, reason string)
}

// NewEnv returns an Env whose escalation table holds at most maxUsers
// users (zero means 100,000).
func NewEnv(maxUsers int, timeout func(stream, user, name string, seconds int, reason string)) *Env {
	return &Env{offences: newOffences(maxUsers), Timeout: timeout}
}

// Offenders is the number of users the escalation table holds.
func (e *Env) Offenders() int { return e.offences.len() }

// Bound is a Rules with the Env it acts in: the classify.Inspector the
// engine calls.
type Bound struct {
	*Rules
	env *Env
}

// Bind returns r acting in env.
func (r *Rules) Bind(env *Env) *Bound { return &Bound{r, env} }

// exempt reports whether badges include one of list.
func exempt(badges, list []string) bool {
	if len(list) == 0 || len(badges) == 0 {
		return false
	}
	return hasBadge(badges, list)
}

// fired is the set of rules that fired on one message.
type fired struct {
	n    int
	idx  [maxPolicyReasons]int32
	more int
	det  [maxPolicyReasons]string // detail overriding the rule's, if set
}

func (f *fired) has(ri int32) bool {
	for k := 0; k < f.n; k++ {
		if f.idx[k] == ri {
			return true
		}
	}
	return false
}

func (f *fired) add(ri int32, det string) {
	for k := 0; k < f.n; k++ {
		if f.idx[k] == ri {
			return
		}
	}
	if f.n == len(f.idx) {
		f.more++
		return
	}
	f.idx[f.n], f.det[f.n] = ri, det
	f.n++
}

var linkBuf = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Inspect applies the rules to the engine's decision about m. It is the
// classify.Inspector of the stream.
func (b *Bound) Inspect(d *chat.Decision, m *chat.Message, v *classify.View) {
	r := b.Rules
	var f fired
	badges := m.User.Badges
	policyExempt := func() bool { return exempt(badges, r.exempt) }

	if r.sens >= 0 {
		r.applySensitivity(d, m)
	}

	// Terms: a word's hash is looked up only if its bit is set in the
	// filter, which most words of chat miss.
	if len(r.phrase) > 0 {
		n := v.Words()
		for i := 0; i < n; i++ {
			w, h := v.Word(i)
			if r.hasBit(wordKey(h)) {
				if i+1 < n && r.pair != nil {
					_, h2 := v.Word(i + 1)
					for _, pi := range r.pair[pairKey(h, h2)] {
						p := &r.phrase[pi]
						if p.matchAt(v, i) && !exempt(badges, r.rules[p.rule].exempt) {
							f.add(p.rule, "")
						}
					}
				}
				for _, pi := range r.first[h] {
					p := &r.phrase[pi]
					if p.matchAt(v, i) && !exempt(badges, r.rules[p.rule].exempt) {
						f.add(p.rule, "")
					}
				}
			}
			for _, pi := range r.globs {
				p := &r.phrase[pi]
				if p.matchAt(v, i) && !exempt(badges, r.rules[p.rule].exempt) {
					f.add(p.rule, "")
				}
			}
			if len(w) >= 3 && r.globStart[w[0]] && r.globAt != nil {
				if k := tri(w[0], w[1], w[2]); r.hasBit(triBit(k)) {
					for _, pi := range r.globAt[k] {
						p := &r.phrase[pi]
						if bytes.HasPrefix(w, p.prefix) && p.matchAt(v, i) && !exempt(badges, r.rules[p.rule].exempt) {
							f.add(p.rule, "")
						}
					}
				}
			}
		}
	}
	// Regexes, behind the trigram prefilter.
	if len(r.rx) > 0 {
		plain := v.Plain()
		for _, xi := range r.always {
			x := &r.rx[xi]
			if x.re.Match(plain) && !exempt(badges, r.rules[x.rule].exempt) {
				f.add(x.rule, "")
			}
		}
		if len(r.triIdx) > 0 {
			for i := 0; i+2 < len(plain); i++ {
				if !r.litStart[plain[i]] || !r.litSecond[plain[i+1]] {
					continue
				}
				k := tri(plain[i], plain[i+1], plain[i+2])
				if !r.hasBit(triBit(k)) {
					continue
				}
				for _, l := range r.triIdx[k] {
					x := &r.rx[l.rx]
					if bytes.HasPrefix(plain[i:], l.lit) && !f.has(x.rule) && x.re.Match(plain) && !exempt(badges, r.rules[x.rule].exempt) {
						f.add(x.rule, "")
					}
				}
			}
		}
	}
	// Limits.
	if r.anyLimit {
		r.limits(&f, m.Text, m.Emotes, v, badges)
	}
	// Links.
	if r.links != nil && !exempt(badges, r.links.exempt) {
		r.applyLinks(d, m, &f, v)
	}
	// Actions per label.
	labelSeconds := 0
	if r.anyLabelAct && !policyExempt() {
		labelSeconds = r.applyLabelActs(d)
	}
	// What fired decides, with the strictest act; only a hold for a
	// threat or abuse stays a hold whatever the channel's rule says (a
	// person must see it).
	best := act{action: d.Action, seconds: labelSeconds}
	if f.n > 0 {
		engine := best
		reasons := make([]chat.Reason, 0, f.n+len(d.Reasons)+1)
		for k := 0; k < f.n; k++ {
			ru := &r.rules[f.idx[k]]
			a := ru.act
			if f.idx[k] == r.linksRule() {
				a = actOfLinkDetail(r.links, f.det[k])
			}
			if k == 0 || a.stricter(best) {
				best = a
			}
			det := ru.detail
			if f.det[k] != "" {
				det = f.det[k]
			}
			if a.seconds > 0 {
				det += "; timeout " + strconv.Itoa(a.seconds) + "s"
			}
			reasons = append(reasons, chat.Reason{Rule: ru.name, Detail: det})
		}
		if f.more > 0 {
			reasons[len(reasons)-1].Detail += " (and " + strconv.Itoa(f.more) + " more channel rules)"
		}
		if firmHold(d) && engine.stricter(best) {
			best = engine
		} else if engine.seconds > best.seconds {
			best.seconds = engine.seconds
		}
		d.Reasons = append(reasons, d.Reasons...)
		d.Action = best.action
	}
	// Escalation: repeat hides of one user lead to a timeout.
	if r.esc != nil && d.Action == chat.Hide && b.env != nil && !policyExempt() {
		window := int64(r.esc.Window) / 1e6
		if n := b.env.offences.add(chat.UserKey(m.Stream, m.User.ID), m.TS, window, r.esc.Offences); n >= r.esc.Offences {
			sec := r.esc.Seconds
			if sec == 0 {
				sec = 600
			}
			if sec > best.seconds {
				best.seconds = sec
				d.Reasons = append(d.Reasons, chat.Reason{Rule: "policy.escalation",
					Detail: strconv.Itoa(n) + " hides in " + r.esc.Window.String() + "; timeout " + strconv.Itoa(sec) + "s"})
			}
		}
	}
	if best.seconds > 0 && d.Action == chat.Hide && b.env != nil && b.env.Timeout != nil {
		reason := "channel rule"
		for _, rs := range d.Reasons {
			if strings.HasPrefix(rs.Rule, "policy.") {
				reason = rs.Rule
			}
		}
		b.env.Timeout(m.Stream, m.User.ID, m.User.Name, best.seconds, reason)
	}
}

func (r *Rules) linksRule() int32 {
	if r.links == nil {
		return -1
	}
	return r.links.rule
}

// linkBlockedPrefix marks the detail of a blocked link (vs one not
// allowed), which may act differently.
const linkBlockedPrefix = "blocked link '"

func actOfLinkDetail(l *linkRule, det string) act {
	if strings.HasPrefix(det, linkBlockedPrefix) || l.other == nil {
		return l.blockAct
	}
	return *l.other
}

// limits checks the limits of r against text. It is one pass over the
// text's characters (bytes, for ASCII), and builds a reason's detail only
// for a limit that is over.
func (r *Rules) limits(f *fired, text string, marked int, v *classify.View, badges []string) {
	if len(text) > chat.MaxTextBytes {
		text = text[:chat.MaxTextBytes]
	}
	orig := text
	var runes, nonSpace, letters, upper, symbols, emoji, run, maxRun, marks, maxMarks, spaces int
	var last rune = -1
	if words.ASCII(text) {
		// Most chat: a table lookup a byte, and the longest run only if
		// a limit needs it.
		var cnt [5]int
		for i := 0; i < len(text); i++ {
			cnt[asciiClass[text[i]]]++
		}
		runes, spaces = len(text), cnt[classSpace]
		letters, upper, symbols = cnt[classLower]+cnt[classUpper], cnt[classUpper], cnt[classSymbol]
		nonSpace = runes - spaces
		if r.repeats != nil && r.repeats.max > 0 {
			for i := 0; i < len(text); i++ {
				if i > 0 && text[i] == text[i-1] {
					run++
				} else {
					run = 1
				}
				maxRun = max(maxRun, run)
			}
		}
		text = "" // counted
	}
	for i := 0; i < len(text); {
		c := rune(text[i])
		if c < utf8.RuneSelf {
			i++
			runes++
			if c == last {
				run++
			} else {
				run, last = 1, c
			}
			maxRun = max(maxRun, run)
			marks = 0
			switch asciiClass[c] {
			case classSpace:
				spaces++
				continue
			case classLower:
				letters++
			case classUpper:
				letters++
				upper++
			case classSymbol:
				symbols++
			}
			nonSpace++
			continue
		}
		c, size := utf8.DecodeRuneInString(text[i:])
		i += size
		runes++
		if c == last {
			run++
		} else {
			run, last = 1, c
		}
		maxRun = max(maxRun, run)
		if 0x0900 <= c && c <= 0x097F { // Devanagari: no case; its signs are letters' parts, not zalgo
			nonSpace++
			marks = 0
			continue
		}
		if c >= 0x1F000 && c <= 0x1FAFF { // emoji and pictographs, without the Unicode tables
			nonSpace++
			marks = 0
			symbols++
			emoji++
			continue
		}
		switch {
		case unicode.Is(unicode.Mn, c) || unicode.Is(unicode.Me, c):
			marks++
			maxMarks = max(maxMarks, marks)
			nonSpace++
			continue
		case unicode.IsSpace(c):
			spaces++
			marks = 0
			continue
		}
		marks = 0
		nonSpace++
		switch {
		case unicode.IsUpper(c):
			letters++
			upper++
		case unicode.IsLower(c):
			letters++
		case unicode.IsSymbol(c) || unicode.IsPunct(c):
			symbols++
			if c >= 0x1F000 || 0x2600 <= c && c <= 0x27BF {
				emoji++
			}
		}
	}
	text = orig
	applies := func(l *limitRule) bool {
		return runes >= l.minLength && !exempt(badges, r.rules[l.rule].exempt)
	}
	if l := r.caps; l != nil && letters > 0 && float64(upper) > l.maxRatio*float64(letters) && applies(l) {
		f.add(l.rule, "capitals "+pct(float64(upper)/float64(letters))+" of letters, over "+pct(l.maxRatio))
	}
	if l := r.symbols; l != nil && nonSpace > 0 && float64(symbols) > l.maxRatio*float64(nonSpace) && applies(l) {
		f.add(l.rule, "symbols "+pct(float64(symbols)/float64(nonSpace))+" of characters, over "+pct(l.maxRatio))
	}
	if l := r.length; l != nil && runes > l.max && applies(l) {
		f.add(l.rule, strconv.Itoa(runes)+" characters, over "+strconv.Itoa(l.max))
	}
	if l := r.zalgo; l != nil && maxMarks > l.max && applies(l) {
		f.add(l.rule, strconv.Itoa(maxMarks)+" combining marks on one character, over "+strconv.Itoa(l.max))
	}
	// The platform's own emote positions (Twitch's emotes tag) are
	// counted where it marked them; otherwise emotes are words of the
	// list: a message of no more words than the limit, with its emoji,
	// cannot be over it.
	if l := r.emotes; l != nil && marked > 0 {
		if n := marked + emoji; n > l.max && applies(l) {
			f.add(l.rule, strconv.Itoa(n)+" emotes, over "+strconv.Itoa(l.max))
		}
	} else if l != nil && spaces+1+emoji > l.max {
		n := emoji
		for i := 0; i < len(text); {
			for i < len(text) && text[i] == ' ' {
				i++
			}
			j := i
			for j < len(text) && text[j] != ' ' {
				j++
			}
			if w := j - i; w > 0 && w < 64 && r.emoteLen[text[i]]&(1<<w) != 0 && r.emoteSet[text[i:j]] {
				n++
			}
			i = j
		}
		if n > l.max && applies(l) {
			f.add(l.rule, strconv.Itoa(n)+" emotes, over "+strconv.Itoa(l.max))
		}
	}
	if l := r.repeats; l != nil {
		if l.max > 0 && maxRun > l.max && applies(l) {
			f.add(l.rule, "one character "+strconv.Itoa(maxRun)+" times in a row, over "+strconv.Itoa(l.max))
		}
		if l.maxWords > 0 && v.Words() > l.maxWords {
			if n := mostRepeatedWord(v); n > l.maxWords && applies(l) {
				f.add(l.rule, "one word "+strconv.Itoa(n)+" times, over "+strconv.Itoa(l.maxWords))
			}
		}
	}
}

// Classes of ASCII for limits.
const (
	classOther = iota
	classSpace
	classLower
	classUpper
	classSymbol
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			t[c] = classSpace
		case 'a' <= c && c <= 'z':
			t[c] = classLower
		case 'A' <= c && c <= 'Z':
			t[c] = classUpper
		case '0' <= c && c <= '9', c < ' ', c == 0x7f:
			t[c] = classOther
		default:
			t[c] = classSymbol
		}
	}
	return t
}()

func pct(x float64) string { return strconv.Itoa(int(x*100+0.5)) + "%" }

// mostRepeatedWord returns how often the most frequent skeleton word
// occurs, counting the first 128 words.
func mostRepeatedWord(v *classify.View) int {
	var hs [128]uint64
	var ns [128]int32
	n := min(v.Words(), 128)
	best := 0
	for i := 0; i < n; i++ {
		_, h := v.Word(i)
		if h == 0 {
			h = 1
		}
		s := int(h % 128)
		for hs[s] != 0 && hs[s] != h {
			s = (s + 1) % 128
		}
		hs[s] = h
		ns[s]++
		best = max(best, int(ns[s]))
	}
	return best
}

// applyLinks finds the message's links and fires the link rule for those
// blocked or not allowed; a message whose links are all allowed is
// released from the built-in link rules.
func (r *Rules) applyLinks(d *chat.Decision, m *chat.Message, f *fired, v *classify.View) {
	plain := v.Plain()
	if !mayHaveLink(plain) && !v.Spaced() {
		return
	}
	bp := linkBuf.Get().(*[]byte)
	defer linkBuf.Put(bp)
	var arr [maxLinks]link
	links := findLinks(arr[:0], bp, plain)
	l := r.links
	allowed, other := 0, ""
	for _, k := range links {
		switch {
		case l.block[k.domain]:
			f.add(l.rule, linkBlockedPrefix+clip(k.host, 64)+"'")
			return
		case l.allow[k.domain]:
			allowed++
		case other == "":
			other = k.host
		}
	}
	if other == "" && v.Spaced() {
		other = "a spaced-out address"
	}
	if other != "" {
		if l.other != nil {
			f.add(l.rule, "link '"+clip(other, 64)+"' is not on the channel's allow-list")
		}
		return
	}
	if allowed > 0 {
		// The channel's own links: neither a link nor the model's spam
		// (which links drive) below the score that hides.
		rules := []string{"link.url", "spam.link"}
		if d.Scores.Get(chat.LabelSpam) < classify.DefaultHideThresholds[chat.LabelSpam] {
			rules = append(rules, "model.spam")
		}
		release(d, classify.IsPrivileged(m.User.Badges), chat.LabelLink, rules...)
	}
}

// firmHold reports a hold the channel's rules do not lift: a threat or
// abuse by the built-in rules.
func firmHold(d *chat.Decision) bool {
	if d.Action != chat.Hold {
		return false
	}
	for _, r := range d.Reasons {
		if strings.HasPrefix(r.Rule, "threat.") || r.Rule == "toxic.lexicon" || r.Rule == "toxic.insult" {
			return true
		}
	}
	return false
}

// baseAction is the engine's action for the reasons left in d: a threat
// or abuse is held, a rule's spam, flood or link hidden (not for
// privileged badges), the model's spam or toxic held.
func baseAction(d *chat.Decision, priv bool) chat.Action {
	a := chat.Allow
	for _, r := range d.Reasons {
		switch {
		case strings.HasPrefix(r.Rule, "threat."), r.Rule == "toxic.lexicon", r.Rule == "toxic.insult", r.Rule == "model.toxic":
			return chat.Hold
		case r.Rule == "model.spam":
			if !priv {
				a = max(a, chat.Hold)
			}
		case strings.HasPrefix(r.Rule, "spam."), strings.HasPrefix(r.Rule, "flood."), strings.HasPrefix(r.Rule, "link."):
			if !priv && a == chat.Allow {
				a = chat.Hide
			}
		}
	}
	return a
}

// release takes label and the reasons of rules out of d, and sets the
// action the reasons left call for.
func release(d *chat.Decision, priv bool, label chat.Label, rules ...string) {
	kept := d.Reasons[:0]
	spamLeft := false
	for _, rs := range d.Reasons {
		drop := false
		for _, ru := range rules {
			if rs.Rule == ru {
				drop = true
			}
		}
		if !drop {
			kept = append(kept, rs)
			spamLeft = spamLeft || strings.HasPrefix(rs.Rule, "spam.") || rs.Rule == "model.spam"
		}
	}
	d.Reasons = kept
	d.Labels.Remove(label)
	if !spamLeft {
		d.Labels.Remove(chat.LabelSpam)
	}
	if label == chat.LabelToxic {
		for _, r := range kept {
			if strings.HasPrefix(r.Rule, "toxic.") {
				d.Labels.Add(chat.LabelToxic)
			}
		}
	}
	d.Action = baseAction(d, priv)
}

// applySensitivity re-reads the model's spam and toxic scores at the
// stream's level.
func (r *Rules) applySensitivity(d *chat.Decision, m *chat.Message) {
	t := Thresholds[r.sens]
	for _, x := range [...]struct {
		l    chat.Label
		t    float32
		rule string
	}{{chat.LabelSpam, t.Spam, "model.spam"}, {chat.LabelToxic, t.Toxic, "model.toxic"}} {
		s := d.Scores.Get(x.l)
		if s == 0 {
			continue // the model did not score this message
		}
		has := false
		for _, rs := range d.Reasons {
			if rs.Rule == x.rule {
				has = true
			}
		}
		switch {
		case has && s < x.t:
			release(d, classify.IsPrivileged(m.User.Badges), x.l, x.rule)
		case !d.Labels.Has(x.l) && s >= x.t:
			d.Labels.Add(x.l)
			d.Reasons = append(d.Reasons, chat.Reason{Rule: x.rule, Detail: "score " + strconv.FormatFloat(float64(s), 'f', 2, 32) + " at sensitivity " + strconv.Itoa(r.sens)})
			if d.Action == chat.Allow && !(x.l == chat.LabelSpam && classify.IsPrivileged(m.User.Badges)) {
				d.Action = chat.Hold
			}
		}
	}
}

// applyLabelActs sets the action from the stream's actions per label.
// Mild profanity the engine labels toxic (reason toxic.profanity only)
// counts as profanity. Labels without an action keep the engine's.
// It returns the seconds of a timeout the labels' action gives.
func (r *Rules) applyLabelActs(d *chat.Decision) int {
	labels := d.Labels & r.moderation
	if labels == 0 {
		return 0
	}
	var have [len(labelBits)]bool
	have[0] = labels.Has(chat.LabelSpam)
	have[2] = labels.Has(chat.LabelThreat)
	have[3] = labels.Has(chat.LabelFlood)
	have[4] = labels.Has(chat.LabelLink)
	have[5] = r.profanity != 0 && labels.Has(r.profanity)
	if labels.Has(chat.LabelToxic) {
		mild := true
		for _, rs := range d.Reasons {
			if strings.HasPrefix(rs.Rule, "toxic.") && rs.Rule != "toxic.profanity" || rs.Rule == "model.toxic" {
				mild = false
			}
		}
		if mild {
			have[5] = true
		} else {
			have[1] = true
		}
	}
	configured, unconfigured := false, false
	best := act{}
	for i, h := range have {
		if !h {
			continue
		}
		if a := r.labelAct[i]; a != nil {
			configured = true
			if a.stricter(best) {
				best = *a
			}
		} else {
			unconfigured = true
		}
	}
	if !configured {
		return 0
	}
	if unconfigured && d.Action > best.action {
		best = act{action: d.Action}
	}
	if best.action != d.Action || best.seconds > 0 {
		d.Reasons = append(d.Reasons, chat.Reason{Rule: "policy.actions", Detail: "the channel's action for its labels: " + best.String()})
	}
	d.Action = best.action
	return best.seconds
}
