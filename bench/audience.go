package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AudienceOptions configure an Audience. Every zero value means its
// documented default.
type AudienceOptions struct {
	// Seed makes the chat reproducible: the same options give the same
	// bytes.
	Seed int64
	// Stream is the stream every message names. Zero means "demo".
	Stream string
	// Users is the size of the audience (spam bots come on top). Zero
	// means 500.
	Users int
	// UserPrefix goes into every user id ("u-<prefix><n>"), so that
	// several audiences (one per bench connection) are distinct people.
	UserPrefix string
	// SceneEvery is the length, in messages, of one cycle of calm chat
	// followed by a burst of one scene (spam wave, copypasta raid, troll,
	// calls for an agent, in turn). Zero means 240: 30 seconds at the
	// demo's 8 messages a second.
	SceneEvery int
	// Mix is the kind of audience. Zero means MixHard.
	Mix Mix
}

// Mix is the kind of audience a generator plays: how many of its viewers
// ever need a person, which is what the server's state grows with.
type Mix uint8

// The mixes.
const (
	// MixHard is a demanding show: bursts of spam, copypasta raids,
	// trolls and calls for an agent, and support questions from anyone,
	// so that over a long run most viewers end up with an open ticket.
	MixHard Mix = iota
	// MixRealistic is the same chat and the same bursts, but only about
	// one viewer in a hundred ever asks for an agent or has an order
	// problem; the others chat, ask and buy.
	MixRealistic
	// MixNeutral is ordinary chat only (praise, greetings, emotes,
	// chatter): it opens no ticket and trips no rule.
	MixNeutral
	numMixes
)

var mixNames = [...]string{"hard", "realistic", "neutral"}

func (m Mix) String() string {
	if int(m) < len(mixNames) {
		return mixNames[m]
	}
	return "Mix(" + strconv.Itoa(int(m)) + ")"
}

// ParseMix reads a mix by name: hard, realistic or neutral.
func ParseMix(s string) (Mix, error) {
	for i, n := range mixNames {
		if s == n {
			return Mix(i), nil
		}
	}
	return 0, fmt.Errorf("mix %q: want hard, realistic or neutral", s)
}

// needyEvery is, with MixRealistic, the share of viewers who ever ask for
// a person: viewer i does when i%needyEvery == 0.
const needyEvery = 100

// Kind is what one generated message is meant to be. It is the generator's
// intent, not a verdict: a moderator may disagree with it.
type Kind uint8

// The kinds of generated messages.
const (
	KindChat      Kind = iota // praise, greetings, emotes, chatter
	KindQuestion              // product, price, shipping, payment questions
	KindBuyer                 // wants to buy
	KindSupport               // order not arrived, refund, wrong or broken item
	KindAgent                 // asks for a human
	KindStop                  // STOP / START for automated replies
	KindSpam                  // links, "check my channel", crypto and WhatsApp scams
	KindCopypasta             // the same line from many users at once
	KindTroll                 // insults, with evasions
	numKinds
)

