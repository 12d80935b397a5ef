package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livemod/livemod/broker"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/moderate"
)

// End-to-end tests of issue 21's seven points on a running server: each
// asserts what the overlay, the console (moderator view), the agent view
// and the replies view receive.

// views follows the four views of one stream, every line kept.
type views struct {
	mu    sync.Mutex
	lines map[broker.View][]string
}

func watchViews(t *testing.T, ta *testApp, streamID string) *views {
	t.Helper()
	v := &views{lines: map[broker.View][]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, view := range []broker.View{broker.ViewModerator, broker.ViewOverlay, broker.ViewAgent, broker.ViewReplies} {
		c := dial(t, "ws://"+ta.Addr()+"/v1/subscribe?stream="+streamID+"&view="+view.String(), adminSecret)
		go func() {
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				v.mu.Lock()
				for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
					v.lines[view] = append(v.lines[view], string(l))
				}
				v.mu.Unlock()
			}
		}()
		eventually(t, 5*time.Second, "subscribed to "+view.String(), func() bool { return ta.Hub.Subscribers(streamID, view) > 0 })
	}
	return v
}

func (v *views) of(view broker.View) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.lines[view]...)
}

// decision returns the moderator view's decision about id.
func (v *views) decision(id string) (chat.Decision, bool) {
	for _, l := range v.of(broker.ViewModerator) {
		var d chat.Decision
		if strings.HasPrefix(l, `{"id":`) && json.Unmarshal([]byte(l), &d) == nil && d.ID == id {
			return d, true
		}
	}
	return chat.Decision{}, false
}

// waitDecisions waits until the console has a decision for each id.
func (v *views) waitDecisions(t *testing.T, ids ...string) map[string]chat.Decision {
	t.Helper()
	out := map[string]chat.Decision{}
	eventually(t, 10*time.Second, fmt.Sprintf("decisions %v on the console", ids), func() bool {
		for _, id := range ids {
			if d, ok := v.decision(id); ok {
				out[id] = d
			}
		}
		return len(out) == len(ids)
	})
	return out
}

// overlay returns the newest trending line.
func (v *views) overlay() moderate.Overlay {
	var o moderate.Overlay
	lines := v.of(broker.ViewOverlay)
	if len(lines) > 0 {
		json.Unmarshal([]byte(lines[len(lines)-1]), &o)
	}
	return o
}

// everOverlay reports whether any overlay line so far has a question
// whose text contains s.
func (v *views) everOverlay(s string) bool {
	for _, l := range v.of(broker.ViewOverlay) {
		var o moderate.Overlay
		json.Unmarshal([]byte(l), &o)
		for _, q := range o.Questions {
			if strings.Contains(q.Text, s) {
				return true
			}
		}
		if o.Pinned != nil && strings.Contains(o.Pinned.Text, s) {
			return true
		}
	}
	return false
}

// moderation returns the console's moderation events about id.
func (v *views) moderation(id string) []moderate.Event {
	var out []moderate.Event
	for _, l := range v.of(broker.ViewModerator) {
		var e moderate.Event
		if strings.HasPrefix(l, `{"type":"moderation"`) && json.Unmarshal([]byte(l), &e) == nil && e.ID == id {
			out = append(out, e)
		}
	}
	return out
}

// tickets returns the agent view's tickets, newest version of each.
func (v *views) tickets() map[string]chat.Ticket {
	out := map[string]chat.Ticket{}
	for _, l := range v.of(broker.ViewAgent) {
		var e struct{ Handoff chat.Ticket }
		if json.Unmarshal([]byte(l), &e) == nil && e.Handoff.ID != "" {
			out[e.Handoff.ID] = e.Handoff
		}
	}
	return out
}

// repliesTo returns the replies view's replies addressed to user.
func (v *views) repliesTo(user string) []chat.Reply {
	return v.replies(func(r chat.Reply) []string { return r.To }, user)
}

// replies returns the replies view's replies whose field (To, InReplyTo)
// holds want.
func (v *views) replies(field func(chat.Reply) []string, want string) []chat.Reply {
	var out []chat.Reply
	for _, l := range v.of(broker.ViewReplies) {
		var r chat.Reply
		if json.Unmarshal([]byte(l), &r) == nil && slices.Contains(field(r), want) {
			out = append(out, r)
		}
	}
	return out
}

