package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
)

// TestRetriedMessageIsOneMessage: a bridge that sends the same id four
// times gets four acks and one decision: the ticket lists the message
// once, the KPIs count one message, and a REST hide by its id reaches
// the one decision.
func TestRetriedMessageIsOneMessage(t *testing.T) {
	addr := startApp(t, withAgent)
	base := "http://" + addr
	m := msg("r-1", "ru-1", "agent please, order 4411 was never delivered", 0)
	for range 4 {
		brIngest(t, addr, "rt", m) // each waits for its ack
	}
	decisionsOf(t, base, map[string]string{"r-1": "ru-1"})
	var ex export
	callJSON(t, "GET", base+"/v1/users/ru-1/export", adminSecret, "", &ex)
	if len(ex.Messages) != 1 {
		t.Errorf("the desk holds %d messages for 4 sends of one id, want 1", len(ex.Messages))
	}
	if len(ex.Handoffs) != 1 || len(ex.Handoffs[0].Messages) != 1 {
		t.Fatalf("handoffs = %+v; want one ticket listing r-1 once", ex.Handoffs)
	}
	var k struct {
		MessagesPerSecond float64 `json:"messages_per_second"`
	}
	callJSON(t, "GET", base+"/v1/kpis?stream=rt", adminSecret, "", &k)
	if k.MessagesPerSecond != 1.0/60 {
		t.Errorf("KPI messages per second = %v, want 1/60 (one message in the last minute)", k.MessagesPerSecond)
	}
	if code, body := call(t, "POST", base+"/v1/messages/r-1/hide", modSecret, `{"stream":"rt","reason":"test"}`); code != 200 {
		t.Fatalf("hide r-1: %d %s", code, body)
	}
	callJSON(t, "GET", base+"/v1/users/ru-1/export", adminSecret, "", &ex)
	if len(ex.Messages) != 1 || ex.Messages[0].State != "hidden" {
		t.Errorf("after the hide: %+v, want the one message hidden", ex.Messages)
	}
	_, metrics := get(t, base+"/metrics", adminSecret)
	if !strings.Contains(metrics, "livemod_ingest_duplicates_total 3") {
		t.Error("livemod_ingest_duplicates_total is not 3")
	}
}

// TestRESTFieldHygiene: values that broke things are refused with a 400
// (413 for a body over the limit) that names the rule.
func TestRESTFieldHygiene(t *testing.T) {
	addr := startApp(t, func(c *config.Config) { c.HTTP.MaxBodyBytes = 64 << 10 })
	base := "http://" + addr
	long := strings.Repeat("x", 33<<10)
	cases := []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		{"33 KB user id", "POST", "/v1/users/" + long + "/ban", "", 400, "longer than 128 bytes"},
		{"NUL in a user id", "POST", "/v1/users/a%00b/ban", "", 400, "control character"},
		{"10 KB stream in a body", "POST", "/v1/users/u-1/ban", `{"stream":"` + strings.Repeat("s", 10<<10) + `"}`, 400, "stream: longer than 128 bytes"},
		{"10 KB stream in a query", "GET", "/v1/audit?stream=" + strings.Repeat("s", 10<<10), "", 400, "stream: longer than 128 bytes"},
		{"timeout overflow", "POST", "/v1/users/u-1/timeout", `{"seconds":9223372036854775807}`, 400, "at most 1209600"},
		{"timeout of 15 days", "POST", "/v1/users/u-1/timeout", `{"seconds":1296000}`, 400, "14 days"},
		{"60 KB reason", "POST", "/v1/users/u-1/ban", `{"reason":"` + strings.Repeat("r", 60<<10) + `"}`, 400, "reason: longer than 500 bytes"},
		{"body over the limit", "POST", "/v1/users/u-1/ban", `{"reason":"` + strings.Repeat("r", 70<<10) + `"}`, 413, "http.max_body_bytes"},
		{"invalid UTF-8 body", "POST", "/v1/users/u-1/ban", "{\"reason\":\"caf\xe9\"}", 400, "invalid UTF-8"},
		{"control character in a reason", "POST", "/v1/users/u-1/ban", `{"reason":"a\u0007b"}`, 400, "control character"},
	}
	for _, c := range cases {
		code, body := call(t, c.method, base+c.path, adminSecret, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %.200s, want %d naming %q", c.name, code, body, c.code, c.want)
		}
	}
	// The subscribe websocket takes the same limits.
	code, body := call(t, "GET", base+"/v1/subscribe?view=moderator&stream="+strings.Repeat("s", 10<<10), adminSecret, "")
	if code != 400 || !strings.Contains(body, "longer than 128 bytes") {
		t.Errorf("subscribe with a 10 KB stream: %d %.200s, want 400", code, body)
	}
	// Nothing was stored by the refused calls.
	var ex export
	callJSON(t, "GET", base+"/v1/users/u-1/export", adminSecret, "", &ex)
	if ex.Restriction != nil {
		t.Errorf("a refused call restricted u-1: %+v", ex.Restriction)
	}
	// A good timeout still works, and ends when it says.
	var ev struct {
		Until int64 `json:"until"`
	}
	before := time.Now().UnixMilli()
	callJSON(t, "POST", base+"/v1/users/u-2/timeout", modSecret, `{"seconds":1209600,"reason":"two weeks"}`, &ev)
	if ev.Until < before+1209600_000 || ev.Until > time.Now().UnixMilli()+1209600_000 {
		t.Errorf("14-day timeout ends at %d, want 14 days from now", ev.Until)
	}
}

