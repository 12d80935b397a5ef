package overlay

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/livemod/livemod/auth"
)

// TestDeniedPages: a page asked for without a token, with an unknown one
// or with one of another role answers an HTML page that says which (not
// JSON), with how to get a working link; the right token gets the page.
func TestDeniedPages(t *testing.T) {
	t.Parallel()
	auth, err := NewAuth([]auth.Token{{Name: "mods", Role: auth.RoleModerator, Secret: "moderator-secret"}, {Name: "host", Role: auth.RoleHost, Secret: "host-secret-1"}})
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Options{Auth: auth})
	RegisterPages(s)
	for _, c := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/moderator", 401, []string{`data-kind="missing"`, "This link has no token", "the moderator console (/moderator) needs a token", "livemod demo"}},
		{"/moderator?token=guess-guess", 401, []string{`data-kind="unknown"`, "not known to this server"}},
		{"/moderator?token=host-secret-1", 403, []string{`data-kind="role"`, "cannot open the moderator console", "<b>host</b>", "moderator, admin", `href="/?token=host-secret-1"`}},
		{"/moderator/tools?token=host-secret-1", 403, []string{"cannot open the moderator tools"}},
		{"/", 401, []string{"the index of pages (/) needs a token"}},
		{"/?token=host-secret-1", 200, []string{`<script src="/static/index.js"`}},
		{"/moderator?token=moderator-secret", 200, []string{`<script src="/static/moderator.js"`}},
		{"/moderator/tools?token=moderator-secret", 200, []string{`<script src="/static/tools.js"`}},
		{"/overlay/s%3Cb%3E", 401, []string{"/overlay/s&lt;b&gt;"}}, // the path is escaped
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != c.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || rec.Header().Get("Content-Security-Policy") != PageCSP {
			t.Errorf("GET %s: %d %q, want %d text/html with the CSP", c.path, rec.Code, rec.Header().Get("Content-Type"), c.status)
		}
		for _, w := range c.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("GET %s lacks %q", c.path, w)
			}
		}
		if strings.Contains(string(body), "guess-guess") {
			t.Errorf("GET %s echoes an unknown token", c.path)
		}
	}
	// Per-stream pages without a stream lead to the index, token kept.
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/host/?token=host-secret-1&lang=hi", nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/?token=host-secret-1&lang=hi" {
		t.Errorf("GET /host/: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	// REST keeps answering JSON.
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("REST without token: %d %s", rec.Code, rec.Body.String())
	}
}
