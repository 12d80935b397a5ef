package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/trend"
)

// shopYAML is the example, as a channel would write it.
const shopYAML = `
policy:
  default:
    sensitivity: 2
    blocked:
      - {term: "cheapfollows", action: hide, reason: "follower sellers"}
      - {regex: "(?i)free\\s+v-?bucks", action: hold}
      - {term: "scammer", action: timeout, seconds: 600}
    allowed: ["shit"]
    links: {allow: ["shopname.in", "youtube.com"], action: hide}
    caps: {max_ratio: 0.7, min_length: 15, action: hide}
    symbols: {max_ratio: 0.5, min_length: 10, action: hide}
    emotes: {max: 10, action: hide}
    length: {max: 400, action: hide}
    exempt: [broadcaster, moderator]
    actions: {toxic: hold, spam: hide, link: hide, profanity: allow}
  streams:
    show-b: {caps: {max_ratio: 0.9}}
`

var testEngine = sync.OnceValue(func() *classify.Engine {
	e, err := classify.New(classify.Options{})
	if err != nil {
		panic(err)
	}
	return e
})

func newEngine() (*classify.Engine, error) { return classify.New(classify.Options{}) }

// book returns a Book over a fresh engine with the YAML policy.
func book(t *testing.T, y string, opts Options) *Book {
	t.Helper()
	cfg, err := ParseYAML([]byte(y))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	e, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	if opts.NewEngine == nil {
		opts.NewEngine = newEngine
	}
	b, err := New(e, cfg, opts)
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}

var seq int

func msg(stream, user, text string, badges ...string) *chat.Message {
	seq++
	return &chat.Message{ID: fmt.Sprint("m-", seq), Stream: stream, User: chat.User{ID: user, Name: user, Badges: badges}, Text: text, TS: 1795000000000 + int64(seq)*1000}
}

func rules(d chat.Decision) string {
	var s []string
	for _, r := range d.Reasons {
		s = append(s, r.Rule)
	}
	return strings.Join(s, ",")
}

func TestParseShopExample(t *testing.T) {
	cfg, err := ParseYAML([]byte(shopYAML))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Default.Blocked) != 3 || *cfg.Default.Caps.MaxRatio != 0.7 {
		t.Fatalf("default = %+v", cfg.Default)
	}
	eff := Merge(cfg.Default, cfg.Streams["show-b"])
	if *eff.Caps.MaxRatio != 0.9 || *eff.Caps.MinLength != 15 || *eff.Caps.Action != "hide" {
		t.Fatalf("show-b caps = %+v; want max_ratio 0.9 merged over min_length 15, hide", *eff.Caps)
	}
	if eff.Links == nil || len(eff.Links.Allow) != 2 {
		t.Fatalf("show-b keeps the default's links: %+v", eff.Links)
	}
	// A bare policy (one stream's, at the top level) parses too.
	bare, err := ParseYAML([]byte("caps: {max_ratio: 0.5}\n"))
	if err != nil || *bare.Default.Caps.MaxRatio != 0.5 {
		t.Fatalf("bare policy: %v %+v", err, bare)
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	y := `
policy:
  default:
    sensitivity: 7
    blocked:
      - {term: "", action: hide}
      - {regex: "(?=lookahead)x"}
      - {term: "ok", action: explode}
      - {term: "ok2", seconds: 5}
    links: {allow: ["not a domain"], action: allow}
    caps: {max_ratio: 1.5, max: 3}
    exempt: [kings]
    actions: {question: hide, spam: obliterate}
    escalation: {offences: 0, window: 0s}
  streams:
    b: {length: {max: 0}}
`
	_, err := ParseYAML([]byte(y))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v; want ErrInvalid", err)
	}
	for _, key := range []string{
		"policy.default.sensitivity", "policy.default.blocked[0]", "policy.default.blocked[1].regex",
		"policy.default.blocked[2].action", "policy.default.blocked[3].seconds",
		"policy.default.links.allow[0]", "policy.default.links.action", "policy.default.caps.max_ratio",
		"policy.default.caps.max:", "policy.default.exempt[0]", "policy.default.actions.question",
		"policy.default.actions.spam", "policy.default.escalation.offences", "policy.default.escalation.window",
		"policy.streams.b.length.max",
	} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
	// Unknown keys are refused, not ignored.
	if _, err := ParseYAML([]byte("policy:\n  default:\n    capz: {max_ratio: 0.5}\n")); err == nil || !strings.Contains(err.Error(), "capz") {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := ParseJSON([]byte(`{"caps":{"max_ratio":0.5},"bogus":1}`)); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown JSON key: %v", err)
	}
}

