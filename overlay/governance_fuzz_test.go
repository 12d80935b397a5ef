package overlay

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/livemod/livemod/auth"
)

// FuzzParseToken: any --token value parses or is refused with an error
// that never shows the secret; a parsed token is valid, limited to the
// streams named, and never an ingest token limited to streams.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"admin=s3cret-value", "moderator:show-a=long-enough-secret", "moderator:show-a+show-b=long-enough-secret",
		"moderator:=long-enough-secret", "ingest:show-a=long-enough-secret", "host:a:b=xxxxxxxxxxxx", "=", ":", "moderator:show-a="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := auth.ParseToken(s)
		if err != nil {
			if _, secret, ok := strings.Cut(s, "="); ok && len(secret) >= 12 && strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q shows the secret", err)
			}
			return
		}
		if tok.Validate() != nil {
			t.Fatalf("parsed %+v is not valid", tok)
		}
		if tok.Role == auth.RoleIngest && len(tok.Streams) > 0 {
			t.Fatalf("a limited ingest token: %+v", tok)
		}
		for _, st := range tok.Streams {
			if st == "" {
				t.Fatalf("an empty stream in %+v", tok)
			}
		}
	})
}

// FuzzAppealBody: any body decodes and is checked without a panic; one
// that passes has every field within its bounds.
func FuzzAppealBody(f *testing.F) {
	for _, s := range []string{`{"stream":"s","user":{"id":"u"},"message_id":"m","text":"please"}`, `{"stream":"s","user":{"id":""},"text":"x"}`,
		`{"stream":"s","user":{"id":"u"},"text":"\xff"}`, `[]`, `{"user":null}`, `{"stream":"` + strings.Repeat("a", 300) + `","user":{"id":"u"},"text":"t"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var in AppealIn
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		if checkAppeal(&in) != "" {
			return
		}
		if in.Stream == "" || len(in.Stream) > 256 || in.User.ID == "" || !utf8.ValidString(in.Text) || utf8.RuneCountInString(in.Text) > MaxAppealText {
			t.Fatalf("accepted out of bounds: %+v", in)
		}
	})
}
