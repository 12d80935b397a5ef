package overlay

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, wantErr string
		role        Role
	}{
		{in: "admin=s3cret-value", role: RoleAdmin},
		{in: " moderator=another-secret ", role: RoleModerator},
		{in: "admin", wantErr: "want ROLE=SECRET"},
		{in: "admin=", wantErr: "want ROLE=SECRET"},
		{in: "root=long-enough-secret", wantErr: "unknown role"},
		{in: "host=short", wantErr: "shorter than"},
	}
	for _, c := range cases {
		tok, err := ParseToken(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseToken(%q) error = %v, want %q", c.in, err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret-value") {
				t.Errorf("ParseToken(%q) error leaks the secret: %v", c.in, err)
			}
			continue
		}
		if err != nil || tok.Role != c.role {
			t.Errorf("ParseToken(%q) = %+v, %v; want role %s", c.in, tok, err, c.role)
		}
	}
}

func TestRequire(t *testing.T) {
	t.Parallel()
	a, err := NewAuth([]Token{
		{Name: "ops", Role: RoleAdmin, Secret: "admin-secret-1"},
		{Name: "mods", Role: RoleModerator, Secret: "mod-secret-1"},
		{Name: "show-host", Role: RoleHost, Secret: "host-secret-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var who Principal
	h := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who = PrincipalFrom(r.Context())
	}), RoleModerator)
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
	_, err := NewAuth([]Token{{Name: "a", Role: RoleAdmin, Secret: "same-secret"}, {Name: "b", Role: RoleIngest, Secret: "same-secret"}})
	if err == nil {
		t.Fatal("NewAuth accepted one secret for two roles")
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:80": true, "[::1]:8080": true, "127.0.0.2:1": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "192.168.1.4:8080": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
