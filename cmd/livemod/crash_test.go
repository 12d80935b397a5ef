package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/livemod/livemod/internal/testenv"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
)

// The crash test runs the real binary, performs each action that is
// acknowledged (a ticket and a STOP through ingest; a claim, a resolve, a
// hide, a ban and a draft decision through REST), sends SIGKILL the
// moment the ack or the 2xx arrives (or a few milliseconds later), starts
// the binary again on the same --data, and looks for what was
// acknowledged, with its audit entry. It does so quiet and under a load
// of other chat on another connection.

const crashConfig = `faq:
  - id: shipping
    match: ["shipping", "when will it arrive"]
    answer: "{author_name}, shipping takes 3 to 5 days."
    approve: true
`

// buildBinary builds livemod once per test binary run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "livemod-crash-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "livemod")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// crashServer is one run of the binary.
type crashServer struct {
	cmd  *exec.Cmd
	base string // http://host:port
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func startBinary(t *testing.T, bin, data, conf string) *crashServer {
	t.Helper()
	for attempt := 0; ; attempt++ {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "--config", conf, "--listen", addr, "--data", data,
			"--token", "admin="+adminSecret, "--token", "ingest="+ingestSecret,
			"--token", "moderator="+modSecret, "--token", "agent="+agentSecret)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s := &crashServer{cmd: cmd, base: "http://" + addr}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			resp, err := http.Get(s.base + "/healthz")
			if err == nil {
				resp.Body.Close()
				return s
			}
			time.Sleep(20 * time.Millisecond)
		}
		s.kill()
		if attempt == 2 {
			t.Fatalf("livemod did not answer /healthz on %s", addr)
		}
	}
}

// kill sends SIGKILL and reaps the process.
func (s *crashServer) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
}

// ingestConn is an ingest websocket that reads acks.
type crashIngest struct {
	c  *websocket.Conn
	rd chan string // frames read
}

func dialIngest(t *testing.T, base, streamID string) *crashIngest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := strings.Replace(base, "http://", "ws://", 1) + "/v1/ingest?stream=" + url.QueryEscape(streamID)
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + ingestSecret}}})
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	in := &crashIngest{c: c, rd: make(chan string, 1024)}
	go func() {
		defer close(in.rd)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			in.rd <- string(b)
		}
	}()
	return in
}

// send writes one frame and waits for the ack that covers id.
func (in *crashIngest) sendAcked(t *testing.T, frame, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := in.c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case f, ok := <-in.rd:
			if !ok {
				t.Fatalf("connection closed before the ack of %s", id)
			}
			for _, line := range strings.Split(f, "\n") {
				if strings.Contains(line, `"type":"error"`) {
					t.Fatalf("error frame for %s: %s", id, line)
				}
				if strings.Contains(line, `"upto":"`+id+`"`) {
					return
				}
			}
		case <-ctx.Done():
			t.Fatalf("no ack for %s", id)
		}
	}
}

// load sends chat on its own connection until stop is closed: frames of
// 20 messages, some of which open tickets, as fast as acks come back.
func crashLoad(t *testing.T, base, streamID string, stop <-chan struct{}, sent *atomic.Int64) {
	in := dialIngest(t, base, streamID)
	defer in.c.CloseNow()
	texts := []string{"great show!", "how much is the jacket?", "agent please, order 77%d is late", "lol", "where is my refund for order 88%d", "love it"}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		var b strings.Builder
		for j := range 20 {
			n := i*20 + j
			fmt.Fprintf(&b, `{"id":"load-%d","user":{"id":"lu-%d"},"text":%q}`+"\n", n, n%500, fmt.Sprintf(texts[n%len(texts)], n%100))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := in.c.Write(ctx, websocket.MessageText, []byte(b.String()))
		cancel()
		if err != nil {
			return // the server was killed
		}
		sent.Add(20)
		select { // keep a window of a few frames
		case _, ok := <-in.rd:
			if !ok {
				return
			}
		case <-stop:
			return
		case <-time.After(time.Second):
		}
	}
}

