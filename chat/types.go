package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/internal/words"
)

// User is the author of a message as the platform reports it.
type User struct {
	ID     string   `json:"id"`
	Name   string   `json:"name,omitempty"`
	Badges []string `json:"badges,omitempty"`
}

// Message is one chat message in the wire format of docs/WIRE.md.
// TS is Unix milliseconds.
type Message struct {
	ID       string `json:"id"`
	Stream   string `json:"stream"`
	Platform string `json:"platform,omitempty"`
	// Channel is the platform's channel or live chat the message came
	// from (a connector fills it in).
	Channel string `json:"channel,omitempty"`
	User    User   `json:"user"`
	Text    string `json:"text"`
	TS      int64  `json:"ts"`
	// Emotes is how many emotes the platform marked in Text (Twitch's
	// emotes tag); zero when the platform says nothing. A channel's emote
	// limit counts these instead of guessing emotes from a word list.
	Emotes int `json:"emote_count,omitempty"`
}

// Limits on a message's fields. They bound the work and memory one message
// can cost; ingest refuses messages over them with a reason.
const (
	MaxTextBytes     = 2000 // longer than any platform allows (Twitch 500, YouTube 200 chars)
	MaxIDBytes       = 128  // ids and stream names, everywhere (ingest, REST, subscribe)
	MaxNameBytes     = 128
	MaxBadges        = 16
	MaxBadgeBytes    = 64 // "subscriber/3000", "moderator"…
	MaxPlatformBytes = 32 // "twitch", "youtube"…
)

// Sentinel validation errors; Validate wraps them with the field name.
var (
	ErrEmptyText   = errors.New("text: empty")
	ErrTextTooLong = fmt.Errorf("text: longer than %d bytes", MaxTextBytes)
	ErrNoUser      = errors.New("user.id: empty")
	ErrNoStream    = errors.New("stream: empty")
	ErrBadUTF8     = errors.New("invalid UTF-8")
)

// Validate reports the first problem that makes m unusable, or nil.
// The errors read as "field: problem" and are sent to clients as is.
func (m *Message) Validate() error {
	switch {
	case m.Stream == "":
		return ErrNoStream
	case m.User.ID == "":
		return ErrNoUser
	case len(m.Text) > MaxTextBytes:
		return ErrTextTooLong
	case IsBlank(m.Text):
		return ErrEmptyText
	case !utf8.ValidString(m.Text):
		return fmt.Errorf("text: %w", ErrBadUTF8)
	case len(m.User.Badges) > MaxBadges:
		return fmt.Errorf("user.badges: more than %d", MaxBadges)
	case m.TS < 0:
		return errors.New("ts: negative")
	case m.Emotes < 0 || m.Emotes > MaxTextBytes:
		return fmt.Errorf("emote_count: want 0 to %d", MaxTextBytes)
	}
	for _, f := range [...]struct {
		name, v string
		max     int
	}{{"id", m.ID, MaxIDBytes}, {"stream", m.Stream, MaxIDBytes}, {"user.id", m.User.ID, MaxIDBytes},
		{"user.name", m.User.Name, MaxNameBytes}, {"platform", m.Platform, MaxPlatformBytes},
		{"channel", m.Channel, MaxIDBytes}} {
		if err := CheckField(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	for _, b := range m.User.Badges {
		if err := CheckField("user.badges", b, MaxBadgeBytes); err != nil {
			return err
		}
	}
	return nil
}

// ErrControl is a control character where none may be.
var ErrControl = errors.New("control character")

// CheckID checks an id or a stream name as every entry point does
// (ingest, REST paths and bodies, subscribe): at most MaxIDBytes of
// valid UTF-8 without control characters.
func CheckID(field, v string) error { return CheckField(field, v, MaxIDBytes) }

// CheckField checks a short field (an id, a name, a badge): at most max
// bytes of valid UTF-8 without control characters (C0, DEL, C1). Its
// errors read "field: problem".
func CheckField(field, v string, max int) error {
	if len(v) > max {
		return fmt.Errorf("%s: longer than %d bytes", field, max)
	}
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return fmt.Errorf("%s: %w U+%04X at byte %d", field, ErrControl, c, i)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Errorf("%s: %w at byte %d", field, ErrBadUTF8, i)
		}
		if r >= 0x80 && r <= 0x9f {
			return fmt.Errorf("%s: %w U+%04X at byte %d", field, ErrControl, r, i)
		}
		i += n
	}
	return nil
}

func IsBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}

// Label is one thing a decision says about a message.
type Label uint16

// The labels of docs/WIRE.md, in the order they are written out.
const (
	LabelSpam Label = 1 << iota
	LabelToxic
	LabelThreat
	LabelFlood
	LabelLink
	LabelQuestion
	LabelPurchaseIntent
	LabelSupport
	LabelAgentRequest
	LabelOptout
	// LabelProfanity marks mild swearing and mentioned slurs that are aimed
	// at no one ("fucking love this song", "yaar kya bakwas hai"): shown
	// to moderators, never held or hidden on its own.
	LabelProfanity
	// LabelNegative marks customer anger or distress ("worst service
	// ever, never buying again", "paise barbaad"): a model label only,
	// never an action of its own. It feeds escalation and the mood KPI;
	// a complaint about the stream itself ("audio is low") or sarcasm
	// is not negative.
	LabelNegative

	// LabelEnd is one past the last label: labels are below it.
	LabelEnd
)

// NumLabels is how many labels there are.
const NumLabels = len(labelNames)

var labelNames = [...]string{
	"spam", "toxic", "threat", "flood", "link", "question",
	"purchase_intent", "support", "agent_request", "optout", "profanity",
	"negative",
}

// String returns the wire name of a single label.
func (l Label) String() string {
	if l == 0 || l&(l-1) != 0 || l >= LabelEnd {
		return "Label(" + strconv.Itoa(int(l)) + ")"
	}
	return labelNames[bits.TrailingZeros16(uint16(l))]
}

// ParseLabel returns the label with the wire name s.
func ParseLabel(s string) (Label, error) {
	for i, n := range labelNames {
		if n == s {
			return Label(1 << i), nil
		}
	}
	return 0, fmt.Errorf("unknown label %q", s)
}

// AllLabels lists every label in wire order.
func AllLabels() []Label {
	out := make([]Label, len(labelNames))
	for i := range labelNames {
		out[i] = Label(1 << i)
	}
	return out
}

// Labels is a set of labels. Its zero value is the empty set, written as [].
type Labels uint16

// Has reports whether every label of l is in the set.
func (s Labels) Has(l Label) bool { return uint16(s)&uint16(l) == uint16(l) && l != 0 }

// Add puts l in the set.
func (s *Labels) Add(l Label) { *s |= Labels(l) }

// Remove takes l out of the set.
func (s *Labels) Remove(l Label) { *s &^= Labels(l) }

// Slice returns the labels of the set in wire order.
func (s Labels) Slice() []Label {
	var out []Label
	for l := Label(1); l < LabelEnd; l <<= 1 {
		if s.Has(l) {
			out = append(out, l)
		}
	}
	return out
}

// AppendJSON appends the set as a JSON array of names.
func (s Labels) AppendJSON(b []byte) []byte {
	b = append(b, '[')
	first := true
	for i, n := range labelNames {
		if uint16(s)&(1<<i) == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, n...)
		b = append(b, '"')
	}
	return append(b, ']')
}

// MarshalJSON writes the set as an array of label names.
func (s Labels) MarshalJSON() ([]byte, error) { return s.AppendJSON(nil), nil }

// UnmarshalJSON reads an array of label names.
func (s *Labels) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return err
	}
	var out Labels
	for _, n := range names {
		l, err := ParseLabel(n)
		if err != nil {
			return err
		}
		out.Add(l)
	}
	*s = out
	return nil
}