func TestSlowRegexesRefused(t *testing.T) {
	for _, re := range []string{
		`(a|b|c|d|e|f){300}`,           // thousands of instructions
		`\w{50}\d{50}[a-z]{200}x{300}`, // likewise
		`(\w+\s*){1,100}`,              // likewise
		`[a-z]{1,500}`,                 // likewise
		`(x{1000}){1000}`,              // over RE2's repeat limit
		`.*`,                           // matches every message
		`(a+)+\1`,                      // backreference: not RE2
		strings.Repeat("a", MaxRegexBytes+1),
	} {
		p := Policy{Blocked: []Term{{Regex: re}}}
		if err := p.Validate("policy"); err == nil {
			t.Errorf("regex %.40q accepted; want refused", re)
		}
	}
	ok := Policy{Blocked: []Term{{Regex: `(?i)free\s+v-?bucks`}, {Regex: `\b\d{10}\b`}}}
	if err := ok.Validate("policy"); err != nil {
		t.Fatalf("ordinary regexes refused: %v", err)
	}
}

func TestBlockedTermsAndEvasions(t *testing.T) {
	b := book(t, `
blocked:
  - {term: "cheapfollows", reason: "follower sellers"}
  - {term: "scam*", action: hold}
  - {term: "buy views"}
  - {term: "धोखा", action: hold}
  - {term: "ullu"}
  - {regex: "(?i)free\\s+v-?bucks", action: hold}
`, Options{})
	for _, c := range []struct {
		text, rule string
		action     chat.Action
	}{
		{"get cheapfollows here", "policy.term:cheapfollows", chat.Hide},
		{"get CHEAPFOLLOWS here", "policy.term:cheapfollows", chat.Hide},
		{"get ch3apf0ll0ws here", "policy.term:cheapfollows", chat.Hide},            // leet
		{"get c h e a p f o l l o w s here", "policy.term:cheapfollows", chat.Hide}, // spaced out
		{"get cheap follows here", "policy.term:cheapfollows", chat.Hide},           // split
		{"get сheapfоllows here", "policy.term:cheapfollows", chat.Hide},            // Cyrillic с and о
		{"get chea\u200bpfollows here", "policy.term:cheapfollows", chat.Hide},      // zero-width space
		{"get cheapfollowsss here", "policy.term:cheapfollows", chat.Hide},          // repeats
		{"these scammers again", "policy.term:scam*", chat.Hold},                    // wildcard
		{"where to BUY   VIEWS", "policy.term:buy views", chat.Hide},
		{"यह धोखा है", "policy.term:धोखा", chat.Hold},    // Devanagari
		{"यह धोखाा है", "policy.term:धोखा", chat.Hold},   // repeated sign
		{"tu ulluuu hai", "policy.term:ullu", chat.Hold}, // Hinglish, stretched (aimed, the built-in lexicon holds it too)
		{"FREE   V-BUCKS here", "policy.regex:(?i)free\\s+v-?bucks", chat.Hold},
		{"free vbucks", "policy.regex:(?i)free\\s+v-?bucks", chat.Hold},
		{"the cheap follow up", "", chat.Allow},
	} {
		d := b.Decide(msg("s", "u1", c.text))
		got := ""
		if len(d.Reasons) > 0 && strings.HasPrefix(d.Reasons[0].Rule, "policy.") {
			got = d.Reasons[0].Rule
		}
		if got != c.rule || (c.rule != "" && d.Action != c.action) {
			t.Errorf("%q: rule %q action %v (reasons %s); want %q %v", c.text, got, d.Action, rules(d), c.rule, c.action)
		}
	}
	d := b.Decide(msg("s", "u1", "cheapfollows"))
	if d.Reasons[0].Detail != "follower sellers" {
		t.Errorf("detail = %q; want the term's reason", d.Reasons[0].Detail)
	}
}