func crashGet(t *testing.T, base, path, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(bufio.NewReader(resp.Body)).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func crashPost(t *testing.T, base, path, token, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
}

func ticketsOf(t *testing.T, base, streamID string) map[string]chat.Ticket {
	t.Helper()
	var list struct{ Handoffs []chat.Ticket }
	crashGet(t, base, "/v1/handoffs?limit=1000&stream="+streamID, agentSecret, &list)
	out := map[string]chat.Ticket{}
	for _, tk := range list.Handoffs {
		out[tk.User.ID] = tk
	}
	return out
}

func hasAudit(t *testing.T, base, streamID, action, target string) bool {
	t.Helper()
	var aud struct{ Entries []store.AuditEntry }
	crashGet(t, base, "/v1/audit?limit=1000&stream="+streamID, adminSecret, &aud)
	q := "/v1/audit?limit=1000&user=" + url.QueryEscape(target)
	var byUser struct{ Entries []store.AuditEntry }
	crashGet(t, base, q, adminSecret, &byUser)
	for _, e := range append(aud.Entries, byUser.Entries...) {
		if e.Action == action && e.Target == target {
			return true
		}
	}
	return false
}

func TestAcknowledgedSurvivesSIGKILL(t *testing.T) {
	testenv.SkipShort(t, "runs the real binary and kills it ~40 times")
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "livemod.yaml")
	if err := os.WriteFile(conf, []byte(crashConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, load := range []bool{false, true} {
		for _, after := range []time.Duration{0, time.Millisecond, 10 * time.Millisecond} {
			name := fmt.Sprintf("quiet/kill+%v", after)
			if load {
				name = fmt.Sprintf("load/kill+%v", after)
			}
			t.Run(name, func(t *testing.T) { crashRound(t, bin, conf, load, after) })
		}
	}
}

// crashRound performs every action once, each followed by a SIGKILL after
// the given delay and a restart, and checks each survived.
func crashRound(t *testing.T, bin, conf string, load bool, after time.Duration) {
	data := t.TempDir()
	const st = "show"
	var srv *crashServer
	var stopLoad chan struct{}
	var loadWG sync.WaitGroup
	var loadSent atomic.Int64
	start := func() {
		srv = startBinary(t, bin, data, conf)
		if load {
			stopLoad = make(chan struct{})
			loadWG.Add(1)
			go func() { defer loadWG.Done(); crashLoad(t, srv.base, st, stopLoad, &loadSent) }()
			// Let the load run before the action.
			deadline := time.Now().Add(5 * time.Second)
			for n := loadSent.Load(); loadSent.Load() < n+200 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	// crash kills the server `after` the acknowledgement and starts it
	// again on the same data.
	crash := func() {
		if after > 0 {
			time.Sleep(after)
		}
		srv.kill()
		if load {
			close(stopLoad)
			loadWG.Wait()
		}
		start()
	}
	t.Cleanup(func() {
		if srv != nil {
			srv.kill()
		}
		if stopLoad != nil {
			select {
			case <-stopLoad:
			default:
				close(stopLoad)
			}
			loadWG.Wait()
		}
	})
	start()

	// 1. A ticket, acknowledged through ingest.
	in := dialIngest(t, srv.base, st)
	in.sendAcked(t, `{"id":"c-1","user":{"id":"cu-1","name":"asha"},"text":"agent please, my order 5521 needs a refund"}`, "c-1")
	crash()
	tk, ok := ticketsOf(t, srv.base, st)["cu-1"]
	if !ok {
		t.Fatal("the acknowledged ticket of cu-1 is gone after SIGKILL")
	}

	// 2. A STOP, acknowledged through ingest.
	in = dialIngest(t, srv.base, st)
	in.sendAcked(t, `{"id":"c-2","user":{"id":"cu-2","name":"ravi"},"text":"STOP"}`, "c-2")
	crash()
	var ex export
	crashGet(t, srv.base, "/v1/users/cu-2/export", adminSecret, &ex)
	if ex.OptOut == nil || !ex.OptOut.Out {
		t.Fatalf("the acknowledged STOP of cu-2 is gone after SIGKILL: %+v", ex.OptOut)
	}

	// 3. A claim.
	crashPost(t, srv.base, "/v1/handoffs/"+tk.ID+"/claim", agentSecret, "")
	crash()
	if got := ticketsOf(t, srv.base, st)["cu-1"]; got.State != chat.TicketClaimed {
		t.Fatalf("claimed ticket %s is %q after SIGKILL", tk.ID, got.State)
	}
	if !hasAudit(t, srv.base, "", "handoff.claim", tk.ID) {
		t.Fatalf("the claim of %s has no audit entry after SIGKILL", tk.ID)
	}

	// 4. A resolve.
	crashPost(t, srv.base, "/v1/handoffs/"+tk.ID+"/resolve", agentSecret, "")
	crash()
	if got := ticketsOf(t, srv.base, st)["cu-1"]; got.State != chat.TicketResolved {
		t.Fatalf("resolved ticket %s is %q after SIGKILL", tk.ID, got.State)
	}
	if !hasAudit(t, srv.base, "", "handoff.resolve", tk.ID) {
		t.Fatalf("the resolve of %s has no audit entry after SIGKILL", tk.ID)
	}

	// 5. A hide of a message just taken.
	in = dialIngest(t, srv.base, st)
	in.sendAcked(t, `{"id":"c-5","user":{"id":"cu-5","name":"meera"},"text":"this product is meh"}`, "c-5")
	crashPost(t, srv.base, "/v1/messages/c-5/hide", modSecret, `{"stream":"show","reason":"off topic"}`)
	crash()
	if !hasAudit(t, srv.base, st, "hide", "c-5") {
		t.Fatal("the hide of c-5 has no audit entry after SIGKILL")
	}

	// 6. A ban.
	crashPost(t, srv.base, "/v1/users/cu-6/ban", modSecret, `{"stream":"show","reason":"spam"}`)
	crash()
	crashGet(t, srv.base, "/v1/users/cu-6/export", adminSecret, &ex)
	if ex.Restriction == nil || ex.Restriction.Until != 0 {
		t.Fatalf("the ban of cu-6 is gone after SIGKILL: %+v", ex.Restriction)
	}
	if !hasAudit(t, srv.base, st, "ban", "cu-6") {
		t.Fatal("the ban of cu-6 has no audit entry after SIGKILL")
	}

	// 7. A draft decision: a question whose FAQ answer needs approval.
	in = dialIngest(t, srv.base, st)
	in.sendAcked(t, `{"id":"c-7","user":{"id":"cu-7","name":"dev"},"text":"how long does shipping take?"}`, "c-7")
	var drafts struct{ Drafts []chat.Draft }
	deadline := time.Now().Add(10 * time.Second)
	for len(drafts.Drafts) == 0 && time.Now().Before(deadline) {
		crashGet(t, srv.base, "/v1/replies/drafts?state=pending&stream="+st, modSecret, &drafts)
		if len(drafts.Drafts) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if len(drafts.Drafts) == 0 {
		t.Fatal("no draft for the shipping question")
	}
	id := drafts.Drafts[0].ID
	crashPost(t, srv.base, "/v1/replies/drafts/"+id+"/approve", modSecret, `{"reason":"fine"}`)
	crash()
	if !hasAudit(t, srv.base, "", "reply.approve", id) {
		t.Fatalf("the approval of draft %s has no audit entry after SIGKILL", id)
	}
	if load && loadSent.Load() == 0 {
		t.Error("the load sent nothing")
	}
}