// send ingests chat lines to stream over the websocket and waits for
// their acks.
func send(t *testing.T, addr, streamID string, lines ...string) {
	t.Helper()
	brIngest(t, addr, streamID, lines...)
}

// chatLine is a message of user (whose name is user too) at ts, now if 0.
func chatLine(id, user, text string) string { return msg(id, user, text, 0) }

func mustCall(t *testing.T, method, url, token, body string, want int) string {
	t.Helper()
	code, got := call(t, method, url, token, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, code, got, want)
	}
	return got
}

// Point 1: a banned user's question and agent request are hidden with
// user.ban at once and go no further: no askers, no agent_requests, no
// ticket, no public reply; the console shows what they were.
func TestE2EBannedUserIsSilent(t *testing.T) {
	ta := runApp(t, t.TempDir(), withAgent)
	addr, base := ta.Addr(), "http://"+ta.Addr()
	v := watchViews(t, ta, "show")
	mustCall(t, "POST", base+"/v1/users/u-3/ban", modSecret, `{"stream":"show","reason":"troll"}`, 200)
	send(t, addr, "show",
		chatLine("m-1", "u-3", "does it come in XL?"),
		chatLine("m-2", "u-3", "agent please, my order 1234 never arrived"),
		chatLine("m-3", "u-4", "agent please, my order 5678 never arrived"),
		chatLine("m-4", "u-5", "does it come in XL?"),
	)
	ds := v.waitDecisions(t, "m-1", "m-2", "m-3", "m-4")
	for _, id := range []string{"m-1", "m-2"} {
		d := ds[id]
		if d.Action != chat.Hide || len(d.Reasons) == 0 || d.Reasons[0].Rule != "user.ban" || d.Handoff != nil || d.Question != nil {
			t.Errorf("console, %s of the banned user: %+v", id, d)
		}
		if len(v.moderation(id)) != 0 {
			t.Errorf("console, %s: a separate hide follows the decision: %+v", id, v.moderation(id))
		}
	}
	if !ds["m-2"].Labels.Has(chat.LabelAgentRequest) {
		t.Errorf("console: the banned user's agent request lost its label (moderators must see it): %v", ds["m-2"].Labels.Slice())
	}
	if d := ds["m-3"]; d.Action != chat.Allow || d.Handoff == nil {
		t.Errorf("console, m-3 of u-4: %+v", d)
	}
	eventually(t, 5*time.Second, "the overlay counts u-4's request and u-5's question", func() bool {
		o := v.overlay()
		return o.AgentRequests == 1 && len(o.Questions) == 1 && o.Questions[0].Askers == 1
	})
	eventually(t, 5*time.Second, "u-4's ticket on the agent view", func() bool { return len(v.tickets()) == 1 })
	for id, tk := range v.tickets() {
		if tk.User.ID != "u-4" {
			t.Errorf("agent view: ticket %s of %s", id, tk.User.ID)
		}
	}
	eventually(t, 5*time.Second, "the notice to u-4", func() bool { return len(v.repliesTo("u-4")) == 1 })
	if r := v.repliesTo("u-3"); len(r) != 0 {
		t.Errorf("replies view: %d replies to the banned user: %+v", len(r), r)
	}
	var page struct{ Handoffs []chat.Ticket }
	callJSON(t, "GET", base+"/v1/handoffs?stream=show", agentSecret, "", &page)
	if len(page.Handoffs) != 1 || page.Handoffs[0].User.ID != "u-4" {
		t.Errorf("GET /v1/handoffs: %+v", page.Handoffs)
	}
	// A timeout, too.
	mustCall(t, "POST", base+"/v1/users/u-6/timeout", modSecret, `{"stream":"show","seconds":600}`, 200)
	send(t, addr, "show", chatLine("m-5", "u-6", "agent please"))
	if d := v.waitDecisions(t, "m-5")["m-5"]; d.Action != chat.Hide || d.Reasons[0].Rule != "user.timeout" || d.Handoff != nil {
		t.Errorf("console, timed-out user: %+v", d)
	}
	if _, metrics := get(t, base+"/metrics", adminSecret); !strings.Contains(metrics, "livemod_moderation_restricted_users 2") {
		t.Errorf("/metrics lacks livemod_moderation_restricted_users 2")
	}
}

