package policy

import (
	"os"
	"strings"
	"testing"

	"github.com/livemod/livemod/chat"
)

// TestWorkedExample holds docs/POLICY.md to its word: the shopping
// show's policy parses, and the table of what it does is what it does.
func TestWorkedExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/POLICY.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## A worked example: a shopping show")
	if !ok {
		t.Fatal("docs/POLICY.md has no worked example")
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	y, _, _ := strings.Cut(rest, "```")
	b := book(t, y, Options{})
	for _, c := range []struct {
		stream, text string
		badges       []string
		action       chat.Action
		rule         string
	}{
		{"saree-live", "the blue saree is at https://www.ashaboutique.in/blue", nil, chat.Allow, ""},
		{"saree-live", "better prices at rivalshop.in", nil, chat.Hide, "policy.links"},
		{"saree-live", "check 192.168.4.20:8080/free", nil, chat.Hide, "policy.links"},
		{"saree-live", "get ch3ap f0llows here", nil, chat.Hide, "policy.term:cheapfollows"},
		{"saree-live", "FREE   RECHARGE click now", nil, chat.Hide, `policy.regex:(?i)free\s+recharge`},
		{"saree-live", "WHY IS NOBODY ANSWERING MY QUESTION THIS IS THE WORST STREAM EVER!!!!!!!!", nil, chat.Hide, "policy.caps"},
		{"saree-live", strings.Repeat("₹", 40), nil, chat.Hide, "policy.symbols"},
		{"saree-live", "KAB AAYEGA MERA ORDER", []string{"vip/1"}, chat.Allow, ""},
		{"saree-live", "FRIDAY SALE IS LIVE NOW, grab it", nil, chat.Hide, "policy.caps"},
		{"flash-sale", "FRIDAY SALE IS LIVE NOW, grab it", nil, chat.Allow, ""},
		{"flash-sale", "tu kamina hai, this price is amazing", nil, chat.Allow, ""},
	} {
		d := b.Decide(msg(c.stream, "viewer-"+c.text[:4], c.text, c.badges...))
		got := ""
		if len(d.Reasons) > 0 && strings.HasPrefix(d.Reasons[0].Rule, "policy.") {
			got = d.Reasons[0].Rule
		}
		if d.Action != c.action || got != c.rule {
			t.Errorf("%s %q: %v %q (%s); the doc says %v %q", c.stream, c.text, d.Action, got, rules(d), c.action, c.rule)
		}
	}
	if d := testEngine().Decide(msg("x", "u", "tu kamina hai, this price is amazing")); d.Action != chat.Hold {
		t.Errorf("the doc says the built-in lexicon holds 'kamina': %v", d.Action)
	}
	// The recharge scam times out; a third hide in 10 minutes escalates.
	if d := b.Decide(msg("saree-live", "r", "free recharge here")); !strings.Contains(d.Reasons[0].Detail, "timeout 600s") {
		t.Errorf("recharge: %+v", d.Reasons)
	}
	for i := range 3 {
		d := b.Decide(msg("saree-live", "raider", "visit rivalshop.in"))
		if esc := strings.Contains(rules(d), "policy.escalation"); esc != (i == 2) {
			t.Errorf("hide %d: %s", i+1, rules(d))
		}
	}
}

// TestREADMEPolicyParses: the README's policy example is valid.
func TestREADMEPolicyParses(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\npolicy:")
	if !ok {
		t.Fatal("README has no policy example")
	}
	y, _, _ := strings.Cut(rest, "```")
	cfg, err := ParseYAML([]byte("policy:" + y))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Default.Blocked) != 3 || cfg.Streams["show-b"].Caps == nil {
		t.Fatalf("%+v", cfg)
	}
}
