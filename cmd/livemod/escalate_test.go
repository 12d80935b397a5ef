package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/moderate"
)

func withEscalation(c *config.Config) {
	withAgent(c)
	c.FAQ = []config.FAQ{{ID: "shipping", Match: []string{"shipping", "delivery time"}, Answer: "{author_name}, shipping takes 3–5 days."}}
	c.Handoff.VIPUsers = []string{"star-creator"}
	c.Handoff.RatingRequest = "{author_name}, how did we do? Reply 1 to 5."
}

func badgeMsg(id, user, text string, badges ...string) string {
	b, _ := json.Marshal(map[string]any{"id": id, "user": map[string]any{"id": user, "name": user, "badges": badges}, "text": text, "ts": time.Now().UnixMilli()})
	return string(b)
}

type handoffPage struct {
	Handoffs []chat.Ticket `json:"handoffs"`
}

func ticketOf(t *testing.T, base, stream, id string) chat.Ticket {
	t.Helper()
	var p handoffPage
	callJSON(t, "GET", base+"/v1/handoffs?stream="+stream, agentSecret, "", &p)
	for _, tk := range p.Handoffs {
		if tk.ID == id {
			return tk
		}
	}
	t.Fatalf("ticket %s not in the inbox of %s: %+v", id, stream, p.Handoffs)
	return chat.Ticket{}
}

func hasReason(d chat.Decision, rule string) bool {
	return slices.ContainsFunc(d.Reasons, func(r chat.Reason) bool { return r.Rule == rule })
}

// TestEscalationEndToEnd drives a running server: an angry customer with
// an order number opens a complaint ticket, at priority high when the
// case is urgent; an angry message gets no FAQ reply; a VIP's question
// goes to an agent; a sponsorship request to the partnership queue.
func TestEscalationEndToEnd(t *testing.T) {
	addr := startApp(t, withEscalation)
	base := "http://" + addr
	brIngest(t, addr, "esc",
		msg("x-1", "angry1", "order 5521 arrived broken, worst service ever, I am so angry, never buying from you again", 0),
		msg("x-2", "angry2", "worst service, I am furious: payment deducted but no order confirmation for order 7781", 0),
		msg("x-3", "angry3", "shipping is so slow, worst experience, I am so angry and disappointed?", 0),
		msg("x-4", "calm", "how long does shipping take?", 0),
		msg("x-5", "star-creator", "how long does shipping take?", 0),
		badgeMsg("x-6", "partner1", "which size should I pick?", "partner"),
		msg("x-7", "brand", "Hi! we would love to discuss a sponsorship for your next live", 0),
		msg("x-8", "viewer", "audio is low", 0),
	)
	decs := decisionsOf(t, base, map[string]string{"x-1": "angry1", "x-2": "angry2", "x-3": "angry3", "x-4": "calm", "x-5": "star-creator", "x-6": "partner1", "x-7": "brand", "x-8": "viewer"})

	d := decs["x-1"]
	if !d.Labels.Has(chat.LabelNegative) || d.Handoff == nil || d.Scores.Get(chat.LabelNegative) < 0.5 {
		t.Fatalf("angry customer: labels %v scores %+v handoff %+v", d.Labels, d.Scores, d.Handoff)
	}
	tk := ticketOf(t, base, "esc", d.Handoff.ID)
	if tk.Issue != "complaint" || tk.OrderID != "5521" || tk.Priority != "normal" || !tk.Noticed {
		t.Errorf("angry customer's ticket: issue %q order %q priority %q noticed %v", tk.Issue, tk.OrderID, tk.Priority, tk.Noticed)
	}
	d = decs["x-2"]
	if d.Handoff == nil {
		t.Fatalf("urgent angry customer: no ticket: %+v", d.Reasons)
	}
	tk = ticketOf(t, base, "esc", d.Handoff.ID)
	if tk.Issue != "complaint" || tk.Priority != "high" || !slices.Contains(tk.Tags, "urgent") || tk.OrderID != "7781" {
		t.Errorf("urgent complaint ticket: issue %q priority %q tags %v order %q", tk.Issue, tk.Priority, tk.Tags, tk.OrderID)
	}
	if d := decs["x-3"]; d.FAQ != nil || !d.Labels.Has(chat.LabelNegative) {
		t.Errorf("angry question: labels %v faq %+v; want negative and no FAQ reply", d.Labels, d.FAQ)
	}
	if d := decs["x-4"]; d.FAQ == nil {
		t.Errorf("calm question lost its FAQ reply: %+v", d.Reasons)
	}
	for _, id := range []string{"x-5", "x-6"} {
		if d := decs[id]; d.FAQ != nil || d.Handoff == nil || !hasReason(d, "route.vip") {
			t.Errorf("VIP %s: faq %+v handoff %+v reasons %+v; want an agent", id, d.FAQ, d.Handoff, d.Reasons)
		}
	}
	if d := decs["x-7"]; d.Handoff == nil {
		t.Errorf("sponsorship: no ticket")
	} else if tk := ticketOf(t, base, "esc", d.Handoff.ID); tk.Issue != "partnership" {
		t.Errorf("sponsorship ticket issue %q, want partnership", tk.Issue)
	}
	if d := decs["x-8"]; d.Labels.Has(chat.LabelNegative) || d.Handoff != nil {
		t.Errorf("'audio is low': labels %v handoff %+v", d.Labels, d.Handoff)
	}
	var rep moderate.Report
	callJSON(t, "GET", base+"/v1/kpis?stream=esc", hostSecret, "", &rep)
	if rep.NegativeRate.Of != 8 || rep.NegativeRate.N < 3 || len(rep.Mood) == 0 || rep.Mood[len(rep.Mood)-1].Negative < 3 {
		t.Errorf("kpis: negative_rate %+v mood %+v; want ≥ 3 of 8 negative", rep.NegativeRate, rep.Mood)
	}
}