func TestAllowedTermsOverrideLexicon(t *testing.T) {
	b := book(t, `allowed: ["shit", "idiot"]`, Options{})
	plain := testEngine()
	for _, text := range []string{"shit hai tu", "you are an idiot", "sh1t hai tu"} {
		if d := plain.Decide(msg("s", "u", text)); !d.Labels.Has(chat.LabelToxic) {
			t.Fatalf("%q: the built-in lexicon no longer flags it; pick another word", text)
		}
		if d := b.Decide(msg("s", "u", text)); d.Labels.Has(chat.LabelToxic) || d.Action != chat.Allow {
			t.Errorf("%q with allowed: labels %v action %v (%s); want allowed", text, d.Labels, d.Action, rules(d))
		}
	}
	// Other words still count.
	if d := b.Decide(msg("s", "u", "shit you are a bastard")); !d.Labels.Has(chat.LabelToxic) {
		t.Errorf("a word not allowed was let through: %s", rules(d))
	}
}

func TestLimits(t *testing.T) {
	b := book(t, `
caps: {max_ratio: 0.7, min_length: 15}
symbols: {max_ratio: 0.5, min_length: 10}
emotes: {max: 10}
length: {max: 100}
repeats: {max: 10, max_words: 5}
zalgo: {max: 3}
`, Options{})
	for _, c := range []struct{ text, rule string }{
		{"WHY IS NOBODY ANSWERING MY QUESTION THIS IS THE WORST STREAM EVER!!!!!!!!", "policy.caps"},
		{"OK LOL", ""}, // under min_length
		{strings.Repeat("₹", 40), "policy.symbols"},
		{"🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥", "policy.symbols"},
		{strings.TrimSpace(strings.Repeat("Kappa ", 16)), "policy.emotes"},
		{strings.Repeat("long words ", 12), "policy.length"},
		{"nooooooooooooooo", "policy.repeats"},
		{"buy buy buy buy buy buy now", "policy.repeats"},
		{"z\u0301\u0302\u0303\u0304algo", "policy.zalgo"},
		{"नमस्ते दोस्तों, कैसे हो सब", ""}, // Devanagari signs are not zalgo
		{"what a great show today, thanks!", ""},
	} {
		d := b.Decide(msg("s", "u", c.text))
		got := ""
		if len(d.Reasons) > 0 && strings.HasPrefix(d.Reasons[0].Rule, "policy.") {
			got = d.Reasons[0].Rule
		}
		if got != c.rule {
			t.Errorf("%.40q: rule %q (%s); want %q", c.text, got, rules(d), c.rule)
		}
		if c.rule != "" && d.Action != chat.Hide {
			t.Errorf("%.40q: action %v; want hide", c.text, d.Action)
		}
	}
}

func TestLinks(t *testing.T) {
	b := book(t, `links: {allow: ["shopname.in", "youtube.com"], block: ["evil.co"], action: hide}`, Options{})
	for _, c := range []struct {
		text   string
		action chat.Action
		rule   string
	}{
		{"buy at https://www.shopname.in/jacket", chat.Allow, ""},
		{"see shop.shopname.in/sale", chat.Allow, ""},
		{"watch youtube.com/watch?v=x", chat.Allow, ""},
		{"visit cheap-deals.xyz now", chat.Hide, "policy.links"},
		{"visit www.evil.co now", chat.Hide, "policy.links"},
		{"check 192.168.4.20:8080/free", chat.Hide, "policy.links"},
		{"go to scam dot com", chat.Hide, "policy.links"},
		{"go to scam(dot)net", chat.Hide, "policy.links"},
		{"go to scam[.]org", chat.Hide, "policy.links"},
		{"shopname dot in has it", chat.Allow, ""},
		{"e.g. the blue one, node.js fans", chat.Allow, ""},
		{"i love it. in two days", chat.Allow, ""},
	} {
		d := b.Decide(msg("s", "u", c.text))
		got := ""
		if len(d.Reasons) > 0 && strings.HasPrefix(d.Reasons[0].Rule, "policy.") {
			got = d.Reasons[0].Rule
		}
		if d.Action != c.action || got != c.rule {
			t.Errorf("%q: %v %q (%s); want %v %q", c.text, d.Action, got, rules(d), c.action, c.rule)
		}
	}
}