// Point 2: the overlay shows the askers' common wording, never the one
// with an insult; after that message is hidden and its author banned,
// the count drops and the text stays clean; a held question never shows.
func TestE2EHiddenTextLeavesTheOverlay(t *testing.T) {
	ta := runApp(t, t.TempDir(), withAgent)
	addr, base := ta.Addr(), "http://"+ta.Addr()
	v := watchViews(t, ta, "show")
	send(t, addr, "show",
		chatLine("x-1", "u-a", "does it come in XL you dumb cow?"),
		chatLine("x-2", "u-b", "does it come in XL?"),
		chatLine("x-3", "u-c", "does this come in XL?"),
		chatLine("x-4", "u-d", "is the red saree pure silk you idiot?"),
	)
	ds := v.waitDecisions(t, "x-1", "x-2", "x-3", "x-4")
	if ds["x-4"].Action != chat.Hold {
		t.Fatalf("console: the insult was not held: %+v", ds["x-4"])
	}
	eventually(t, 5*time.Second, "three askers on the overlay", func() bool {
		o := v.overlay()
		return len(o.Questions) == 1 && o.Questions[0].Askers == 3
	})
	if q := v.overlay().Questions[0]; strings.Contains(q.Text, "cow") {
		t.Errorf("overlay shows the insult: %q", q.Text)
	}
	mustCall(t, "POST", base+"/v1/messages/x-1/hide", modSecret, `{"stream":"show","reason":"toxic"}`, 200)
	mustCall(t, "POST", base+"/v1/users/u-a/ban", modSecret, `{"stream":"show"}`, 200)
	eventually(t, 5*time.Second, "two askers after the hide and ban", func() bool {
		o := v.overlay()
		return len(o.Questions) == 1 && o.Questions[0].Askers == 2
	})
	// The host pins it: the pin shows the clean text too.
	cluster := v.overlay().Questions[0].Cluster
	mustCall(t, "POST", base+"/v1/questions/"+cluster+"/pin", hostSecret, `{"stream":"show"}`, 200)
	eventually(t, 5*time.Second, "the pin", func() bool { return v.overlay().Pinned != nil })
	// Hiding the other two takes the question off the overlay entirely.
	mustCall(t, "POST", base+"/v1/messages/x-2/hide", modSecret, `{"stream":"show"}`, 200)
	mustCall(t, "POST", base+"/v1/messages/x-3/hide", modSecret, `{"stream":"show"}`, 200)
	eventually(t, 5*time.Second, "no question left", func() bool {
		o := v.overlay()
		return len(o.Questions) == 0 && o.Pinned == nil
	})
	for _, s := range []string{"cow", "idiot"} {
		if v.everOverlay(s) {
			t.Errorf("the overlay showed %q at some point", s)
		}
	}
	if ev := v.moderation("x-1"); len(ev) != 1 || ev[0].State != "hidden" {
		t.Errorf("console events of x-1: %+v", ev)
	}
	if len(v.of(broker.ViewAgent)) != 0 || len(v.of(broker.ViewReplies)) != 0 {
		t.Errorf("agent %q / replies %q views got lines", v.of(broker.ViewAgent), v.of(broker.ViewReplies))
	}
}

