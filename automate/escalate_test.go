package automate_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

func TestUrgency(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ text, want string }{
		{"payment deducted but no order confirmation", "payment_no_order"},
		{"paise kat gaye lekin order nahi hua", "payment_no_order"},
		{"पैसे कट गए पर ऑर्डर नहीं आया", "payment_no_order"},
		{"I gave the wrong address, please fix before dispatch", "wrong_address"},
		{"galat address daal diya, change karo", "wrong_address"},
		{"मैंने गलत पता डाल दिया", "wrong_address"},
		{"please cancel my order before it ships", "cancel_before_shipping"},
		{"mera order cancel kar do", "cancel_before_shipping"},
		{"मेरा ऑर्डर कैंसिल कर दो", "cancel_before_shipping"},
		{"the charger caught fire last night", "product_safety"},
		{"got an electric shock from the kettle", "product_safety"},
		{"my son has an allergy rash from this cream", "product_safety"},
		{"iron se current laga", "product_safety"},
		{"हीटर में आग लग गई", "product_safety"},
		{"I want to kill myself", "threat_to_self"},
		{"main mar jaunga", "threat_to_self"},
		{"आत्महत्या कर लूंगा", "threat_to_self"},
		{"how much is the red saree", ""},
		{"audio is low", ""},
		{"this song is fire", "product_safety"}, // slang, read as safety: an agent looks, no harm
		{"great show today", ""},
		{"address kya hai aapke shop ka", ""},
	} {
		if got := automate.Urgency(c.text); got != c.want {
			t.Errorf("Urgency(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestParseRating(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text string
		want int
	}{
		{"5", 5}, {" 4 ", 4}, {"3/5", 3}, {"5 stars", 5}, {"⭐⭐⭐⭐", 4}, {"★★", 2}, {"⭐️⭐️⭐️", 3},
		{"bahut achha", 5}, {"Bahut Achha!", 5}, {"achha", 4}, {"theek", 3}, {"bekar", 1}, {"बहुत अच्छा", 5},
		{"excellent", 5}, {"good", 4}, {"ok", 3}, {"terrible", 1},
		{"6", 0}, {"0", 0}, {"55", 0}, {"5521 order", 0}, {"hello", 0}, {"⭐⭐⭐⭐⭐⭐", 0},
		{"good morning everyone, what is the price of the blue saree today", 0},
		{"", 0}, {".", 0}, {"!!", 0},
	} {
		got, ok := automate.ParseRating(c.text)
		if ok != (c.want != 0) || got != c.want {
			t.Errorf("ParseRating(%q) = %d, %v; want %d", c.text, got, ok, c.want)
		}
	}
}

func FuzzParseRating(f *testing.F) {
	for _, s := range []string{"5", "⭐⭐⭐⭐", "bahut achha", "4/5", "", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := automate.ParseRating(s)
		if ok && (r < 1 || r > 5) {
			t.Fatalf("ParseRating(%q) = %d", s, r)
		}
		if !ok && r != 0 {
			t.Fatalf("ParseRating(%q) = %d, false", s, r)
		}
	})
}

func TestIsPartnership(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text string
		want bool
	}{
		{"hi, we'd love to collab with your channel", true},
		{"interested in a sponsorship for your next live", true},
		{"brand deal ke liye DM karo", true},
		{"nice saree", false},
		{"is this the partner store?", false},
	} {
		if got := automate.IsPartnership(c.text); got != c.want {
			t.Errorf("IsPartnership(%q) = %v", c.text, got)
		}
	}
}

// engineStage runs the real engine (with the embedded model) and the
// stage, as serve does.
func engineStage(t *testing.T, opts automate.Options) (chat.Decider, *automate.Stage, *recorder) {
	t.Helper()
	engine, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	opts.Output = rec
	s, err := automate.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s.Wrap(engine), s, rec
}

func say(d chat.Decider, n int, user string, badges []string, text string) chat.Decision {
	m := &chat.Message{ID: "m-" + strings.Repeat("x", n%3) + string(rune('a'+n%26)), Stream: "s", User: chat.User{ID: user, Name: user, Badges: badges}, Text: text, TS: t0 + int64(n)*1000}
	return d.Decide(m)
}

