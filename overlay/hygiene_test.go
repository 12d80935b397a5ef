package overlay

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/chat"
)

// FuzzReadBody: a body readBody accepts is UTF-8 JSON whose ids obey
// chat.CheckID and whose reason is bounded; anything else is a 4xx
// with a message, never a panic.
func FuzzReadBody(f *testing.F) {
	for _, s := range []string{
		`{"reason":"spam","stream":"show"}`, `{"seconds":600}`, ``, `   `, `null`, `[1]`,
		`{"stream":"a\u0000b"}`, "{\"reason\":\"caf\xe9\"}", `{"reason":"` + strings.Repeat("r", MaxReasonBytes+1) + `"}`,
		`{"seconds":9223372036854775807}`, `{"user":"` + strings.Repeat("u", 200) + `"}`, `{"reason":"a\u0007"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var body struct {
			Reason  string `json:"reason"`
			Stream  string `json:"stream"`
			User    string `json:"user"`
			Seconds int    `json:"seconds"`
		}
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/v1/x", strings.NewReader(string(b)))
		r.Body = http.MaxBytesReader(w, r.Body, auth.DefaultMaxBodyBytes)
		if !readBody(w, r, &body) {
			if w.Code < 400 || w.Code > 499 {
				t.Fatalf("refused with %d", w.Code)
			}
			var e struct{ Error string }
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("refusal without an error message: %q", w.Body.String())
			}
			return
		}
		if !utf8.Valid(b) {
			t.Fatalf("accepted invalid UTF-8 %q", b)
		}
		for name, v := range map[string]string{"stream": body.Stream, "user": body.User} {
			if err := chat.CheckID(name, v); err != nil {
				t.Fatalf("accepted %s %q: %v", name, v, err)
			}
		}
		if len(body.Reason) > MaxReasonBytes {
			t.Fatalf("accepted a reason of %d bytes", len(body.Reason))
		}
	})
}

func TestCheckRequest(t *testing.T) {
	for _, c := range []struct {
		target string
		ok     bool
	}{
		{"/v1/users/u-1/ban", true},
		{"/v1/users/" + strings.Repeat("x", 129) + "/ban", false},
		{"/v1/users/a%00b/ban", false},
		{"/v1/users/a%C2%85b/ban", false},
		{"/v1/users/a%FFb/ban", false},
		{"/v1/audit?stream=" + strings.Repeat("s", 129), false},
		{"/v1/audit?user=a%01", false},
		{"/v1/audit?stream=show&since=1", true},
	} {
		err := checkRequest(httptest.NewRequest("GET", c.target, nil))
		if (err == nil) != c.ok {
			t.Errorf("%.60s: %v, want ok=%v", c.target, err, c.ok)
		}
	}
}
