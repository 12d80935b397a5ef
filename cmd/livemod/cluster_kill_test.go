package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/internal/testenv"
)

// startNode runs the real binary as cluster node id over redisURL.
func startNode(t *testing.T, bin, conf, id string) *crashServer {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--config", conf, "--listen", addr, "--data", t.TempDir(), "--node-id", id,
		"--token", "admin="+adminSecret, "--token", "ingest="+ingestSecret,
		"--token", "moderator="+modSecret, "--token", "agent="+agentSecret)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &crashServer{cmd: cmd, base: "http://" + addr}
	t.Cleanup(s.kill)
	eventually(t, 20*time.Second, "node "+id+" answering /healthz", func() bool {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	return s
}

// TestClusterNodeKilled: node A decides a show; a ticket, its claim, a
// STOP and a ban are acknowledged there; A is SIGKILLed at once. Node B
// takes the show over when A's lease lapses: the ticket (claimed) is
// there, the STOP and the ban hold, and every message sent to B for the
// show meanwhile is decided.
func TestClusterNodeKilled(t *testing.T) {
	testenv.SkipShort(t, "builds and runs the binary twice")
	r := testenv.StartRedis(t)
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "livemod.yaml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`redis: %s
cluster:
  lease_ttl: 2s
faq:
  - id: shipping
    match: ["shipping"]
    answer: "{author_name}, shipping takes 3 to 5 days."
`, r.URL())), 0o600)
	a := startNode(t, bin, conf, "a")
	b := startNode(t, bin, conf, "b")

	in := dialIngest(t, a.base, "show")
	in.sendAcked(t, `{"id":"k-1","user":{"id":"buyer","name":"buyer"},"text":"agent please, my order 5521 never arrived"}`, "k-1")
	in.sendAcked(t, `{"id":"k-2","user":{"id":"quiet","name":"quiet"},"text":"STOP"}`, "k-2")
	var list struct {
		Handoffs []chat.Ticket `json:"handoffs"`
	}
	crashGet(t, a.base, "/v1/handoffs?stream=show", agentSecret, &list)
	if len(list.Handoffs) != 1 {
		t.Fatalf("tickets on A: %+v", list.Handoffs)
	}
	id := list.Handoffs[0].ID
	crashPost(t, a.base, "/v1/handoffs/"+id+"/claim", agentSecret, "")
	crashPost(t, a.base, "/v1/users/troll/ban", modSecret, `{"reason":"spam"}`)
	a.kill() // at once after the last 2xx

	// B: a moderator page, then the show's traffic (bridges reconnect).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sub, _, err := websocket.Dial(ctx, strings.Replace(b.base, "http", "ws", 1)+"/v1/subscribe?stream=show&view=moderator",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + modSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.CloseNow()
	rep, _, err := websocket.Dial(ctx, strings.Replace(b.base, "http", "ws", 1)+"/v1/subscribe?stream=show&view=replies",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + modSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.CloseNow()
	decided := map[string]chat.Decision{}
	replies := map[string]bool{}
	read := func(c *websocket.Conn, f func(line []byte)) {
		for {
			_, m, err := c.Read(ctx)
			if err != nil {
				return
			}
			for _, l := range strings.Split(strings.TrimSpace(string(m)), "\n") {
				f([]byte(l))
			}
		}
	}
	got := make(chan chat.Decision, 1024)
	go read(sub, func(l []byte) {
		var d chat.Decision
		if json.Unmarshal(l, &d) == nil && d.ID != "" {
			got <- d
		}
	})
	gotReply := make(chan chat.Reply, 64)
	go read(rep, func(l []byte) {
		var r chat.Reply
		if json.Unmarshal(l, &r) == nil && len(r.InReplyTo) > 0 {
			gotReply <- r
		}
	})
	inB := dialIngest(t, b.base, "show")
	inB.sendAcked(t, `{"id":"k-3","user":{"id":"troll","name":"troll"},"text":"hello again"}`, "k-3")
	inB.sendAcked(t, `{"id":"k-4","user":{"id":"quiet","name":"quiet"},"text":"what is the shipping time?"}`, "k-4")
	inB.sendAcked(t, `{"id":"k-5","user":{"id":"loud","name":"loud"},"text":"what is the shipping time?"}`, "k-5")
	deadline := time.After(30 * time.Second)
	for len(decided) < 3 || !replies["k-5"] {
		select {
		case d := <-got:
			decided[d.ID] = d
		case r := <-gotReply:
			for _, to := range r.InReplyTo {
				replies[to] = true
			}
		case <-deadline:
			t.Fatalf("after A died, B decided %d of 3 and answered %v", len(decided), replies)
		}
	}
	if d := decided["k-3"]; d.Action != chat.Hide || d.Reasons[0].Rule != "user.ban" {
		t.Errorf("the banned user on B: %v %v", d.Action, d.Reasons)
	}
	if replies["k-4"] {
		t.Error("the user who sent STOP on A was answered on B")
	}
	crashGet(t, b.base, "/v1/handoffs?stream=show", agentSecret, &list)
	if len(list.Handoffs) != 1 || list.Handoffs[0].ID != id || list.Handoffs[0].State != chat.TicketClaimed {
		t.Errorf("tickets on B after A died: %+v; want %s claimed", list.Handoffs, id)
	}
}
