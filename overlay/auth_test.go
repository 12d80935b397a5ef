package overlay

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/livemod/livemod/auth"
)

func TestRequire(t *testing.T) {
	t.Parallel()
	a, err := NewAuth([]auth.Token{
		{Name: "ops", Role: auth.RoleAdmin, Secret: "admin-secret-1"},
		{Name: "mods", Role: auth.RoleModerator, Secret: "mod-secret-1"},
		{Name: "show-host", Role: auth.RoleHost, Secret: "host-secret-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var who Principal
	h := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who = PrincipalFrom(r.Context())
	}), auth.RoleModerator)
	cases := []struct {
		name, header, query string
		want                int
		actor               string
	}{
		{name: "no token", want: 401},
		{name: "wrong token", header: "Bearer nope-nope-nope", want: 401},
		{name: "moderator bearer", header: "Bearer mod-secret-1", want: 200, actor: "mods"},
		{name: "admin may all", header: "bearer admin-secret-1", want: 200, actor: "ops"},
		{name: "query token", query: "?token=mod-secret-1", want: 200, actor: "mods"},
		{name: "host is not moderator", header: "Bearer host-secret-1", want: 403},
	}
	for _, c := range cases {
		who = Principal{}
		r := httptest.NewRequest("GET", "/x"+c.query, nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s: status %d, want %d (%s)", c.name, w.Code, c.want, w.Body)
		}
		if who.Name != c.actor {
			t.Errorf("%s: principal %q, want %q", c.name, who.Name, c.actor)
		}
	}
}

func TestNewAuthRefusesReusedSecret(t *testing.T) {
	t.Parallel()
	_, err := NewAuth([]auth.Token{{Name: "a", Role: auth.RoleAdmin, Secret: "same-secret"}, {Name: "b", Role: auth.RoleIngest, Secret: "same-secret"}})
	if err == nil {
		t.Fatal("NewAuth accepted one secret for two roles")
	}
}