func TestEscalateComplaint(t *testing.T) {
	t.Parallel()
	dec, s, rec := engineStage(t, showOptions(t))
	d := say(dec, 1, "raj", nil, "order 5521 came broken, worst service ever, I am so angry, never buying from you again")
	if !d.Labels.Has(chat.LabelNegative) || d.Handoff == nil || !hasRule(d, "escalate.complaint") {
		t.Fatalf("angry customer with an order: labels %v handoff %+v reasons %+v", d.Labels, d.Handoff, d.Reasons)
	}
	tk, _ := s.Tickets().Get(d.Handoff.ID)
	if tk.Issue != automate.IssueComplaint || tk.OrderID != "5521" || tk.PriorityOf() != automate.PriorityNormal {
		t.Errorf("ticket %+v: want issue complaint, order 5521, priority normal", tk)
	}
	if !slices.ContainsFunc(rec.lines, func(l string) bool {
		return strings.HasPrefix(l, "  reply") && strings.Contains(l, "an agent will message you")
	}) {
		t.Errorf("no public notice: %v", rec.lines)
	}
	// Hinglish, no order number, but about what was bought.
	d = say(dec, 2, "meera", nil, "bahut bekar quality hai, paise barbaad, bilkul ghatiya")
	if !d.Labels.Has(chat.LabelNegative) || d.Handoff == nil {
		t.Errorf("hinglish complaint: labels %v handoff %+v", d.Labels, d.Handoff)
	}
	// Not customer anger: the stream itself.
	d = say(dec, 3, "tom", nil, "audio is low")
	if d.Labels.Has(chat.LabelNegative) || d.Handoff != nil {
		t.Errorf("audio is low: labels %v handoff %+v", d.Labels, d.Handoff)
	}
}

func TestEscalateUrgentHigh(t *testing.T) {
	t.Parallel()
	dec, s, _ := engineStage(t, showOptions(t))
	d := say(dec, 1, "raj", nil, "worst service, I am furious: payment deducted but no order confirmation for order 7781")
	if d.Handoff == nil || !hasRule(d, "urgent.payment_no_order") {
		t.Fatalf("urgent: handoff %+v reasons %+v", d.Handoff, d.Reasons)
	}
	tk, _ := s.Tickets().Get(d.Handoff.ID)
	if tk.Priority != automate.PriorityHigh || !slices.Contains(tk.Tags, automate.TagUrgent) || tk.Issue != automate.IssueComplaint {
		t.Errorf("ticket %+v: want priority high, tag urgent, issue complaint", tk)
	}
	// A calm urgent case opens a high-priority ticket too; a later line
	// never lowers it.
	d = say(dec, 2, "asha", nil, "mera order cancel kar do please")
	tk, _ = s.Tickets().Get(d.Handoff.ID)
	if tk.Priority != automate.PriorityHigh || tk.Issue != "cancel_before_shipping" {
		t.Errorf("cancel: ticket %+v", tk)
	}
}

func TestNegativeNoFAQ(t *testing.T) {
	t.Parallel()
	// Escalation off: the message opens no ticket, and must still not be
	// answered by the FAQ it matches.
	opts := showOptions(t)
	opts.Escalation.Off = true
	dec, _, _ := engineStage(t, opts)
	d := say(dec, 1, "raj", nil, "shipping is so slow, worst experience, I am so angry and disappointed?")
	if d.FAQ != nil || !hasRule(d, "faq.skip") {
		t.Errorf("negative message: FAQ %+v, reasons %+v; want no answer and faq.skip", d.FAQ, d.Reasons)
	}
	if !d.Labels.Has(chat.LabelNegative) {
		t.Errorf("labels %v: want negative", d.Labels)
	}
	d = say(dec, 2, "asha", nil, "how long does shipping take?")
	if d.FAQ == nil {
		t.Errorf("an ordinary question lost its FAQ answer (labels %v)", d.Labels)
	}
}

func TestEscalateMoodWindow(t *testing.T) {
	t.Parallel()
	opts := showOptions(t)
	opts.Escalation = automate.Escalation{Window: 3, WindowNegative: 2}
	dec, _, _ := engineStage(t, opts)
	d := say(dec, 1, "vik", nil, "I am so sad and angry today, everything is terrible")
	if d.Handoff != nil {
		t.Fatalf("one negative line without order context opened %+v", d.Handoff)
	}
	d = say(dec, 2, "vik", nil, "honestly I hate this, I am so upset and disappointed")
	if d.Handoff == nil || !hasRule(d, "escalate.mood") {
		t.Errorf("second negative line in the window: handoff %+v reasons %+v", d.Handoff, d.Reasons)
	}
	opts.Escalation = automate.Escalation{Off: true}
	dec, _, _ = engineStage(t, opts)
	d = say(dec, 1, "raj", nil, "order 5521 came broken, worst service ever, I am so angry")
	if hasRule(d, "escalate.complaint") {
		t.Errorf("escalation off, still escalated: %+v", d.Reasons)
	}
}

