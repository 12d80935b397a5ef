package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/store"
)

// govBinary builds livemod once for the governance tests.
var govBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "livemod-gov-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "livemod")
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

const govScopedSecret = "show-a-only-moderator"

// govConfig makes shipping questions drafts that wait for a moderator.
const govConfig = `review:
  share: 1
faq:
  - id: shipping
    match: ["shipping", "when will it arrive"]
    answer: "{author_name}, shipping takes 3 to 5 days."
    approve: true
`

type govServer struct {
	cmd  *exec.Cmd
	base string
}

// startGov runs the binary on data with the test tokens and a moderator
// token limited to show-a given on the command line.
func startGov(t *testing.T, bin, data string) *govServer {
	t.Helper()
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		conf := filepath.Join(data, "..", filepath.Base(data)+".yaml")
		if err := os.WriteFile(conf, []byte(govConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", "--config", conf, "--listen", addr, "--data", data,
			"--token", "admin="+adminSecret, "--token", "ingest="+ingestSecret,
			"--token", "moderator="+modSecret, "--token", "host="+hostSecret, "--token", "moderator:show-a="+govScopedSecret)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s := &govServer{cmd: cmd, base: "http://" + addr}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if code, _ := govCall(s.base+"/readyz", "GET", adminSecret, ""); code == 200 {
				t.Cleanup(s.kill)
				return s
			}
			time.Sleep(20 * time.Millisecond)
		}
		s.kill()
		if attempt == 2 {
			t.Fatalf("livemod did not become ready on %s", addr)
		}
	}
}

func (s *govServer) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	}
}

func govCall(url, method, token, body string) (int, string) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// readUntil reads lines of a subscription until one holds every want.
func readUntil(t *testing.T, c *websocket.Conn, what string, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			ok := l != ""
			for _, w := range want {
				ok = ok && strings.Contains(l, w)
			}
			if ok {
				return
			}
		}
	}
}