// Point 3: shared reactions and questions are a crowd, shown; a raid
// (long or shouted text pasted by many) is hidden as flood.copypasta and
// its text never trends.
func TestE2ECopypastaIsARaidNotACrowd(t *testing.T) {
	ta := runApp(t, t.TempDir(), withAgent)
	addr := ta.Addr()
	v := watchViews(t, ta, "show")
	var lines, crowd, raid []string
	n := 0
	add := func(list *[]string, text string, users int) {
		for range users {
			n++
			id := fmt.Sprintf("c-%d", n)
			lines = append(lines, chatLine(id, fmt.Sprintf("u-%d", n), text))
			*list = append(*list, id)
		}
	}
	add(&crowd, "video lag ho raha hai", 5)
	add(&crowd, "your voice is so sweet", 5)
	add(&crowd, "been waiting for this show all week", 5)
	add(&crowd, "XL hai?", 5)
	add(&raid, "THE GOAT OF LIVE SHOPPING 🐐🐐🐐 NOBODY DOES IT LIKE DIDI", 6)
	add(&raid, "if you can read this you are legally required to buy the blue jacket 😤", 6)
	send(t, addr, "show", lines...)
	ds := v.waitDecisions(t, append(append([]string{}, crowd...), raid...)...)
	for _, id := range crowd {
		if d := ds[id]; d.Action != chat.Allow || d.Labels.Has(chat.LabelFlood) {
			t.Errorf("console: crowd line %s %q: %v %v", id, d.Text, d.Action, d.Reasons)
		}
	}
	// The pipeline's shards take the copies in any order: whichever three
	// come first are not yet a raid, every later one is hidden.
	allowed := map[string]int{}
	for _, id := range raid {
		d := ds[id]
		switch {
		case d.Action == chat.Allow:
			allowed[d.Text]++
		case d.Action != chat.Hide || d.Reasons[0].Rule != "flood.copypasta":
			t.Errorf("console: raid copy %s: %v %v", id, d.Action, d.Reasons)
		}
		if strings.Contains(d.Text, "GOAT") && d.Labels.Has(chat.LabelQuestion) {
			t.Errorf("console: the shouted raid is a question: %v", d.Reasons)
		}
	}
	for text, n := range allowed {
		if n > 3 {
			t.Errorf("console: %d copies of %q allowed, want at most 3", n, text)
		}
	}
	eventually(t, 5*time.Second, "the crowd's question on the overlay", func() bool {
		o := v.overlay()
		return len(o.Questions) > 0 && o.Questions[0].Askers == 5 && strings.Contains(o.Questions[0].Text, "XL")
	})
	for _, s := range []string{"GOAT", "legally required"} {
		if v.everOverlay(s) {
			t.Errorf("overlay: raid text %q trended", s)
		}
	}
	if len(v.of(broker.ViewAgent)) != 0 || len(v.of(broker.ViewReplies)) != 0 {
		t.Errorf("agent %q / replies %q views got lines", v.of(broker.ViewAgent), v.of(broker.ViewReplies))
	}
}

// Point 4: undo by rule takes only the hides that rule made, never
// unhides a restricted user's message, and says what it skipped; an
// unknown rule (or one that hides nothing) is 404.
func TestE2EUndoByRuleStaysInItsLane(t *testing.T) {
	ta := runApp(t, t.TempDir(), withAgent)
	addr, base := ta.Addr(), "http://"+ta.Addr()
	v := watchViews(t, ta, "show")
	send(t, addr, "show",
		chatLine("s-1", "u-bot-1", "sub4sub anyone?"),
		chatLine("s-2", "u-bot-2", "follow me for follow back"),
		chatLine("s-3", "u-7", "price?"),
	)
	ds := v.waitDecisions(t, "s-1", "s-2", "s-3")
	if ds["s-1"].Action != chat.Hide || ds["s-2"].Action != chat.Hide {
		t.Fatalf("console: the spam was not hidden: %+v %+v", ds["s-1"], ds["s-2"])
	}
	mustCall(t, "POST", base+"/v1/users/u-bot-1/ban", modSecret, `{"stream":"show"}`, 200)
	for _, rule := range []string{"question.mark", "no.such.rule"} {
		code, body := call(t, "POST", base+"/v1/rules/"+rule+"/undo", modSecret, `{"stream":"show"}`)
		if code != http.StatusNotFound {
			t.Errorf("undo %s: %d %s, want 404", rule, code, body)
		}
	}
	rule := ds["s-2"].Reasons[0].Rule
	var u moderate.Undo
	callJSON(t, "POST", base+"/v1/rules/"+rule+"/undo", modSecret, `{"stream":"show"}`, &u)
	if u.Undone != 1 || u.Events[0].ID != "s-2" || len(u.Skipped) != 1 || u.Skipped[0].ID != "s-1" || !strings.Contains(u.Skipped[0].Reason, "banned") {
		t.Fatalf("undo %s: %+v", rule, u)
	}
	eventually(t, 5*time.Second, "s-2 unhidden on the console", func() bool { return len(v.moderation("s-2")) == 1 })
	for _, e := range v.moderation("s-1") {
		if e.State != "hidden" {
			t.Errorf("console: the banned bot's message changed: %+v", e)
		}
	}
	if v.everOverlay("sub4sub") || len(v.of(broker.ViewAgent)) != 0 || len(v.of(broker.ViewReplies)) != 0 {
		t.Errorf("overlay, agent or replies views got the spam")
	}
}