func TestExemptions(t *testing.T) {
	b := book(t, `
caps: {max_ratio: 0.5, min_length: 5}
links: {allow: ["shopname.in"], action: hide, exempt: [vip]}
blocked:
  - {term: "giveaway", exempt: [moderator]}
exempt: [broadcaster]
`, Options{})
	shout := "THIS IS THE BEST SHOW EVER"
	if d := b.Decide(msg("s", "u", shout)); d.Action != chat.Hide {
		t.Fatalf("viewer caps: %v", d.Action)
	}
	if d := b.Decide(msg("s", "host", shout, "broadcaster/1")); d.Action != chat.Allow {
		t.Errorf("broadcaster caps: %v (%s); want exempt", d.Action, rules(d))
	}
	if d := b.Decide(msg("s", "v", shout, "vip")); d.Action != chat.Hide {
		t.Errorf("vip caps: %v; the policy exempts broadcasters only", d.Action)
	}
	if d := b.Decide(msg("s", "v", "grab it at other.xyz", "vip/1")); strings.Contains(rules(d), "policy.links") {
		t.Errorf("vip link: %s; links exempt vip", rules(d))
	}
	if d := b.Decide(msg("s", "u", "grab it at other.xyz")); !strings.Contains(rules(d), "policy.links") {
		t.Errorf("viewer link: %s", rules(d))
	}
	if d := b.Decide(msg("s", "m", "giveaway at 9", "moderator")); strings.Contains(rules(d), "policy.term") {
		t.Errorf("moderator term: %s; the term exempts moderators", rules(d))
	}
	if d := b.Decide(msg("s", "u", "giveaway at 9")); !strings.Contains(rules(d), "policy.term:giveaway") {
		t.Errorf("viewer term: %s", rules(d))
	}
}

