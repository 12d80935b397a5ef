package auth

import (
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