// Action is what livemod does with a message.
type Action uint8

const (
	// Allow shows the message to the audience.
	Allow Action = iota
	// Hide removes the message automatically: spam, flood, unwanted links.
	Hide
	// Hold keeps the message from the audience until a human decides:
	// toxic, threat, unsure.
	Hold
)

var actionNames = [...]string{"allow", "hide", "hold"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// MarshalJSON writes the action's name.
func (a Action) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// UnmarshalJSON reads an action's name.
func (a *Action) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for i, n := range actionNames {
		if n == s {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown action %q", s)
}

// Reason names the rule behind a decision and what it matched.
type Reason struct {
	Rule   string `json:"rule"`
	Detail string `json:"detail,omitempty"`
}

// FAQReply is an automated answer chosen for a message.
type FAQReply struct {
	ID    string `json:"id"`
	Reply string `json:"reply"`
}

// QuestionRef places a question in a trending cluster.
type QuestionRef struct {
	Cluster string `json:"cluster"`
	Askers  int    `json:"askers"`
}

// Handoff is the agent ticket a message opened or joined.
type Handoff struct {
	ID      string `json:"id"`
	OrderID string `json:"order_id,omitempty"`
	Issue   string `json:"issue,omitempty"`
	Summary string `json:"summary"`

	// Enc is the Handoff as JSON, set by Ticket.HandoffRef, which shares
	// one Handoff among the decisions about a ticket version: a decision
	// copies it instead of encoding four strings of a ticket that is
	// usually no longer in cache.
	Enc []byte `json:"-"`
}

// appendJSON appends h as encoding/json writes it.
func (h *Handoff) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, h.ID)
	if h.OrderID != "" {
		b = append(b, `,"order_id":`...)
		b = appendString(b, h.OrderID)
	}
	if h.Issue != "" {
		b = append(b, `,"issue":`...)
		b = appendString(b, h.Issue)
	}
	b = append(b, `,"summary":`...)
	b = appendString(b, h.Summary)
	return append(b, '}')
}

// Dup says how often the message's normalized text was seen in the window.
type Dup struct {
	Count int `json:"count"`
}

// Decision is what livemod decided about one message, as sent to
// subscribers and written by replay.
type Decision struct {
	ID     string `json:"id"`
	Stream string `json:"stream"`
	// Platform and Channel are the message's, when a connector or bridge
	// named them: they say where an action on the message must go.
	Platform string       `json:"platform,omitempty"`
	Channel  string       `json:"channel,omitempty"`
	User     User         `json:"user"`
	Text     string       `json:"text"`
	TS       int64        `json:"ts"`
	Labels   Labels       `json:"labels"`
	Action   Action       `json:"action"`
	Reasons  []Reason     `json:"reasons"`
	Scores   Scores       `json:"scores,omitempty"`
	FAQ      *FAQReply    `json:"faq"`
	Question *QuestionRef `json:"question"`
	// QuestionBuf is the QuestionRef a reused Decision lends the next
	// decision (see DecideInto); Question points to it when set.
	QuestionBuf *QuestionRef `json:"-"`
	Handoff     *Handoff     `json:"handoff"`
	Dup         Dup          `json:"dup"`

	// Not on the wire: what the engine (classify) notes for the stages
	// after it. TextKey is the hash of the message's normalized text (the
	// dedup key), Shared marks raid-like text another user sent first, and
	// RestrictedUser a restricted user's message: what trending needs to
	// keep a raid's and a restricted user's text off the overlay. Only the
	// engine sets them.
	TextKey        uint64 `json:"-"`
	Shared         bool   `json:"-"`
	RestrictedUser bool   `json:"-"`
	HoldMS         int64  `json:"-"` // ms a raid-like text stays off the trending list
}