// Point 5: a ticket keeps the message that opened it however much the
// user chats after, within a byte bound, and the agent view and REST
// carry it first.
func TestE2ETicketKeepsItsOpening(t *testing.T) {
	ta := runApp(t, t.TempDir(), withAgent)
	addr, base := ta.Addr(), "http://"+ta.Addr()
	v := watchViews(t, ta, "show")
	lines := []string{chatLine("t-0", "u-8", "order 3790, wrong item")}
	chatter := []string{"now it's fine", "wow", "+1", strings.Repeat("so long a line ", 100)}
	for i := range 24 {
		lines = append(lines, chatLine(fmt.Sprintf("t-%d", i+1), "u-8", chatter[i%len(chatter)]))
	}
	send(t, addr, "show", lines...)
	v.waitDecisions(t, "t-0", "t-24")
	check := func(where string, tk chat.Ticket) {
		t.Helper()
		size := 0
		for _, m := range tk.Messages[min(tk.Pinned, len(tk.Messages)):] {
			size += len(m.Text)
		}
		if tk.Pinned < 1 || len(tk.Messages) == 0 || tk.Messages[0].Text != "order 3790, wrong item" || len(tk.Messages) > 10 || size > chat.TicketRecentBytes {
			t.Errorf("%s: pinned %d, %d messages (%d bytes after the pinned), first %+v", where, tk.Pinned, len(tk.Messages), size, tk.Messages[:min(1, len(tk.Messages))])
		}
	}
	var page struct{ Handoffs []chat.Ticket }
	eventually(t, 5*time.Second, "the ticket with the chat", func() bool {
		callJSON(t, "GET", base+"/v1/handoffs?stream=show", agentSecret, "", &page)
		return len(page.Handoffs) == 1 && len(page.Handoffs[0].Messages) > 5
	})
	check("GET /v1/handoffs", page.Handoffs[0])
	eventually(t, 5*time.Second, "the ticket on the agent view", func() bool { return len(v.tickets()) == 1 })
	for _, tk := range v.tickets() {
		check("agent view", tk)
	}
	if r := v.repliesTo("u-8"); len(r) != 1 {
		t.Errorf("replies view: %d notices to u-8, want 1", len(r))
	}
	if o := v.overlay(); o.AgentRequests != 0 || len(o.Questions) != 0 {
		t.Errorf("overlay: %+v", o)
	}
}

// Point 6: labels learned from moderators carry the reason's label, or
// unlabeled-hide; train refuses to learn from a handful of examples.
func TestE2ELabelsFromModerators(t *testing.T) {
	dir := t.TempDir()
	ta := runApp(t, dir, withAgent)
	addr, base := ta.Addr(), "http://"+ta.Addr()
	v := watchViews(t, ta, "show")
	send(t, addr, "show",
		chatLine("l-1", "u-9", "love from Bangalore ❤️"),
		chatLine("l-2", "u-10", "you are all losers here"),
		chatLine("l-3", "u-11", "nice show"),
	)
	v.waitDecisions(t, "l-1", "l-2", "l-3")
	mustCall(t, "POST", base+"/v1/messages/l-1/hide", modSecret, `{"stream":"show"}`, 200)
	mustCall(t, "POST", base+"/v1/messages/l-2/hide", modSecret, `{"stream":"show","reason":"toxic: insult"}`, 200)
	mustCall(t, "POST", base+"/v1/messages/l-3/hide", modSecret, `{"stream":"show","reason":"spam"}`, 200)
	eventually(t, 5*time.Second, "three hides on the console", func() bool {
		return len(v.moderation("l-1"))+len(v.moderation("l-2"))+len(v.moderation("l-3")) == 3
	})
	if len(v.of(broker.ViewAgent)) != 0 || len(v.of(broker.ViewReplies)) != 0 || v.everOverlay("Bangalore") {
		t.Errorf("agent, replies or overlay views got lines")
	}
	ta.stop(t)
	out := filepath.Join(t.TempDir(), "labeled.ndjson")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"labels", "export", "--data", dir, "--out", out}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ex struct {
			ID     string
			Labels json.RawMessage
		}
		json.Unmarshal([]byte(l), &ex)
		got[ex.ID] = string(ex.Labels)
	}
	// The reason's label replaces livemod's blocking labels; its others
	// (a question, say) stand.
	for id, want := range map[string]string{"l-1": `"unlabeled-hide"`, "l-2": `"toxic"`, "l-3": `"spam"`} {
		if !strings.Contains(got[id], want) || strings.Contains(got[id], `"spam"`) && want != `"spam"` {
			t.Errorf("labels of %s: %s, want %s", id, got[id], want)
		}
	}
	if strings.Contains(got["l-2"], "unlabeled") || strings.Contains(got["l-1"], `"spam"`) {
		t.Errorf("labels: %v", got)
	}
	stderr.Reset()
	err = run(context.Background(), []string{"train", "--data", out, "--out", filepath.Join(t.TempDir(), "m.bin")}, nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "too few examples") {
		t.Errorf("train on 2 labeled examples: %v", err)
	}
}