func TestEscalationTimesOut(t *testing.T) {
	var mu sync.Mutex
	var got []string
	done := make(chan struct{}, 8)
	b := book(t, `
blocked: [{term: "spamword"}]
escalation: {offences: 3, window: 10m, seconds: 300}
`, Options{Timeout: func(stream, user string, seconds int, reason string) error {
		mu.Lock()
		got = append(got, fmt.Sprint(stream, " ", user, " ", seconds, " ", reason))
		mu.Unlock()
		done <- struct{}{}
		return nil
	}})
	for i := range 2 {
		d := b.Decide(msg("s", "u9", fmt.Sprint("spamword ", i)))
		if d.Action != chat.Hide || strings.Contains(rules(d), "escalation") {
			t.Fatalf("offence %d: %v %s", i+1, d.Action, rules(d))
		}
	}
	// Another user's offence does not count for u9.
	b.Decide(msg("s", "u10", "spamword x"))
	d := b.Decide(msg("s", "u9", "spamword 3"))
	if d.Action != chat.Hide || !strings.Contains(rules(d), "policy.escalation") {
		t.Fatalf("third offence: %v %s; want a timeout", d.Action, rules(d))
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "s u9 300 policy.escalation" {
		t.Fatalf("timeouts = %q", got)
	}
}

func TestTermTimeout(t *testing.T) {
	done := make(chan string, 1)
	b := book(t, `blocked: [{term: "scammer", action: timeout, seconds: 600}]`, Options{Timeout: func(stream, user string, seconds int, reason string) error {
		done <- fmt.Sprint(user, " ", seconds, " ", reason)
		return nil
	}})
	d := b.Decide(msg("s", "u", "you scammer"))
	if d.Action != chat.Hide || !strings.Contains(d.Reasons[0].Detail, "timeout 600s") {
		t.Fatalf("%v %+v", d.Action, d.Reasons)
	}
	if got := <-done; got != "u 600 policy.term:scammer" {
		t.Fatalf("timeout = %q", got)
	}
}

func TestActionsPerLabel(t *testing.T) {
	b := book(t, `actions: {toxic: allow, profanity: hold, spam: allow, link: hold}`, Options{})
	for _, c := range []struct {
		text string
		want chat.Action
	}{
		{"you are an idiot", chat.Allow},           // toxic → allow
		{"shit this is hard", chat.Hold},           // mild profanity → hold
		{"earn money fast click here", chat.Allow}, // spam → allow
		{"see https://example.com/x", chat.Hold},   // link → hold
		{"i will kill you tonight", chat.Hold},     // threat: not configured, the engine's hold stays
		{"what a lovely jacket", chat.Allow},
	} {
		if d := b.Decide(msg("s", "u", c.text)); d.Action != c.want {
			t.Errorf("%q: %v (%s %v); want %v", c.text, d.Action, rules(d), d.Labels, c.want)
		}
	}
}

func TestSensitivity(t *testing.T) {
	text := "check 192.168.4.20:8080/free"
	plain := testEngine().Decide(msg("s", "u", text))
	score := plain.Scores.Get(chat.LabelSpam)
	if !strings.Contains(rules(plain), "model.spam") || score >= Thresholds[1].Spam {
		t.Fatalf("engine: %s score %v; the test needs model spam between levels 1 and 2", rules(plain), score)
	}
	off := book(t, `sensitivity: 0`, Options{})
	if d := off.Decide(msg("s", "u", text)); d.Action != chat.Allow || d.Labels.Has(chat.LabelSpam) {
		t.Errorf("sensitivity 0: %v %v %s; want the model's spam off", d.Action, d.Labels, rules(d))
	}
	lax := book(t, `sensitivity: 1`, Options{})
	if d := lax.Decide(msg("s", "u", text)); d.Action != chat.Allow {
		t.Errorf("sensitivity 1 (spam ≥ %v): %v for score %v", Thresholds[1].Spam, d.Action, score)
	}
	// A message the default thresholds let pass, a strict level holds.
	strict := book(t, `sensitivity: 4`, Options{})
	for _, text := range []string{"cheap price guaranteed results", "win a free phone today"} {
		p := testEngine().Decide(msg("s", "u", text))
		s := p.Scores.Get(chat.LabelSpam)
		if p.Labels.Has(chat.LabelSpam) || s < Thresholds[4].Spam {
			continue
		}
		if d := strict.Decide(msg("s", "u", text)); d.Action != chat.Hold || !d.Labels.Has(chat.LabelSpam) {
			t.Errorf("sensitivity 4, %q score %v: %v %s", text, s, d.Action, rules(d))
		}
		return
	}
	t.Fatal("no test text scored between levels 4 and 2; pick another")
}

func TestPerStreamOverride(t *testing.T) {
	b := book(t, shopYAML, Options{})
	shout := "WHAT A GREAT JACKET, I LOVE IT SO much"
	if d := b.Decide(msg("show-a", "u", shout)); !strings.Contains(rules(d), "policy.caps") {
		t.Errorf("default stream: %s; want caps", rules(d))
	}
	if d := b.Decide(msg("show-b", "u", shout)); strings.Contains(rules(d), "policy.caps") {
		t.Errorf("show-b (max_ratio 0.9): %s", rules(d))
	}
}

func TestPutAppliesNextMessageAndAudits(t *testing.T) {
	st := &memStore{m: map[string][]byte{}}
	var audits []string
	b := book(t, `caps: {max_ratio: 0.7}`, Options{Store: st, Audit: func(actor, stream, diff string) {
		audits = append(audits, actor+"|"+stream+"|"+diff)
	}})
	if d := b.Decide(msg("live", "u", "buy cheapfollows")); d.Action != chat.Allow {
		t.Fatalf("before: %v", d.Action)
	}
	p, err := ParseJSON([]byte(`{"blocked":[{"term":"cheapfollows"}],"caps":{"max_ratio":0.9}}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Put("ops", "live", p)
	if err != nil {
		t.Fatal(err)
	}
	if d := b.Decide(msg("live", "u", "buy cheapfollows")); d.Action != chat.Hide {
		t.Fatalf("after put: %v %s", d.Action, rules(d))
	}
	if d := b.Decide(msg("other", "u", "buy cheapfollows")); d.Action != chat.Allow {
		t.Fatalf("another stream: %v", d.Action)
	}
	if len(res.Changes) != 2 || len(audits) != 1 || !strings.Contains(audits[0], "caps.max_ratio: 0.7 → 0.9") || !strings.Contains(audits[0], "blocked[term cheapfollows]: set") {
		t.Fatalf("changes %+v audits %q", res.Changes, audits)
	}
	if _, ok := st.m["live"]; !ok {
		t.Fatal("not stored")
	}
	// A restart finds it.
	e, _ := newEngine()
	cfg, _ := ParseYAML([]byte(`caps: {max_ratio: 0.7}`))
	b2, err := New(e, cfg, Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close(context.Background())
	if d := b2.Decide(msg("live", "u", "buy cheapfollows")); d.Action != chat.Hide {
		t.Fatalf("after restart: %v", d.Action)
	}
	if got := *b2.Effective("live").Caps.MaxRatio; got != 0.9 {
		t.Fatalf("effective caps %v", got)
	}
	// A bad policy changes nothing and says why.
	if _, err := b.Put("ops", "live", Policy{Caps: &Limit{MaxRatio: ptr(3.0)}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad put: %v", err)
	}
	if d := b.Decide(msg("live", "u", "buy cheapfollows")); d.Action != chat.Hide {
		t.Fatalf("after a refused put: %v", d.Action)
	}
}

func TestReload(t *testing.T) {
	b := book(t, `blocked: [{term: "alpha"}]`, Options{})
	if d := b.Decide(msg("s", "u", "alpha")); d.Action != chat.Hide {
		t.Fatal(d.Action)
	}
	cfg, _ := ParseYAML([]byte(`blocked: [{term: "beta"}]`))
	if err := b.Reload(cfg, "sighup"); err != nil {
		t.Fatal(err)
	}
	if d := b.Decide(msg("s", "u", "alpha")); d.Action != chat.Allow {
		t.Fatalf("alpha after reload: %v", d.Action)
	}
	if d := b.Decide(msg("s", "u", "beta")); d.Action != chat.Hide {
		t.Fatalf("beta after reload: %v", d.Action)
	}
}

func TestTryOverRecentMessages(t *testing.T) {
	b := book(t, `caps: {max_ratio: 0.7, min_length: 10}`, Options{})
	for _, text := range []string{"buy cheapfollows now", "HELLO EVERYONE HOW ARE YOU", "nice jacket", "get cheapfollows cheap", "LOVE THIS SHOW SO MUCH"} {
		b.Decide(msg("live", "u", text))
	}
	p, _ := ParseJSON([]byte(`{"blocked":[{"term":"cheapfollows"}],"caps":{"max_ratio":0.95}}`))
	rep, err := b.Try(context.Background(), "live", p, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages != 5 || rep.NewlyHidden != 2 || rep.Released != 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Rules[0].Rule != "policy.term:cheapfollows" || rep.Rules[0].Hidden != 2 || len(rep.Rules[0].Examples) != 2 {
		t.Fatalf("rules %+v", rep.Rules)
	}
	// Loosening caps releases the shouting (caps 0.7 → off).
	p2, _ := ParseJSON([]byte(`{"caps":{"max_ratio":1}}`))
	rep, err = b.Try(context.Background(), "live", p2, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Released != 2 || rep.Rules[0].Rule != "policy.caps" {
		t.Fatalf("release report %+v", rep)
	}
	// The trial changed nothing live.
	if d := b.Decide(msg("live", "u", "buy cheapfollows")); d.Action != chat.Allow {
		t.Fatalf("a trial changed the live policy: %v", d.Action)
	}
}

func TestRecentRingIsBounded(t *testing.T) {
	r := newRecent(64<<10, 2)
	for i := range 5000 {
		r.add(msg(fmt.Sprint("s", i%2), "u", strings.Repeat("x", 100), "subscriber"))
	}
	r.add(msg("s2", "u", strings.Repeat("x", 100), "subscriber")) // drops the quietest, s0
	bytes, streams := r.size()
	if streams != 2 || bytes > 2*(64<<10)+2*4096 {
		t.Fatalf("bytes %d streams %d", bytes, streams)
	}
	if got := r.since("s0", 0, 1<<30); len(got) != 0 {
		t.Fatalf("s0 kept %d after it was dropped", len(got))
	}
	got := r.since("s1", 0, 1<<30)
	if len(got) < 400 || len(got) > 1000 { // 64 KiB of ~130-byte records, less the chunk being reused
		t.Fatalf("kept %d", len(got))
	}
	last := got[len(got)-1]
	if last.Text != strings.Repeat("x", 100) || last.User.Badges[0] != "subscriber" || last.Stream != "s1" {
		t.Fatalf("round trip: %+v", last)
	}
}

type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) Policies() (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range s.m {
		out[k] = v
	}
	return out, nil
}

func (s *memStore) PutPolicy(stream string, p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[stream] = p
	return nil
}

func ptr[T any](v T) *T { return &v }

func TestOneTrialAtATime(t *testing.T) {
	b := book(t, `caps: {max_ratio: 0.7}`, Options{})
	b.trial <- struct{}{} // a trial is running
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Try(ctx, "s", Policy{}, nil, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("while another runs: %v", err)
	}
	<-b.trial
	if _, err := b.Try(context.Background(), "s", Policy{}, []*chat.Message{msg("s", "u", "hi")}, 0); err != nil {
		t.Fatalf("after it ended: %v", err)
	}
}

func TestAllowedPhrase(t *testing.T) {
	b := book(t, `allowed: ["holy shit"]`, Options{})
	if d := b.Decide(msg("s", "u", "holy shit that price")); d.Labels.Has(chat.LabelToxic) || d.Labels.Has(chat.LabelProfanity) {
		t.Errorf("allowed phrase flagged: %s", rules(d))
	}
	// Alone, mild swearing is labelled profanity (toxic when aimed).
	if d := b.Decide(msg("s", "u", "this is shit")); !d.Labels.Has(chat.LabelToxic) && !d.Labels.Has(chat.LabelProfanity) {
		t.Errorf("the word alone is not allowed: %s", rules(d))
	}
}

// TestHiddenByTheChannelNeverTrends: the policy decides before the
// question joins trending, so a question the channel hides is not shown
// on the overlay; one it allows is.
func TestHiddenByTheChannelNeverTrends(t *testing.T) {
	tr := trend.NewTrending(trend.TrendOptions{})
	e, err := classify.New(classify.Options{Trending: tr})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := ParseYAML([]byte(`blocked: [{term: "cheapfollows"}]`))
	b, err := New(e, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	d := b.Decide(msg("s", "u1", "how much are the cheapfollows?"))
	if d.Action != chat.Hide || d.Question != nil {
		t.Fatalf("hidden question: %v %+v", d.Action, d.Question)
	}
	d = b.Decide(msg("s", "u2", "how much is the blue jacket?"))
	if d.Action != chat.Allow || d.Question == nil {
		t.Fatalf("allowed question: %v %+v", d.Action, d.Question)
	}
	snap := tr.Snapshot("s", d.TS, 10)
	if len(snap.Questions) != 1 || strings.Contains(snap.Questions[0].Text, "cheapfollows") {
		t.Fatalf("trending: %+v", snap.Questions)
	}
}

// TestEmotesMarkedByThePlatform: where the platform marks emote positions
// (Twitch's emotes tag, Message.Emotes), the limit counts them, also for
// channel emotes no list knows; otherwise words of the list are counted.
func TestEmotesMarkedByThePlatform(t *testing.T) {
	b := book(t, `emotes: {max: 5}`, Options{})
	for _, c := range []struct {
		text   string
		marked int
		rule   string
	}{
		{"showHype showHype showHype showHype showHype showHype", 6, "policy.emotes"},
		{"showHype showHype showHype showHype showHype showHype", 0, ""}, // no list knows the channel's emote
		{"Kappa Kappa Kappa Kappa Kappa Kappa", 0, "policy.emotes"},      // the default list
		{"nice one showHype", 1, ""},
	} {
		m := msg("s", "u", c.text)
		m.Emotes = c.marked
		d := b.Decide(m)
		got := ""
		if len(d.Reasons) > 0 && strings.HasPrefix(d.Reasons[0].Rule, "policy.") {
			got = d.Reasons[0].Rule
		}
		if got != c.rule {
			t.Errorf("%q with %d marked: rule %q (%s); want %q", c.text, c.marked, got, rules(d), c.rule)
		}
	}
}