func TestVIPAndPartnership(t *testing.T) {
	t.Parallel()
	opts := showOptions(t)
	opts.VIPUsers = []string{"BigCreator"}
	dec, s, _ := engineStage(t, opts)
	d := say(dec, 1, "bigcreator", nil, "how long does shipping take?")
	if d.FAQ != nil || d.Handoff == nil || !hasRule(d, "route.vip") {
		t.Errorf("VIP by name: faq %+v handoff %+v", d.FAQ, d.Handoff)
	}
	d = say(dec, 2, "p1", []string{"partner"}, "which size for me?")
	if d.FAQ != nil || d.Handoff == nil {
		t.Errorf("partner badge: faq %+v handoff %+v", d.FAQ, d.Handoff)
	} else if tk, _ := s.Tickets().Get(d.Handoff.ID); tk.Issue != automate.IssueVIP {
		t.Errorf("partner ticket issue %q", tk.Issue)
	}
	d = say(dec, 3, "p2", []string{"verified"}, "love the show")
	if d.Handoff != nil {
		t.Errorf("a VIP's chat that needs no answer opened %+v", d.Handoff)
	}
	d = say(dec, 4, "brand", nil, "Hi! We'd love to discuss a sponsorship for your next live")
	if d.Handoff == nil {
		t.Fatalf("sponsorship: no ticket, reasons %+v", d.Reasons)
	}
	if tk, _ := s.Tickets().Get(d.Handoff.ID); tk.Issue != automate.IssuePartnership {
		t.Errorf("sponsorship ticket issue %q", tk.Issue)
	}
	d = say(dec, 5, "viewer", nil, "how long does shipping take?")
	if d.FAQ == nil || d.Handoff != nil {
		t.Errorf("an ordinary viewer: faq %+v handoff %+v", d.FAQ, d.Handoff)
	}
}

func TestRatingAndConversion(t *testing.T) {
	t.Parallel()
	opts := showOptions(t)
	opts.RatingRequest = automate.DefaultRatingRequest
	dec, s, rec := engineStage(t, opts)
	d := say(dec, 1, "raj", nil, "agent please, order 5521 refund nahi mila")
	if d.Handoff == nil {
		t.Fatal("no ticket")
	}
	id := d.Handoff.ID
	if _, err := s.Resolve(context.Background(), id, "agent1", t0+10_000); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rec.lines, func(l string) bool {
		return strings.HasPrefix(l, "  reply") && strings.Contains(l, "Automated reply: @raj, how did we do?")
	}) {
		t.Fatalf("no rating request: %v", rec.lines)
	}
	d = say(dec, 20, "raj", nil, "⭐⭐⭐⭐")
	if !hasRule(d, "csat.rating") {
		t.Fatalf("rating line not recorded: %+v", d.Reasons)
	}
	tk, _ := s.Tickets().Get(id)
	if tk.Rating != 4 || tk.RatingAsk == 0 {
		t.Errorf("ticket rating %d asked %d", tk.Rating, tk.RatingAsk)
	}
	d = say(dec, 21, "raj", nil, "5")
	if hasRule(d, "csat.rating") {
		t.Error("a second rating line was recorded")
	}
	if tk, err := s.Convert(context.Background(), id, "agent1", 1299, t0+30_000); err != nil || !tk.Converted || tk.OrderValue != 1299 {
		t.Errorf("convert: %+v %v", tk, err)
	}
	if _, err := s.Convert(context.Background(), "h-404", "agent1", 1, t0); err == nil {
		t.Error("convert of an unknown ticket: no error")
	}
}

func TestRatingOptOut(t *testing.T) {
	t.Parallel()
	opts := showOptions(t)
	opts.RatingRequest = automate.DefaultRatingRequest
	dec, s, rec := engineStage(t, opts)
	d := say(dec, 1, "raj", nil, "agent please, order 5521 refund nahi mila")
	say(dec, 2, "raj", nil, "STOP")
	rec.lines = nil
	if _, err := s.Resolve(context.Background(), d.Handoff.ID, "agent1", t0+10_000); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(rec.lines, func(l string) bool { return strings.HasPrefix(l, "  reply") }) {
		t.Errorf("a user who sent STOP was asked for a rating: %v", rec.lines)
	}
	d = say(dec, 20, "raj", nil, "5")
	if hasRule(d, "csat.rating") {
		t.Error("rating recorded without a request")
	}
}

// BenchmarkEscalate measures what escalation adds to each message: the
// urgency, partnership and order-context patterns and the mood log.
func BenchmarkEscalate(b *testing.B) {
	texts := []string{"how much is the blue jacket?", "नमस्ते! बहुत बढ़िया", "kitne ka hai ye?", "agent please cancel my order 5521", "love this colour, so pretty"}
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		t := texts[i%len(texts)]
		if automate.Urgency(t) != "" || automate.IsPartnership(t) {
			n++
		}
	}
	if n == 0 {
		b.Fatal("no urgent line among the texts")
	}
}