// Point 7: a no-op or wrong-state action answers 409 with the state it
// met and writes no second audit entry; an unknown rule is 404.
func TestE2ERESTStateAnswers(t *testing.T) {
	ta := runApp(t, t.TempDir(), withAgent)
	addr, base := ta.Addr(), "http://"+ta.Addr()
	v := watchViews(t, ta, "show")
	send(t, addr, "show", chatLine("r-1", "u-12", "hello all"), chatLine("r-2", "u-13", "agent please, order 4410 damaged"))
	v.waitDecisions(t, "r-1", "r-2")
	conflict := func(method, url, token, body, state string) {
		t.Helper()
		code, got := call(t, method, url, token, body)
		var e struct{ Error, State string }
		json.Unmarshal([]byte(got), &e)
		if code != http.StatusConflict || e.State != state || e.Error == "" {
			t.Errorf("%s %s: %d %s, want 409 naming %q", method, url, code, got, state)
		}
	}
	mustCall(t, "POST", base+"/v1/messages/r-1/hide", modSecret, `{"stream":"show"}`, 200)
	conflict("POST", base+"/v1/messages/r-1/hide", modSecret, `{"stream":"show"}`, "hidden")
	mustCall(t, "POST", base+"/v1/messages/r-1/unhide", modSecret, `{"stream":"show"}`, 200)
	conflict("POST", base+"/v1/messages/r-1/unhide", modSecret, `{"stream":"show"}`, "visible")
	mustCall(t, "POST", base+"/v1/users/u-12/ban", modSecret, `{"stream":"show"}`, 200)
	conflict("POST", base+"/v1/users/u-12/ban", modSecret, `{"stream":"show"}`, "banned")
	code, body := call(t, "POST", base+"/v1/rules/nonsense/undo", modSecret, `{"stream":"show"}`)
	if code != http.StatusNotFound {
		t.Errorf("undo of an unknown rule: %d %s", code, body)
	}
	eventually(t, 5*time.Second, "the ticket", func() bool { return len(v.tickets()) == 1 })
	var id string
	for id = range v.tickets() {
	}
	mustCall(t, "POST", base+"/v1/handoffs/"+id+"/claim", agentSecret, "", 200)
	conflict("POST", base+"/v1/handoffs/"+id+"/claim", agentSecret, "", "claimed")
	mustCall(t, "POST", base+"/v1/handoffs/"+id+"/resolve", agentSecret, "", 200)
	conflict("POST", base+"/v1/handoffs/"+id+"/resolve", agentSecret, "", "resolved")
	conflict("POST", base+"/v1/handoffs/"+id+"/claim", agentSecret, "", "resolved")

	// One audit entry per change, none for the refusals.
	var audit struct {
		Entries []struct{ Action, Target string }
	}
	eventually(t, 5*time.Second, "the audit entries", func() bool {
		callJSON(t, "GET", base+"/v1/audit?stream=&limit=100", adminSecret, "", &audit)
		return len(audit.Entries) >= 5
	})
	count := map[string]int{}
	for _, e := range audit.Entries {
		count[e.Action+" "+e.Target]++
	}
	for _, k := range []string{"hide r-1", "unhide r-1", "ban u-12", "handoff.claim " + id, "handoff.resolve " + id} {
		if count[k] != 1 {
			t.Errorf("audit: %d entries for %q, want 1 (%v)", count[k], k, count)
		}
	}
	// The views saw each change once.
	if ev := v.moderation("r-1"); len(ev) != 3 || ev[2].Reason != "user banned" {
		t.Errorf("console: %d events for r-1, want hide, unhide and the ban's hide: %+v", len(ev), ev)
	}
	eventually(t, 5*time.Second, "the resolved ticket on the agent view", func() bool { return v.tickets()[id].State == "resolved" })
	if r := v.repliesTo("u-13"); len(r) != 1 {
		t.Errorf("replies view: %d notices, want 1", len(r))
	}
}
