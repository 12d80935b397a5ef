package overlay

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Role is what a token may do. Admin may do everything.
type Role string

// The roles of DESIGN.md.
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
// shows as the actor; the secret never leaves the process.
type Token struct {
	Name   string `yaml:"name" json:"name"`
	Role   Role   `yaml:"role" json:"role"`
	Secret string `yaml:"secret" json:"-"`
}

// MinSecretLen is the shortest secret accepted: shorter ones are guessable.
const MinSecretLen = 8

// ParseToken reads ROLE=SECRET (the --token flag and LIVEMOD_TOKENS form).
// The token is named after its role.
func ParseToken(s string) (Token, error) {
	role, secret, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok || secret == "" {
		return Token{}, fmt.Errorf("token %q: want ROLE=SECRET, e.g. moderator=s3cret-value", redact(s))
	}
	t := Token{Name: role, Role: Role(role), Secret: secret}
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
	return nil
}

func redact(s string) string {
	if role, _, ok := strings.Cut(s, "="); ok {
		return role + "=…"
	}
	return "…"
}

// ErrUnauthorized is returned for a missing or unknown token.
var ErrUnauthorized = errors.New("overlay: missing or unknown token")

// Auth checks bearer tokens. The zero value knows no tokens and refuses
// everything. It is goroutine-safe after construction.
type Auth struct {
	tokens []hashedToken
}

type hashedToken struct {
	sum  [32]byte
	name string
	role Role
}

// NewAuth returns an Auth that knows tokens.
func NewAuth(tokens []Token) (*Auth, error) {
	a := &Auth{}
	seen := map[[32]byte]bool{}
	for _, t := range tokens {
		if err := t.Validate(); err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(t.Secret))
		if seen[sum] {
			return nil, fmt.Errorf("token %q: the same secret is given twice; give each role its own secret", t.Name)
		}
		seen[sum] = true
		a.tokens = append(a.tokens, hashedToken{sum: sum, name: t.Name, role: t.Role})
	}
	return a, nil
}

// Empty reports whether no token is configured.
func (a *Auth) Empty() bool { return len(a.tokens) == 0 }

// Principal is who made a request.
type Principal struct {
	Name string
	Role Role
}

// Can reports whether p may act as role r.
func (p Principal) Can(r Role) bool { return p.Role == r || p.Role == RoleAdmin }

// Identify returns the principal behind the request's token, taken from
// "Authorization: Bearer …" or, for browser sources, the token query
// parameter.
func (a *Auth) Identify(r *http.Request) (Principal, error) {
	secret := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			secret = strings.TrimSpace(rest)
		}
	}
	if secret == "" {
		secret = r.URL.Query().Get("token")
	}
	if secret == "" {
		return Principal{}, ErrUnauthorized
	}
	sum := sha256.Sum256([]byte(secret))
	// Compare against every token in constant time so the timing says
	// nothing about which prefix matched.
	found := -1
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].sum[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, ErrUnauthorized
	}
	return Principal{Name: a.tokens[found].name, Role: a.tokens[found].role}, nil
}

// Require wraps h so that only a principal with one of roles (or admin)
// reaches it.
func (a *Auth) Require(h http.Handler, roles ...Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Identify(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="livemod"`)
			writeError(w, http.StatusUnauthorized, "missing or unknown token: send Authorization: Bearer TOKEN or ?token=TOKEN")
			return
		}
		for _, role := range roles {
			if p.Can(role) {
				h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
				return
			}
		}
		writeError(w, http.StatusForbidden, fmt.Sprintf("role %s may not use this endpoint", p.Role))
	})
}
