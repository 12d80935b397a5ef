package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
)

func postMessages(t *testing.T, r *rig, stream, body string) (int, messagesAnswer, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/v1/messages?stream="+stream, strings.NewReader(body))
	r.ingest.ServeMessages(rec, req)
	var ans messagesAnswer
	json.Unmarshal(rec.Body.Bytes(), &ans)
	return rec.Code, ans, rec.Body.String()
}

// TestHTTPIngest: POST /v1/messages takes NDJSON with the websocket's
// admission and per-line errors: good lines are decided, bad ones are
// answered by line and id, and the rest of the body is not lost.
func TestHTTPIngest(t *testing.T) {
	sink := &recordSink{}
	r := newRigSinks(t, IngestOptions{MaxFrameBytes: 4096, MaxMessagesPerFrame: 8}, HubOptions{}, func(*Hub) []Sink { return []Sink{sink} })
	body := strings.Join([]string{
		`{"id":"h-1","platform":"kick","channel":"show","user":{"id":"u-1","name":"asha"},"text":"how much is the blue jacket?"}`,
		`{"id":"h-2","user":{"id":"u-2"},"text":""}`,
		`not json`,
		`{"id":"h-3","stream":"other","user":{"id":"u-3"},"text":"hi"}`,
		`{"user":{"id":"u-4"},"text":"FREE followers at bit.ly/xyz"}`,
	}, "\n")
	code, ans, raw := postMessages(t, r, "show", body)
	if code != 200 || ans.Accepted != 2 || len(ans.Errors) != 3 {
		t.Fatalf("%d %s", code, raw)
	}
	for i, want := range []string{`"id":"h-2","line":2,"error":"text: empty"`, `"line":3,"error":"json: `, `"id":"h-3","line":4,"error":"stream: \"other\" does not match`} {
		if !strings.Contains(string(ans.Errors[i]), want) {
			t.Errorf("error %d = %s, want %s", i, ans.Errors[i], want)
		}
	}
	if !strings.HasPrefix(ans.Upto, "lm-") {
		t.Errorf("upto %q: want the server-given id of the last line", ans.Upto)
	}
	checkFor(t, 5*time.Second, func() error {
		if n := len(sink.decisions()); n != 2 {
			return fmt.Errorf("%d decisions", n)
		}
		return nil
	})
	d := sink.decisions()
	byID := map[string]chat.Decision{d[0].ID: d[0], d[1].ID: d[1]}
	if h := byID["h-1"]; h.Platform != "kick" || h.Channel != "show" || h.Stream != "show" {
		t.Errorf("h-1 decided as %+v", h)
	}

	for _, c := range []struct {
		stream, body string
		code         int
		want         string
	}{
		{"", `{}`, 400, "stream: missing"},
		{"show", strings.Repeat("x", 5000), 413, "ingest.max_frame_bytes"},
		{"show", `{"id":"x","user":{"id":"u"},"text":""}`, 400, "text: empty"},
		{"show", strings.Repeat(`{"user":{"id":"u"},"text":"hi"}`+"\n", 9), 200, "max_messages_per_frame"},
	} {
		code, _, raw := postMessages(t, r, c.stream, c.body)
		if code != c.code || !strings.Contains(raw, c.want) {
			t.Errorf("POST %q: %d %s, want %d with %q", c.body[:min(len(c.body), 30)], code, raw, c.code, c.want)
		}
	}
}

// TestAcceptIsAdmit: what connectors submit passes the same admission.
func TestAcceptIsAdmit(t *testing.T) {
	sink := &recordSink{}
	r := newRigSinks(t, IngestOptions{}, HubOptions{}, func(*Hub) []Sink { return []Sink{sink} })
	msgs := []*chat.Message{
		{ID: "t-1", Platform: "twitch", Channel: "show", User: chat.User{ID: "42"}, Text: "hello"},
		{ID: "t-2", Platform: "twitch", User: chat.User{ID: "42"}, Text: "  "},
	}
	refused, err := r.ingest.Accept(context.Background(), "show", msgs)
	if err != nil || len(refused) != 1 || refused[1] != "text: empty" {
		t.Fatalf("refused %v, err %v", refused, err)
	}
	if msgs[0].Stream != "show" || msgs[0].TS == 0 {
		t.Fatalf("admitted as %+v", msgs[0])
	}
	checkFor(t, 5*time.Second, func() error {
		if n := len(sink.decisions()); n != 1 {
			return fmt.Errorf("%d decisions", n)
		}
		return nil
	})
}

// TestHTTPIngestAnswersDecidedOnce: the 200 comes after the messages were
// decided (as an ack does), and a resent id is answered without being
// decided again.
func TestHTTPIngestAnswersDecidedOnce(t *testing.T) {
	sink := &recordSink{}
	r := newRigSinks(t, IngestOptions{DedupWindow: time.Minute}, HubOptions{}, func(*Hub) []Sink { return []Sink{sink} })
	body := `{"id":"r-1","user":{"id":"u-1"},"text":"agent please, order 1234 never arrived"}`
	for i := range 3 {
		code, ans, raw := postMessages(t, r, "show", body)
		if code != 200 || ans.Accepted != 1 || ans.Upto != "r-1" {
			t.Fatalf("post %d: %d %s", i, code, raw)
		}
		if n := len(sink.decisions()); n != 1 {
			t.Fatalf("after post %d answered: %d decisions, want 1 (decided before the answer, once)", i, n)
		}
	}
}