// Scores holds a model's probability per label, in label order; zero means
// no score. It is written as an object of the non-zero scores.
type Scores [len(labelNames)]float32

// IsZero reports whether no label has a score (for omitempty).
func (s Scores) IsZero() bool { return s == Scores{} }

// Get returns the score of label l.
func (s *Scores) Get(l Label) float32 { return s[bits.TrailingZeros16(uint16(l))] }

// Set stores the score of label l.
func (s *Scores) Set(l Label, v float32) { s[bits.TrailingZeros16(uint16(l))] = v }

// AppendJSON appends the non-zero scores as a JSON object.
func (s *Scores) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	for i, v := range s {
		if v == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, labelNames[i]...)
		b = append(b, `":`...)
		b = appendScore(b, v)
	}
	return append(b, '}')
}

// appendScore writes v with three decimals, as strconv.AppendFloat(b, v,
// 'f', 3, 32) would for scores in [0, 1], several times faster: a decision
// carries five of them.
func appendScore(b []byte, v float32) []byte {
	if v < 0 || v > 1 || v != v {
		return strconv.AppendFloat(b, float64(v), 'f', 3, 32)
	}
	// float64(v)*1000 is exact (24 + 10 bits), so rounding half to even
	// here rounds exactly as strconv does.
	n := int(math.RoundToEven(float64(v) * 1000))
	if n >= 1000 {
		return append(b, "1.000"...)
	}
	return append(b, '0', '.', byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
}

// MarshalJSON writes the non-zero scores as an object.
func (s Scores) MarshalJSON() ([]byte, error) { return s.AppendJSON(nil), nil }

// UnmarshalJSON reads an object of label scores.
func (s *Scores) UnmarshalJSON(b []byte) error {
	var m map[string]float32
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*s = Scores{}
	for k, v := range m {
		l, err := ParseLabel(k)
		if err != nil {
			return err
		}
		s.Set(l, v)
	}
	return nil
}

// AddReason records why the decision was taken.
func (d *Decision) AddReason(rule, detail string) {
	d.Reasons = append(d.Reasons, Reason{Rule: rule, Detail: detail})
}

// AppendJSON appends d as one JSON object, without a newline. It writes
// the same document as encoding/json, without reflection: fan-out encodes
// every decision once, on the hot path.
func (d *Decision) AppendJSON(b []byte) []byte {
	b = appendHead(b, d.ID, d.Stream, d.Platform, d.Channel, &d.User)
	if len(d.User.Badges) > 0 { // the platform's badges (subscriber, moderator…)
		b = append(b, `,"badges":[`...)
		for i, x := range d.User.Badges {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, x)
		}
		b = append(b, ']')
	}
	b = append(b, `},"text":`...)
	b = appendString(b, d.Text)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, d.TS, 10)
	b = append(b, `,"labels":`...)
	b = d.Labels.AppendJSON(b)
	b = append(b, `,"action":"`...)
	b = append(b, d.Action.String()...)
	b = append(b, `","reasons":[`...)
	for i, r := range d.Reasons {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rule":`...)
		b = appendString(b, r.Rule)
		if r.Detail != "" {
			b = append(b, `,"detail":`...)
			b = appendString(b, r.Detail)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if !d.Scores.IsZero() {
		b = append(b, `,"scores":`...)
		b = d.Scores.AppendJSON(b)
	}
	b = append(b, `,"faq":`...)
	if d.FAQ == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"id":`...)
		b = appendString(b, d.FAQ.ID)
		b = append(b, `,"reply":`...)
		b = appendString(b, d.FAQ.Reply)
		b = append(b, '}')
	}
	b = append(b, `,"question":`...)
	if d.Question == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"cluster":`...)
		b = appendString(b, d.Question.Cluster)
		b = append(b, `,"askers":`...)
		b = strconv.AppendInt(b, int64(d.Question.Askers), 10)
		b = append(b, '}')
	}
	b = append(b, `,"handoff":`...)
	if d.Handoff == nil {
		b = append(b, "null"...)
	} else if d.Handoff.Enc != nil {
		b = append(b, d.Handoff.Enc...)
	} else {
		b = d.Handoff.appendJSON(b)
	}
	b = append(b, `,"dup":{"count":`...)
	b = strconv.AppendInt(b, int64(d.Dup.Count), 10)
	return append(b, `}}`...)
}