var kindNames = [...]string{"chat", "question", "buyer", "support", "agent", "stop", "spam", "copypasta", "troll"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Audience generates chat. It is not goroutine-safe: use one per goroutine.
type Audience struct {
	rng        *rand.Rand
	stream     []byte // JSON-escaped, without quotes
	users      viewers
	bots       [][]byte // each bot's fragment (see viewers.append)
	sceneEvery int
	burst      int
	mix        Mix

	n     uint64 // messages generated so far
	kind  Kind   // of the last message
	scene Kind   // scene of the current burst; KindChat when calm

	// State of the current burst, chosen when it starts.
	pasta  int // copypasta line of a raid
	troll  int // user index of the troll
	botSet [3]int
}

// viewers are the audience's users, numbered from 0, packed small: a
// message is written by a random one, and reading it was the load
// generator's costliest work (cache misses: 16 connections' viewers, 7.5
// MB as whole fragments, did not fit in the caches beside the server's).
// A viewer's id is its number; its platform and name are one fixed-size
// record, so a message reads one cache line or two.
type viewers struct {
	heads   [][]byte // per platform: `"platform":"…","user":{"id":"u-PREFIX`
	records []byte   // viewer i's at [i*width:]: platform, name length, name (JSON-escaped)
	width   int
}

func (v *viewers) len() int {
	if v.width == 0 {
		return 0
	}
	return len(v.records) / v.width
}

// append appends viewer i's fragment to b: everything a message says
// about its author, `"platform":"…","user":{"id":"…","name":"…"}`.
func (v *viewers) append(b []byte, i int) []byte {
	r := v.records[i*v.width : (i+1)*v.width]
	b = append(b, v.heads[r[0]]...)
	b = strconv.AppendInt(b, int64(i+1), 10)
	b = append(b, `","name":"`...)
	b = append(b, r[2:2+r[1]]...)
	return append(b, `"}`...)
}

const (
	defaultUsers      = 500
	defaultSceneEvery = 240
	defaultStream     = "demo"
	numBots           = 12
)

// NewAudience returns a generator for opts.
func NewAudience(opts AudienceOptions) *Audience {
	if opts.Users <= 0 {
		opts.Users = defaultUsers
	}
	if opts.Stream == "" {
		opts.Stream = defaultStream
	}
	if opts.SceneEvery <= 0 {
		opts.SceneEvery = defaultSceneEvery
	}
	a := &Audience{
		rng:        rand.New(rand.NewPCG(uint64(opts.Seed), 0x6c6976656d6f64)),
		stream:     appendEscaped(nil, opts.Stream),
		sceneEvery: opts.SceneEvery,
		burst:      min(36, max(1, opts.SceneEvery/3)),
		mix:        opts.Mix,
	}
	// Names come from their own generator so that the chat of one seed
	// does not shift when the audience size changes.
	nr := rand.New(rand.NewPCG(uint64(opts.Seed), 0x6e616d6573))
	names := make([][]byte, opts.Users)
	plats := make([]uint8, opts.Users)
	width := 2
	for i := range opts.Users {
		names[i] = appendEscaped(nil, userName(nr, i))
		plats[i] = uint8(nr.IntN(len(platforms)))
		width = max(width, 2+len(names[i]))
	}
	if width > 2+255 {
		panic("bench: a viewer's name is longer than 255 bytes")
	}
	v := &a.users
	for _, p := range platforms {
		h := append(appendEscaped([]byte(`"platform":"`), p), `","user":{"id":"`...)
		v.heads = append(v.heads, appendEscaped(h, "u-"+opts.UserPrefix))
	}
	v.width = width
	v.records = make([]byte, opts.Users*width)
	for i, name := range names {
		r := v.records[i*width:]
		r[0], r[1] = plats[i], uint8(len(name))
		copy(r[2:], name)
	}
	for i := range numBots {
		name := botNames[i%len(botNames)] + strconv.Itoa(10+nr.IntN(9990))
		a.bots = append(a.bots, appendChatter(nil, "u-bot-"+strconv.Itoa(i+1), name, platforms[nr.IntN(len(platforms))]))
	}
	return a
}

var platforms = []string{"youtube", "youtube", "twitch", "instagram"}

// appendChatter appends a user's fragment to b (see viewers.append).
func appendChatter(b []byte, id, name, platform string) []byte {
	b = append(b, `"platform":"`...)
	b = appendEscaped(b, platform)
	b = append(b, `","user":{"id":"`...)
	b = appendEscaped(b, id)
	b = append(b, `","name":"`...)
	b = appendEscaped(b, name)
	return append(b, `"}`...)
}

func userName(r *rand.Rand, i int) string {
	first := firstNames[i%len(firstNames)]
	if i < len(firstNames) {
		return first
	}
	switch r.IntN(4) {
	case 0:
		return first + "_" + strconv.Itoa(1+r.IntN(99))
	case 1:
		return first + "." + string(rune('a'+r.IntN(26)))
	case 2:
		return first + strconv.Itoa(1980+r.IntN(30))
	default:
		return strings.ToUpper(first[:1]) + first[1:] + "_" + strings.Repeat("x", 1+r.IntN(2))
	}
}

// Kind returns the kind of the last message generated.
func (a *Audience) Kind() Kind { return a.kind }

// Scene returns the scene of the burst the generator is in, or KindChat
// while the chat is calm. It changes when AppendNext crosses into or out of
// a burst.
func (a *Audience) Scene() Kind { return a.scene }

// AppendNext appends the next message to b as one JSON object in the wire
// format of docs/WIRE.md, without a newline, and returns the extended slice.
// id and ts are written as given (ts in Unix milliseconds).
func (a *Audience) AppendNext(b []byte, id string, ts int64) []byte {
	b = append(b, `{"id":"`...)
	b = appendEscaped(b, id)
	return a.appendRest(b, ts)
}

// AppendNextSeq is AppendNext with the id idPrefix followed by seq in
// decimal. It allocates nothing, which the load tool needs.
func (a *Audience) AppendNextSeq(b []byte, idPrefix string, seq uint64, ts int64) []byte {
	b = append(b, `{"id":"`...)
	b = appendEscaped(b, idPrefix)
	b = strconv.AppendUint(b, seq, 10)
	return a.appendRest(b, ts)
}

func (a *Audience) appendRest(b []byte, ts int64) []byte {
	k, who, t := a.next()
	a.kind = k
	b = append(b, `","stream":"`...)
	b = append(b, a.stream...)
	b = append(b, `",`...)
	if who < 0 {
		b = append(b, a.bots[-1-who]...)
	} else {
		b = a.users.append(b, who)
	}
	b = append(b, `,"text":"`...)
	b = a.fill(b, t)
	b = append(b, `","ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	return append(b, '}')
}

// sceneOrder is the rotation of bursts, one per SceneEvery messages.
var sceneOrder = [...]Kind{KindSpam, KindCopypasta, KindTroll, KindAgent}

// next picks the kind, author and text of the next message. The author
// is a viewer's number, or -1-i for bot i.
func (a *Audience) next() (Kind, int, *template) {
	r := a.rng
	if a.mix == MixNeutral {
		a.n++
		return KindChat, a.anyone(), pick(r, chatLines)
	}
	pos := int(a.n % uint64(a.sceneEvery))
	cycle := a.n / uint64(a.sceneEvery)
	a.n++
	start := a.sceneEvery - a.burst
	switch {
	case pos < start:
		a.scene = KindChat
	case pos == start:
		a.startScene(sceneOrder[cycle%uint64(len(sceneOrder))])
	}
	// In a burst about two in three messages belong to the scene; the rest
	// of the audience keeps chatting.
	if a.scene != KindChat && r.IntN(100) < 65 {
		switch a.scene {
		case KindSpam:
			bot := a.botSet[r.IntN(len(a.botSet))]
			return KindSpam, -1 - bot, pick(r, spamLines)
		case KindCopypasta:
			return KindCopypasta, a.anyone(), &pastaLines[a.pasta]
		case KindTroll:
			if r.IntN(4) == 0 { // the audience pushes back
				return KindChat, a.anyone(), pick(r, reactLines)
			}
			return KindTroll, a.troll, pick(r, trollLines)
		case KindAgent:
			if r.IntN(2) == 0 {
				return KindSupport, a.needy(), pick(r, supportLines)
			}
			return KindAgent, a.needy(), pick(r, agentLines)
		}
	}
	k := calm[r.IntN(len(calm))]
	if k == KindSupport || k == KindAgent {
		return k, a.needy(), pick(r, linesOf[k])
	}
	return k, a.anyone(), pick(r, linesOf[k])
}

// needy picks the author of a call for a person or an order problem:
// anyone, except with MixRealistic, where only one viewer in needyEvery
// ever asks.
func (a *Audience) needy() int {
	who := a.anyone()
	if a.mix == MixRealistic {
		who -= who % needyEvery
	}
	return who
}

func (a *Audience) startScene(s Kind) {
	a.scene = s
	r := a.rng
	a.pasta = r.IntN(len(pastaLines))
	a.troll = r.IntN(a.users.len())
	for i := range a.botSet {
		a.botSet[i] = r.IntN(len(a.bots))
	}
}

// anyone picks an author: a few regulars write much of the chat.
func (a *Audience) anyone() int {
	r := a.rng
	n := a.users.len()
	if regulars := max(1, n/20); r.IntN(10) < 3 {
		return r.IntN(regulars)
	}
	return r.IntN(n)
}

// calm is the mix outside bursts, in percent: ordinary chat dominates.
var calm = func() []Kind {
	mix := []struct {
		k Kind
		n int
	}{
		{KindChat, 70}, {KindQuestion, 16}, {KindBuyer, 7}, {KindSupport, 4}, {KindAgent, 2}, {KindStop, 1},
	}
	var ks []Kind
	for _, m := range mix {
		for range m.n {
			ks = append(ks, m.k)
		}
	}
	return ks
}()

func pick(r *rand.Rand, ts []template) *template { return &ts[r.IntN(len(ts))] }

// A template is a line of chat, JSON-escaped once, with holes that are
// filled with a product, an order number, a quantity or a phone number.
type template []segment

type segment struct {
	lit  string // JSON-escaped
	hole byte   // 0 or one of the hole letters below
}

// Holes in the source lines: {p} product, {n} order number, {q} quantity,
// {m} mobile number, {r} rupees.
func parseTemplates(lines ...string) []template {
	ts := make([]template, len(lines))
	for i, l := range lines {
		var t template
		for {
			j := strings.IndexByte(l, '{')
			if j < 0 || j+2 >= len(l) || l[j+2] != '}' {
				t = append(t, segment{lit: string(appendEscaped(nil, l))})
				break
			}
			t = append(t, segment{lit: string(appendEscaped(nil, l[:j])), hole: l[j+1]})
			l = l[j+3:]
		}
		ts[i] = t
	}
	return ts
}

func (a *Audience) fill(b []byte, t *template) []byte {
	r := a.rng
	for _, s := range *t {
		b = append(b, s.lit...)
		switch s.hole {
		case 'p':
			b = append(b, products[r.IntN(len(products))]...)
		case 'n':
			b = strconv.AppendInt(b, int64(1000+r.IntN(9000)), 10)
		case 'q':
			b = strconv.AppendInt(b, int64(1+r.IntN(5)), 10)
		case 'm':
			b = append(b, "98"...)
			b = strconv.AppendInt(b, int64(10000000+r.IntN(90000000)), 10)
		case 'r':
			b = strconv.AppendInt(b, int64(1+r.IntN(20))*500, 10)
		}
	}
	return b
}

// appendEscaped appends s as the inside of a JSON string.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	return append(b, s[start:]...)
}