// TestGovernanceOnBinary runs the real binary: a moderator hides a
// message, the viewer appeals through the bridge, the moderator
// overturns, and the message is visible again on the console; each step
// is audited, and the question leaves the overlay and comes back. A moderator token limited to show-a is refused (403) on
// show-b's REST, websocket and page. The binary is SIGKILLed right after
// an acknowledged overturn and an acknowledged appeal; both are there
// after the restart. `livemod audit verify` passes on the data, then
// fails once a byte of an entry is changed on disk.
func TestGovernanceOnBinary(t *testing.T) {
	bin, err := govBinary()
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	s := startGov(t, bin, data)
	ws := strings.Replace(s.base, "http://", "ws://", 1)

	console := dial(t, ws+"/v1/subscribe?stream=show-b&view=moderator", modSecret)
	brIngest(t, strings.TrimPrefix(s.base, "http://"), "show-b", msg("m-1", "viewer-1", "is the blue one in stock?", 0))
	readUntil(t, console, "m-1 on the console", `"m-1"`)
	overlay := dial(t, ws+"/v1/subscribe?stream=show-b&view=overlay", hostSecret)
	readUntil(t, overlay, "the question on the overlay", "blue one in stock")

	if code, body := govCall(s.base+"/v1/messages/m-1/hide", "POST", modSecret, `{"stream":"show-b","reason":"looked like spam"}`); code != 200 {
		t.Fatalf("hide: %d %s", code, body)
	}
	readUntil(t, console, "m-1 hidden on the console", `"type":"moderation"`, `"m-1"`, `"state":"hidden"`)
	readUntil(t, overlay, "the question off the overlay", `"questions":[]`)
	code, body := govCall(s.base+"/v1/appeals", "POST", ingestSecret, `{"stream":"show-b","user":{"id":"viewer-1"},"message_id":"m-1","text":"I only asked about stock"}`)
	var ap struct{ ID string }
	if code != 200 || json.Unmarshal([]byte(body), &ap) != nil || ap.ID == "" {
		t.Fatalf("appeal: %d %s", code, body)
	}
	if code, body := govCall(s.base+"/v1/appeals/"+ap.ID+"/overturn", "POST", modSecret, `{"reason":"a fair question"}`); code != 200 || !strings.Contains(body, `"state":"overturned"`) {
		t.Fatalf("overturn: %d %s", code, body)
	}
	readUntil(t, console, "m-1 visible again on the console", `"type":"moderation"`, `"m-1"`, `"state":"visible"`)
	readUntil(t, overlay, "the question back on the overlay", "blue one in stock")

	// Two drafts (acknowledged with their messages); one approved.
	brIngest(t, strings.TrimPrefix(s.base, "http://"), "show-b", msg("q-1", "asker-1", "how long does shipping take?", 0))
	var drafts struct {
		Drafts []struct{ ID, State string }
	}
	code, body = govCall(s.base+"/v1/replies/drafts?stream=show-b", "GET", modSecret, "")
	if json.Unmarshal([]byte(body), &drafts); code != 200 || len(drafts.Drafts) != 1 {
		t.Fatalf("drafts: %d %s; want one pending", code, body)
	}
	approved := drafts.Drafts[0].ID
	if code, body := govCall(s.base+"/v1/replies/drafts/"+approved+"/approve", "POST", modSecret, `{}`); code != 200 {
		t.Fatalf("approve draft: %d %s", code, body)
	}
	brIngest(t, strings.TrimPrefix(s.base, "http://"), "show-b", msg("q-2", "asker-2", "when will it arrive, shipping to Pune?", 0))

	// A sampled automatic hide, marked wrong (acknowledged).
	brIngest(t, strings.TrimPrefix(s.base, "http://"), "show-b", msg("sp-1", "spammer", "FREE followers at bit.ly/xyz", 0))
	var revs struct{ Reviews []store.Review }
	code, body = govCall(s.base+"/v1/reviews?stream=show-b&state=open", "GET", modSecret, "")
	// At a share of one, the approved draft's reply is sampled too.
	if json.Unmarshal([]byte(body), &revs); code != 200 || len(revs.Reviews) != 2 || revs.Reviews[0].Action != "reply" || revs.Reviews[1].MessageID != "sp-1" {
		t.Fatalf("reviews: %d %s; want the reply and sp-1's hide", code, body)
	}
	review := revs.Reviews[1].ID
	if code, body := govCall(s.base+"/v1/reviews/"+review+"/wrong", "POST", modSecret, `{"note":"the channel's own giveaway"}`); code != 200 {
		t.Fatalf("mark review: %d %s", code, body)
	}

	// A second appeal, acknowledged, then SIGKILL at once.
	code, body = govCall(s.base+"/v1/appeals", "POST", ingestSecret, `{"stream":"show-b","user":{"id":"viewer-2"},"text":"why was I timed out?"}`)
	var ap2 struct{ ID string }
	if code != 200 || json.Unmarshal([]byte(body), &ap2) != nil {
		t.Fatalf("second appeal: %d %s", code, body)
	}

	// The limited token, before the kill: REST, websocket, page.
	if code, _ := govCall(s.base+"/v1/audit?stream=show-b", "GET", govScopedSecret, ""); code != 403 {
		t.Errorf("limited token on show-b's audit: %d, want 403", code)
	}
	if code, _ := govCall(s.base+"/v1/appeals/"+ap2.ID+"/uphold", "POST", govScopedSecret, `{"reason":"no"}`); code != 403 {
		t.Errorf("limited token deciding show-b's appeal: %d, want 403", code)
	}
	if code, body := govCall(s.base+"/moderator?stream=show-b&token="+govScopedSecret, "GET", "", ""); code != 403 || !strings.Contains(body, "limited to the streams show-a") {
		t.Errorf("limited token on show-b's console page: %d, want 403 and the denied page", code)
	}
	if code, _ := govCall(s.base+"/moderator?stream=show-a&token="+govScopedSecret, "GET", "", ""); code != 200 {
		t.Errorf("limited token on show-a's console page: %d, want 200", code)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, res, err := websocket.Dial(wctx, ws+"/v1/subscribe?stream=show-b&view=moderator", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + govScopedSecret}}})
	wcancel()
	if err == nil || res == nil || res.StatusCode != 403 {
		t.Errorf("limited token subscribing to show-b: %v; want 403", err)
	}
	s.kill()

	s = startGov(t, bin, data)
	var list struct{ Appeals []store.Appeal }
	code, body = govCall(s.base+"/v1/appeals?stream=show-b", "GET", modSecret, "")
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Appeals) != 2 ||
		list.Appeals[0].ID != ap.ID || list.Appeals[0].State != "overturned" || list.Appeals[1].ID != ap2.ID || list.Appeals[1].State != "open" {
		t.Fatalf("appeals after SIGKILL: %d %s; want %s overturned and %s open", code, body, ap.ID, ap2.ID)
	}
	code, body = govCall(s.base+"/v1/replies/drafts?stream=show-b", "GET", modSecret, "")
	drafts.Drafts = nil
	json.Unmarshal([]byte(body), &drafts)
	states := map[string]string{}
	for _, d := range drafts.Drafts {
		states[d.ID] = d.State
	}
	if len(drafts.Drafts) != 2 || states[approved] != "approved" {
		t.Errorf("drafts after SIGKILL: %s; want %s approved and a second one pending", body, approved)
	}
	code, body = govCall(s.base+"/v1/reviews?stream=show-b", "GET", modSecret, "")
	revs.Reviews = nil
	json.Unmarshal([]byte(body), &revs)
	if len(revs.Reviews) != 2 || revs.Reviews[1].ID != review || revs.Reviews[1].State != "wrong" {
		t.Errorf("reviews after SIGKILL: %s; want %s marked wrong", body, review)
	}
	code, body = govCall(s.base+"/v1/audit?stream=show-b&limit=100", "GET", adminSecret, "")
	var aud struct{ Entries []store.AuditEntry }
	json.Unmarshal([]byte(body), &aud)
	seen := map[string]int{}
	for _, e := range aud.Entries {
		seen[e.Action]++
	}
	if seen["hide"] != 2 || seen["appeal.create"] != 2 || seen["appeal.overturn"] != 1 || seen["unhide"] != 1 || seen["review.wrong"] != 1 || seen["reply.approve"] != 1 {
		t.Errorf("audit of show-b after SIGKILL: %v; want 2 hide (the moderator's and the automatic), 2 appeal.create, appeal.overturn, unhide, review.wrong, reply.approve", seen)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()

	out, err := exec.Command(bin, "audit", "verify", "--data", data).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok: ") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	path := filepath.Join(data, "livemod.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old := []byte(`"action":"appeal.overturn"`)
	if !bytes.Contains(b, old) {
		t.Fatal("no appeal.overturn entry in the file")
	}
	os.WriteFile(path, bytes.ReplaceAll(b, old, []byte(`"action":"appeal.overturm"`)), 0o600)
	out, err = exec.Command(bin, "audit", "verify", "--data", data).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "BROKEN at entry") {
		t.Fatalf("audit verify after changing a byte: %v\n%s", err, out)
	}
}
