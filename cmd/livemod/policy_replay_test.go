package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/policy"
)

const replayChat = `{"id":"1","stream":"shop","user":{"id":"u1"},"text":"WHY IS NOBODY ANSWERING MY QUESTION THIS IS THE WORST STREAM EVER!!!!!!!!","ts":1795000000000}
{"id":"2","stream":"shop","user":{"id":"u2"},"text":"buy cheapfollows here","ts":1795000001000}
{"id":"3","stream":"shop","user":{"id":"u3"},"text":"the blue jacket please, at https://www.shopname.in/blue","ts":1795000002000}
{"id":"4","stream":"shop","user":{"id":"u4"},"text":"check 192.168.4.20:8080/free","ts":1795000003000}
{"id":"5","stream":"shop","user":{"id":"u5"},"text":"love this saree","ts":1795000004000}
`

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReplayWithPolicy(t *testing.T) {
	newp := writeFile(t, "new.yaml", `
policy:
  default:
    blocked: [{term: cheapfollows, reason: "follower sellers"}]
    links: {allow: [shopname.in], action: hide}
    caps: {max_ratio: 0.7, min_length: 15}
`)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"replay", "--policy", newp}, strings.NewReader(replayChat), &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []struct {
		action chat.Action
		rule   string
	}{{chat.Hide, "policy.caps"}, {chat.Hide, "policy.term:cheapfollows"}, {chat.Allow, ""}, {chat.Hide, "policy.links"}, {chat.Allow, ""}}
	for i, w := range want {
		var d chat.Decision
		if err := json.Unmarshal([]byte(lines[i]), &d); err != nil {
			t.Fatal(err)
		}
		rule := ""
		if len(d.Reasons) > 0 && strings.HasPrefix(d.Reasons[0].Rule, "policy.") {
			rule = d.Reasons[0].Rule
		}
		if d.Action != w.action || rule != w.rule {
			t.Errorf("line %d: %v %q (%s); want %v %q", i+1, d.Action, rule, lines[i], w.action, w.rule)
		}
	}
}

func TestReplayDiff(t *testing.T) {
	old := writeFile(t, "old.yaml", "caps: {max_ratio: 0.7, min_length: 15}\n")
	newp := writeFile(t, "new.yaml", `
blocked: [{term: cheapfollows}]
links: {allow: [shopname.in], action: hide}
caps: {max_ratio: 1}
`)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"replay", "--policy", newp, "--diff", old}, strings.NewReader(replayChat), &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	var rep policy.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// Newly hidden: cheapfollows (term); released: the shouting (caps
	// loosened) and the shop's own link; changed: the bare IP, held by
	// the model before, hidden by the link rule now.
	if rep.Messages != 5 || rep.NewlyHidden != 1 || rep.Released != 2 || rep.Changed != 4 {
		t.Fatalf("report %+v", rep)
	}
	by := map[string]policy.RuleChange{}
	for _, r := range rep.Rules {
		by[r.Rule] = r
	}
	if by["policy.term:cheapfollows"].Hidden != 1 || by["policy.links"].Hidden != 1 || by["policy.caps"].Released != 1 || by["link.url"].Released != 1 {
		t.Fatalf("by rule %+v", rep.Rules)
	}
	if ex := by["policy.term:cheapfollows"].Examples; len(ex) != 1 || ex[0].ID != "2" || ex[0].Before != "allow" || ex[0].After != "hide" {
		t.Fatalf("examples %+v", ex)
	}
	if !strings.Contains(errb.String(), "1 newly hidden or held, 2 released, 4 changed") {
		t.Fatalf("stderr %q", errb.String())
	}
	// --diff alone is a usage error.
	if err := run(context.Background(), []string{"replay", "--diff", old}, strings.NewReader(""), &out, &errb); err == nil {
		t.Fatal("--diff without --policy accepted")
	}
}
