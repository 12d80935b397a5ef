package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/policy"
)

// TestPolicyEndToEnd: on a running server a moderator PUTs a policy, the
// next message obeys it, the audit shows the change with its diff, the
// try endpoint reports the difference on recorded chat (posted, and the
// stream's last minutes), a term's timeout is a real desk timeout, and
// the policy survives a restart.
func TestPolicyEndToEnd(t *testing.T) {
	dir := t.TempDir()
	ta := runApp(t, dir, nil)
	addr := ta.Addr()
	base := "http://" + addr
	sub := dial(t, "ws://"+addr+"/v1/subscribe?stream=live&view=moderator", modSecret)
	in := dial(t, "ws://"+addr+"/v1/ingest?stream=live", ingestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		for {
			if _, _, err := in.Read(ctx); err != nil {
				return
			}
		}
	}()
	n := 0
	// send writes one message and returns its decision (other lines of
	// the moderator view, such as snapshots and events, are skipped).
	send := func(user, text string) chat.Decision {
		t.Helper()
		n++
		id := fmt.Sprint("p-", n)
		line := fmt.Sprintf(`{"id":%q,"user":{"id":%q,"name":%q},"text":%q}`, id, user, user, text)
		if err := in.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
			t.Fatal(err)
		}
		for {
			_, b, err := sub.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", id, err)
			}
			for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
				var d chat.Decision
				if json.Unmarshal(l, &d) == nil && d.ID == id {
					return d
				}
			}
		}
	}
	if d := send("u1", "buy cheapfollows here"); d.Action != chat.Allow {
		t.Fatalf("before the policy: %v", d.Action)
	}
	send("u2", "WHAT A LOVELY JACKET I WANT IT NOW")

	// A bad policy is refused with every problem, each with its key.
	code, body := call(t, "PUT", base+"/v1/streams/live/policy", modSecret, `{"caps":{"max_ratio":3},"blocked":[{"regex":"(\\w+\\s*){1,100}"}]}`)
	if code != 400 || !strings.Contains(body, "policy.caps.max_ratio") || !strings.Contains(body, "policy.blocked[0].regex") {
		t.Fatalf("bad policy: %d %s", code, body)
	}

	doc := `{"blocked":[{"term":"cheapfollows","reason":"follower sellers"},{"term":"scammer","action":"timeout","seconds":600}],
	         "caps":{"max_ratio":0.7,"min_length":15},"links":{"allow":["shopname.in"],"action":"hide"}}`
	var res policy.Result
	callJSON(t, "PUT", base+"/v1/streams/live/policy", modSecret, doc, &res)
	if len(res.Changes) == 0 {
		t.Fatalf("put: %+v", res)
	}
	// The next message obeys it.
	if d := send("u1", "buy cheapfollows here"); d.Action != chat.Hide || d.Reasons[0].Rule != "policy.term:cheapfollows" || d.Reasons[0].Detail != "follower sellers" {
		t.Fatalf("after the policy: %v %+v", d.Action, d.Reasons)
	}
	if d := send("u3", "get it at https://shopname.in/blue"); d.Action != chat.Allow {
		t.Fatalf("the shop's own link: %v %+v", d.Action, d.Reasons)
	}
	if d := send("u4", "check 192.168.4.20:8080/free"); d.Action != chat.Hide || d.Reasons[0].Rule != "policy.links" {
		t.Fatalf("a bare IP: %v %+v", d.Action, d.Reasons)
	}
	// Another stream keeps the default (none).
	code, body = get(t, base+"/v1/streams/other/policy", modSecret)
	if code != 200 || strings.Contains(body, "cheapfollows") {
		t.Fatalf("other stream: %d %s", code, body)
	}
	code, body = get(t, base+"/v1/streams/live/policy", modSecret)
	if code != 200 || !strings.Contains(body, `"max_ratio":0.7`) {
		t.Fatalf("get: %d %s", code, body)
	}

	// The audit shows who changed what.
	var audit struct {
		Entries []struct{ Actor, Action, Target, Reason string }
	}
	callJSON(t, "GET", base+"/v1/audit?stream=live", adminSecret, "", &audit)
	found := false
	for _, e := range audit.Entries {
		if e.Action == "policy" && e.Actor == "mods" && e.Target == "live" &&
			strings.Contains(e.Reason, "blocked[term cheapfollows]: set") && strings.Contains(e.Reason, "caps.max_ratio: set 0.7") {
			found = true
		}
	}
	if !found {
		t.Fatalf("audit has no policy change with its diff: %+v", audit.Entries)
	}

	// Try on posted chat: loosening caps releases, a new term hides.
	var rep policy.Report
	callJSON(t, "POST", base+"/v1/streams/live/policy/try", modSecret, `{"policy":{"caps":{"max_ratio":1},"blocked":[{"term":"giveaway"}]},
		"messages":[{"user":{"id":"a"},"text":"THIS IS THE BEST SHOW OF THE YEAR"},{"user":{"id":"b"},"text":"free giveaway at 9"},{"user":{"id":"c"},"text":"nice"}]}`, &rep)
	if rep.Messages != 3 || rep.NewlyHidden != 1 || rep.Released != 1 {
		t.Fatalf("try on posted chat: %+v", rep)
	}
	// Try on the stream's last minutes: the recorded messages above.
	// The proposal is the policy in force and one more term ("blue"):
	// only the shop's message about the blue jacket changes.
	proposal := strings.Replace(doc, `{"term":"cheapfollows"`, `{"term":"blue"},{"term":"cheapfollows"`, 1)
	callJSON(t, "POST", base+"/v1/streams/live/policy/try", modSecret, `{"policy":`+proposal+`,"minutes":5}`, &rep)
	if rep.Messages != 5 || rep.Changed != 1 || rep.NewlyHidden != 1 || rep.Rules[0].Rule != "policy.term:blue" || rep.Rules[0].Examples[0].ID != "p-4" {
		t.Fatalf("try on recent chat: %+v", rep)
	}

	// A term's timeout is the desk's: the user's next message is hidden.
	if d := send("u9", "you scammer"); d.Action != chat.Hide || !strings.Contains(d.Reasons[0].Detail, "timeout 600s") {
		t.Fatalf("timeout term: %v %+v", d.Action, d.Reasons)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, _, ok := ta.Desk.Restricted("u9"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("u9 was not timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// After a restart the stored policy still applies.
	ta.stop(t)
	ta2 := runApp(t, dir, func(c *config.Config) {})
	code, body = get(t, "http://"+ta2.Addr()+"/v1/streams/live/policy", modSecret)
	if code != 200 || !strings.Contains(body, "cheapfollows") {
		t.Fatalf("after restart: %d %s", code, body)
	}
}

// TestSIGHUPReloadsPolicy: a SIGHUP re-reads the config file's policy
// section; the next message obeys it; a bad file changes nothing.
func TestSIGHUPReloadsPolicy(t *testing.T) {
	path := writeFile(t, "livemod.yaml", "policy:\n  default:\n    blocked: [{term: alpha}]\n")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ta := runApp(t, t.TempDir(), func(c *config.Config) { c.Policy = cfg.Policy })
	decide := func(text string) chat.Action {
		return ta.Policy.Decide(&chat.Message{ID: "x", Stream: "s", User: chat.User{ID: "u"}, Text: text, TS: time.Now().UnixMilli()}).Action
	}
	if decide("alpha") != chat.Hide || decide("beta") != chat.Allow {
		t.Fatal("before reload")
	}
	reloaded := make(chan error, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app.WatchReload(ctx, func() { reloaded <- ta.ReloadPolicy(path) })

	if err := os.WriteFile(path, []byte("policy:\n  default:\n    blocked: [{term: beta}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := <-reloaded; err != nil {
		t.Fatal(err)
	}
	if decide("alpha") != chat.Allow || decide("beta") != chat.Hide {
		t.Fatal("after reload: the file's new policy is not in force")
	}
	// A bad file is refused with its keys; the policy in force stays.
	os.WriteFile(path, []byte("policy:\n  default:\n    caps: {max_ratio: 9}\n"), 0o600)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := <-reloaded; err == nil || !strings.Contains(err.Error(), "policy.default.caps.max_ratio") {
		t.Fatalf("bad reload: %v", err)
	}
	if decide("beta") != chat.Hide {
		t.Fatal("a refused reload changed the policy")
	}
}
