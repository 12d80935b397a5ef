package overlay

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/livemod/livemod/auth"
)

// TestCommitFailureIs503: a change whose commit to the store fails is
// answered 503 "not saved" instead of the handler's 200; a refusal is
// sent as it is (nothing to commit), and a read never waits for a
// commit. (docs/openapi.yaml documents the 503 on every change.)
func TestCommitFailureIs503(t *testing.T) {
	t.Parallel()
	au, err := NewAuth([]auth.Token{{Name: "mods", Role: auth.RoleModerator, Secret: "moderator-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	commits := 0
	s := NewServer(Options{Auth: au, Commit: func(context.Context) error { commits++; return errors.New("disk full") }})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	})
	s.Handle("POST /v1/change", ok, auth.RoleModerator)
	s.Handle("POST /v1/refused", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeError(w, http.StatusConflict, "no") }), auth.RoleModerator)
	s.Handle("GET /v1/read", ok, auth.RoleModerator)
	for _, c := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/v1/change", 503, "not saved: disk full"},
		{"POST", "/v1/refused", 409, "no"},
		{"GET", "/v1/read", 200, `"ok":"yes"`},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		req.Header.Set("Authorization", "Bearer moderator-secret")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s %s: %d %s; want %d with %q", c.method, c.path, rec.Code, rec.Body, c.status, c.body)
		}
	}
	if commits != 1 {
		t.Errorf("%d commits; want 1 (the change only)", commits)
	}
}