// TestCSATAndConversionEndToEnd: resolve → rating request → the user's
// rating line → CSAT in /v1/kpis; a ticket marked converted counts in
// conversion.
func TestCSATAndConversionEndToEnd(t *testing.T) {
	addr := startApp(t, withEscalation)
	base := "http://" + addr
	brIngest(t, addr, "cs",
		msg("c-1", "buyer1", "agent please, order 5521 refund nahi mila", 0),
		msg("c-2", "buyer2", "agent please, I want the blue saree, order kaise karu", 0))
	decs := decisionsOf(t, base, map[string]string{"c-1": "buyer1", "c-2": "buyer2"})
	h1, h2 := decs["c-1"].Handoff, decs["c-2"].Handoff
	if h1 == nil || h2 == nil {
		t.Fatalf("no tickets: %+v", decs)
	}
	if code, body := call(t, "POST", base+"/v1/handoffs/"+h1.ID+"/resolve", agentSecret, ""); code != 200 {
		t.Fatalf("resolve: %d %s", code, body)
	}
	if tk := ticketOf(t, base, "cs", h1.ID); tk.RatingAsk == 0 {
		t.Fatalf("resolved ticket: no rating request (%+v)", tk)
	}
	brIngest(t, addr, "cs", msg("c-3", "buyer1", "⭐⭐⭐⭐", 0))
	if d := decisionsOf(t, base, map[string]string{"c-3": "buyer1"})["c-3"]; !hasReason(d, "csat.rating") {
		t.Errorf("rating line: reasons %+v", d.Reasons)
	}
	if tk := ticketOf(t, base, "cs", h1.ID); tk.Rating != 4 {
		t.Errorf("rating on the ticket: %d, want 4", tk.Rating)
	}
	for _, c := range []struct {
		body string
		want int
	}{{`{"order_value":-1}`, 400}, {`{}`, 400}, {`nope`, 400}, {`{"order_value":2499}`, 200}} {
		if code, body := call(t, "POST", base+"/v1/handoffs/"+h2.ID+"/convert", agentSecret, c.body); code != c.want {
			t.Errorf("convert %s: %d %s, want %d", c.body, code, body, c.want)
		}
	}
	if code, _ := call(t, "POST", base+"/v1/handoffs/h-999/convert", agentSecret, `{"order_value":1}`); code != 404 {
		t.Errorf("convert of an unknown ticket: %d, want 404", code)
	}
	if code, body := call(t, "POST", base+"/v1/handoffs/"+h2.ID+"/resolve", agentSecret, ""); code != 200 {
		t.Fatalf("resolve: %d %s", code, body)
	}
	var rep moderate.Report
	callJSON(t, "GET", base+"/v1/kpis?stream=cs", hostSecret, "", &rep)
	if rep.CSAT.Count != 1 || rep.CSAT.Mean == nil || *rep.CSAT.Mean != 4 {
		t.Errorf("csat = %+v, want mean 4 of 1", rep.CSAT)
	}
	if rep.Conversion.N != 1 || rep.Conversion.Of != 2 || rep.Conversion.Rate == nil || *rep.Conversion.Rate != 0.5 || rep.Conversion.Value != 2499 {
		t.Errorf("conversion = %+v, want 1 of 2, value 2499", rep.Conversion)
	}
	_, raw := get(t, base+"/v1/kpis?stream=cs", hostSecret)
	for _, k := range []string{`"csat":`, `"conversion":`, `"negative_rate":`, `"mood":`} {
		if !strings.Contains(raw, k) {
			t.Errorf("/v1/kpis lacks %s: %s", k, raw)
		}
	}
}