func FuzzUrgency(f *testing.F) {
	for _, s := range []string{"payment deducted but no order", "mera order cancel kar do", "आग", "\xff\xfe", "caught fire"} {
		f.Add(s)
	}
	kinds := map[string]bool{"": true, "payment_no_order": true, "wrong_address": true, "cancel_before_shipping": true, "product_safety": true, "threat_to_self": true}
	f.Fuzz(func(t *testing.T, s string) {
		if k := automate.Urgency(s); !kinds[k] {
			t.Fatalf("Urgency(%q) = %q", s, k)
		}
		automate.IsPartnership(s)
	})
}

// TestUrgentNeedsAShopContext: slang and feelings that share the urgent
// cases' words open nothing; the same words about a product do.
func TestUrgentNeedsAShopContext(t *testing.T) {
	t.Parallel()
	dec, _, _ := engineStage(t, showOptions(t))
	for i, text := range []string{
		"this song is fire 🔥🔥",
		"that was a sick burn lol",
		"i'm so hurt you ignored me didi",
		"my heart is burning for this song, chot lagi dil pe",
		"the host's outfit is on fire today",
	} {
		if d := say(dec, i+1, "viewer"+strconv.Itoa(i), nil, text); d.Handoff != nil || hasRulePrefix(d, "urgent.") {
			t.Errorf("%q: handoff %+v reasons %+v; want no urgent ticket", text, d.Handoff, d.Reasons)
		}
	}
	d := say(dec, 10, "meera", nil, "the charger you sold me caught fire last night")
	if d.Handoff == nil || !hasRule(d, "urgent.product_safety") {
		t.Errorf("product safety: handoff %+v reasons %+v", d.Handoff, d.Reasons)
	}
}

func hasRulePrefix(d chat.Decision, prefix string) bool {
	for _, r := range d.Reasons {
		if strings.HasPrefix(r.Rule, prefix) {
			return true
		}
	}
	return false
}

// TestEscalateNotBuyers: a wish to buy is a sale, not a complaint: the
// model scores some such wishes a little negative, and they opened
// complaint tickets by the thousand on a realistic show. A buyer who is
// strongly negative still gets an agent.
func TestEscalateNotBuyers(t *testing.T) {
	t.Parallel()
	dec, _, _ := engineStage(t, showOptions(t))
	for i, text := range []string{
		"I want to buy the cotton dupatta",
		"I want to buy the gold earrings",
		"I want this dupatta",
		"mujhe ye dupatta chahiye",
	} {
		d := say(dec, i, "buyer-"+string(rune('a'+i)), nil, text)
		if hasRule(d, "escalate.complaint") || d.Handoff != nil {
			t.Errorf("%q: reasons %+v, handoff %+v; a wish to buy opened a ticket", text, d.Reasons, d.Handoff)
		}
	}
	d := say(dec, 9, "angry-buyer", nil, "I wanted to buy it but you cheated me, disgusting fraud")
	if !hasRule(d, "escalate.complaint") || d.Handoff == nil {
		t.Errorf("a strongly negative buyer: labels %v reasons %+v; want a complaint ticket", d.Labels, d.Reasons)
	}
}

// TestEscalationCheckSets: on the check sets written for the escalation
// (testdata/escalation), complaints about orders open tickets and wishes to
// buy do not open complaint tickets. The bounds are the figures of
// docs/QUALITY.md ("A wish to buy is not a complaint") with a line of
// slack for a retrained model: before buyerOnly, 8 of the 30 wishes
// opened complaint tickets.
func TestEscalationCheckSets(t *testing.T) {
	t.Parallel()
	dec, _, _ := engineStage(t, showOptions(t))
	run := func(file string) (lines, tickets, complaints int) {
		f, err := os.Open(filepath.Join("testdata", "escalation", file))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var l struct{ Text string }
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s line %d: %v", file, lines+1, err)
			}
			d := say(dec, lines, fmt.Sprintf("%s-%d", file, lines), nil, l.Text)
			lines++
			if d.Handoff != nil {
				tickets++
			}
			if hasRule(d, "escalate.complaint") {
				complaints++
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return lines, tickets, complaints
	}
	n, tickets, _ := run("order_complaints.ndjson")
	t.Logf("order complaints: %d of %d opened a ticket", tickets, n)
	if n != 25 || tickets < 19 {
		t.Errorf("order complaints: %d of %d opened a ticket; want at least 19 of 25", tickets, n)
	}
	n, _, complaints := run("purchase_wishes.ndjson")
	t.Logf("purchase wishes: %d of %d opened a complaint ticket", complaints, n)
	if n != 30 || complaints > 2 {
		t.Errorf("purchase wishes: %d of %d opened a complaint ticket; want at most 2 of 30", complaints, n)
	}
}
