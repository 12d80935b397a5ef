package auth

import (
	"fmt"
	"strings"
)

// Role is what a token may do. Admin may do everything.
type Role string

// The roles of docs/WIRE.md.
const (
	RoleIngest    Role = "ingest"
	RoleHost      Role = "host"
	RoleModerator Role = "moderator"
	RoleAgent     Role = "agent"
	RoleAdmin     Role = "admin"
)

// Roles lists every role, for help texts and validation.
var Roles = []Role{RoleIngest, RoleHost, RoleModerator, RoleAgent, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// Token is a named secret with a role. The name is what the audit log
// shows as the actor; the secret never leaves the process. Streams, when
// not empty, limits the token to those streams: every REST call,
// websocket and page it opens must be about one of them.
type Token struct {
	Name    string   `yaml:"name" json:"name"`
	Role    Role     `yaml:"role" json:"role"`
	Secret  string   `yaml:"secret" json:"-"`
	Streams []string `yaml:"streams" json:"streams,omitempty"`
}

// MaxTokenStreams bounds the streams one token may be limited to.
const MaxTokenStreams = 1000

// MinSecretLen is the shortest secret accepted: shorter ones are guessable.
const MinSecretLen = 8

// ParseToken reads ROLE=SECRET or ROLE:STREAM[+STREAM…]=SECRET (the
// --token flag and LIVEMOD_TOKENS form). The token is named after its
// role, and its streams when it is limited to some ("moderator:show-a").
func ParseToken(s string) (Token, error) {
	name, secret, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok || secret == "" {
		return Token{}, fmt.Errorf("token %q: want ROLE=SECRET or ROLE:STREAM=SECRET, e.g. moderator:show-a=s3cret-value", redact(s))
	}
	role, streams, scoped := strings.Cut(name, ":")
	t := Token{Name: name, Role: Role(role), Secret: secret}
	if scoped {
		if streams == "" {
			return Token{}, fmt.Errorf("token %q: no stream after %q; want ROLE:STREAM=SECRET", redact(s), role+":")
		}
		t.Streams = strings.Split(streams, "+")
	}
	return t, t.Validate()
}

// Validate reports what is wrong with t, if anything.
func (t Token) Validate() error {
	if !t.Role.Valid() {
		return fmt.Errorf("token %q: unknown role %q (want one of ingest, host, moderator, agent, admin)", t.Name, t.Role)
	}
	if len(t.Secret) < MinSecretLen {
		return fmt.Errorf("token %q: secret shorter than %d characters", t.Name, MinSecretLen)
	}
	if len(t.Streams) > MaxTokenStreams {
		return fmt.Errorf("token %q: limited to %d streams, more than %d; use an unlimited token", t.Name, len(t.Streams), MaxTokenStreams)
	}
	for _, st := range t.Streams {
		if strings.TrimSpace(st) == "" || len(st) > 256 {
			return fmt.Errorf("token %q: stream %q: want 1 to 256 bytes, as in the messages' stream", t.Name, st)
		}
	}
	if len(t.Streams) > 0 && t.Role == RoleIngest {
		// Ingest frames name a stream per message; the ingest endpoint
		// does not check them against a token, so a limited ingest
		// token would promise what is not enforced.
		return fmt.Errorf("token %q: an ingest token cannot be limited to streams; give each bridge an unlimited ingest token", t.Name)
	}
	return nil
}

func redact(s string) string {
	if role, _, ok := strings.Cut(s, "="); ok {
		return role + "=…"
	}
	return "…"
}