// appendHead opens the object of a decision or a ticket: its id, stream
// and user, the user's object left open for the caller to add fields and
// the brace.
func appendHead(b []byte, id, stream, platform, channel string, u *User) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, id)
	b = append(b, `,"stream":`...)
	b = appendString(b, stream)
	if platform != "" {
		b = append(b, `,"platform":`...)
		b = appendString(b, platform)
	}
	if channel != "" {
		b = append(b, `,"channel":`...)
		b = appendString(b, channel)
	}
	b = append(b, `,"user":`...)
	return appendUserOpen(b, u)
}

// appendUserOpen appends u's id and, if any, name as an unclosed JSON
// object, for the caller to add fields and the brace.
func appendUserOpen(b []byte, u *User) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, u.ID)
	if u.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, u.Name)
	}
	return b
}

// AppendJSONString appends s as a JSON string, escaped as encoding/json
// does (HTML-safe, invalid UTF-8 replaced), without reflection. The other
// packages' hand-written encoders (acks, audit entries) use it.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

const hexDigits = "0123456789abcdef"

// jsonPlain marks the bytes appendString copies as they are: printable
// ASCII but the quote, the backslash and HTML's <, > and &.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// plainWords returns the length of a prefix of s that appendString copies
// as it is (jsonPlain bytes only): its whole 8-byte words that are plain,
// or all of s if those and its last eight bytes are. It tests a word in a
// few operations instead of eight table lookups: every string of every
// decision passes through it.
func plainWords(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !plainWord(words.Load(s, i)) {
			return i
		}
	}
	if i < len(s) && len(s) >= 8 && plainWord(words.Load(s, len(s)-8)) {
		return len(s) // the tail, read as the last word
	}
	return i
}

// plainWord reports whether all eight bytes of x are jsonPlain.
func plainWord(x uint64) bool {
	// The high bit of a byte of m is set if some byte is not ASCII, below
	// 0x20, or one of " & (the bytes that OR 0x04 makes 0x26), < > (OR
	// 0x02 makes 0x3E) or \. A byte's test may borrow from the next only
	// where a lower byte already matched.
	m := x | (x-0x20*words.Ones)&^x
	q := x | 0x04*words.Ones ^ 0x26*words.Ones
	m |= (q - words.Ones) &^ q
	a := x | 0x02*words.Ones ^ 0x3E*words.Ones
	m |= (a - words.Ones) &^ a
	e := x ^ '\\'*words.Ones
	m |= (e - words.Ones) &^ e
	return m&words.Highs == 0
}

// appendString appends s as a JSON string. Like encoding/json it escapes
// <, > and & so that a decision is safe to embed in HTML, and replaces
// invalid UTF-8 with U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := plainWords(s); i < len(s); {
		c := s[i]
		if jsonPlain[c] { // the common case: one load, one branch a byte
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Subject is the key of a user's state (restrictions, reply caps,
// opt-outs, tickets): the user id alone when the platform is not named
// (what a bridge without one sends), else platform and id, so that Twitch
// user 42 is not YouTube user 42.
func Subject(platform, user string) string {
	if platform == "" {
		return user
	}
	return platform + ":" + user
}

// UserKey is the 64-bit hash of (stream, user) that the pipeline shards
// by and per-user tables are keyed by.
func UserKey(stream, user string) uint64 {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(stream)
	d.Write([]byte{0})
	d.WriteString(user)
	return d.Sum64()
}