// waitClosed reads from c until the server closes it or within passes.
func waitClosed(t *testing.T, c net.Conn, within time.Duration, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("%s: still open after %v", what, within)
	}
}

// TestHTTPLimits: a partial request, a trickled body and an idle
// keep-alive are closed by the configured limits; a websocket is not cut
// by the read timeout.
func TestHTTPLimits(t *testing.T) {
	addr := startApp(t, func(c *config.Config) {
		c.HTTP.ReadHeaderTimeout = 200 * time.Millisecond
		c.HTTP.ReadTimeout = 300 * time.Millisecond
		c.HTTP.IdleTimeout = 200 * time.Millisecond
	})
	dialRaw := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	partial := dialRaw()
	fmt.Fprintf(partial, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	waitClosed(t, partial, 5*time.Second, "a request whose headers never end")

	trickle := dialRaw()
	fmt.Fprintf(trickle, "POST /v1/users/u/ban HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100000\r\n\r\n", modSecret)
	go func() {
		for range 100 {
			if _, err := trickle.Write([]byte("{")); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	waitClosed(t, trickle, 5*time.Second, "a body trickled a byte every 50ms")

	idle := dialRaw()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	resp.Body.Close()
	waitClosed(t, idle, 5*time.Second, "an idle keep-alive")

	// A websocket outlives the read timeout.
	in := dial(t, "ws://"+addr+"/v1/ingest?stream=ws", ingestSecret)
	time.Sleep(600 * time.Millisecond) // twice the read timeout: the point of the test
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := in.Write(ctx, websocket.MessageText, []byte(msg("w-1", "wu", "still here", 0))); err != nil {
		t.Fatal(err)
	}
	_, b, err := in.Read(ctx)
	if err != nil || !strings.Contains(string(b), `"upto":"w-1"`) {
		t.Fatalf("ingest after the read timeout: %v %s", err, b)
	}
}

// TestTicketTSClamped: a message with ts=1 opens a ticket at the
// server's time, so the first-response KPI is not 56 years.
func TestTicketTSClamped(t *testing.T) {
	addr := startApp(t, withAgent)
	base := "http://" + addr
	brIngest(t, addr, "ts", `{"id":"t-1","user":{"id":"tu-1","name":"old"},"text":"agent please, order 5521 refund","ts":1}`)
	var list struct{ Handoffs []chat.Ticket }
	eventually(t, 5*time.Second, "a ticket for tu-1", func() bool {
		callJSON(t, "GET", base+"/v1/handoffs?stream=ts", agentSecret, "", &list)
		return len(list.Handoffs) == 1
	})
	callJSON(t, "POST", base+"/v1/handoffs/"+url.PathEscape(list.Handoffs[0].ID)+"/claim", agentSecret, "", new(json.RawMessage))
	var k struct {
		FirstResponseMS struct {
			P90 *int64 `json:"p90"`
		} `json:"first_response_ms"`
	}
	callJSON(t, "GET", base+"/v1/kpis?stream=ts", adminSecret, "", &k)
	if k.FirstResponseMS.P90 == nil || *k.FirstResponseMS.P90 > 60_000 {
		t.Errorf("first response p90 = %v ms, want under a minute", k.FirstResponseMS.P90)
	}
}
