package overlay

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/livemod/livemod/auth"
)

// ErrUnauthorized is returned for a missing or unknown token.
var ErrUnauthorized = errors.New("overlay: missing or unknown token")

// Auth checks bearer tokens. The zero value knows no tokens and refuses
// everything. It is goroutine-safe after construction.
type Auth struct {
	tokens []hashedToken
}

type hashedToken struct {
	sum     [32]byte
	name    string
	role    auth.Role
	streams map[string]bool // nil: every stream
	list    []string
}

// NewAuth returns an Auth that knows tokens. Names must be unique: the
// name is the actor in the audit log.
func NewAuth(tokens []auth.Token) (*Auth, error) {
	a := &Auth{}
	seen := map[[32]byte]bool{}
	names := map[string]bool{}
	for _, t := range tokens {
		if err := t.Validate(); err != nil {
			return nil, err
		}
		if names[t.Name] {
			return nil, fmt.Errorf("token %q: the name is given twice; give each token its own name (the audit log shows it as the actor)", t.Name)
		}
		names[t.Name] = true
		sum := sha256.Sum256([]byte(t.Secret))
		if seen[sum] {
			return nil, fmt.Errorf("token %q: the same secret is given twice; give each role its own secret", t.Name)
		}
		seen[sum] = true
		ht := hashedToken{sum: sum, name: t.Name, role: t.Role}
		if len(t.Streams) > 0 {
			ht.streams = map[string]bool{}
			for _, st := range t.Streams {
				ht.streams[st] = true
			}
			ht.list = append([]string(nil), t.Streams...)
		}
		a.tokens = append(a.tokens, ht)
	}
	return a, nil
}

// Principal is who made a request.
type Principal struct {
	Name string
	Role auth.Role
	// streams limits the principal to these streams; nil means every
	// stream.
	streams map[string]bool
	list    []string
}

// Can reports whether p may act as role r.
func (p Principal) Can(r auth.Role) bool { return p.Role == r || p.Role == auth.RoleAdmin }

// Scoped reports whether p is limited to some streams.
func (p Principal) Scoped() bool { return p.streams != nil }

// Streams lists the streams p is limited to; nil means every stream.
func (p Principal) Streams() []string { return p.list }

// Sees reports whether p may act on stream.
func (p Principal) Sees(stream string) bool { return p.streams == nil || p.streams[stream] }

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
	t := &a.tokens[found]
	return Principal{Name: t.name, Role: t.role, streams: t.streams, list: t.list}, nil
}

// Require wraps h so that only a principal with one of roles (or admin)
// reaches it.
func (a *Auth) Require(h http.Handler, roles ...auth.Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Identify(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="livemod"`)
			writeError(w, http.StatusUnauthorized, "missing or unknown token: send Authorization: Bearer TOKEN or ?token=TOKEN")
			return
		}
		for _, role := range roles {
			if p.Can(role) {
				r, msg := scopeRequest(r, p)
				if msg != "" {
					writeError(w, http.StatusForbidden, msg)
					return
				}
				h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
				return
			}
		}
		writeError(w, http.StatusForbidden, fmt.Sprintf("role %s may not use this endpoint", p.Role))
	})
}

// scopeRequest checks the streams a request names in its path
// ({stream}) and query (?stream=) against a limited principal, and
// returns why it is refused ("" when it is not). A limited principal of
// exactly one stream that names none is taken to mean that one: its
// query gets stream= added. Handlers check a stream named in the body
// with AllowStream, and a stream they find from an id with SeesStream.
func scopeRequest(r *http.Request, p Principal) (*http.Request, string) {
	if !p.Scoped() {
		return r, ""
	}
	if st := r.PathValue("stream"); st != "" && !p.Sees(st) {
		return r, outOfScope(p, st)
	}
	// /v1/streams/{id}/…: the id is a stream.
	if strings.Contains(r.Pattern, "/v1/streams/{id}") && !p.Sees(r.PathValue("id")) {
		return r, outOfScope(p, r.PathValue("id"))
	}
	q := r.URL.Query()
	if sts, ok := q["stream"]; ok {
		for _, st := range sts {
			if !p.Sees(st) {
				return r, outOfScope(p, st)
			}
		}
		return r, ""
	}
	if len(p.list) == 1 && r.PathValue("stream") == "" {
		q.Set("stream", p.list[0])
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = q.Encode()
		return r2, ""
	}
	return r, ""
}

func outOfScope(p Principal, stream string) string {
	if stream == "" {
		return fmt.Sprintf("token %q is limited to streams %s: name one (stream)", p.Name, strings.Join(p.list, ", "))
	}
	return fmt.Sprintf("token %q is limited to streams %s, not %q", p.Name, strings.Join(p.list, ", "), stream)
}

// AllowStream checks a stream a request names in its body (or finds from
// an id) against the caller's limits: it answers 403 and returns false
// when the caller may not act on it. An empty stream is refused for a
// limited caller: it must say which of its streams it means.
func AllowStream(w http.ResponseWriter, r *http.Request, stream string) bool {
	p := PrincipalFrom(r.Context())
	if !p.Scoped() || (stream != "" && p.Sees(stream)) {
		return true
	}
	writeError(w, http.StatusForbidden, outOfScope(p, stream))
	return false
}

// RequireAllStreams refuses (403) a caller limited to some streams, for
// endpoints that act across streams (metrics, export and erasure of a
// user, dead webhooks, profiles).
func RequireAllStreams(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := PrincipalFrom(r.Context())
		if p.Scoped() {
			writeError(w, http.StatusForbidden, fmt.Sprintf("token %q is limited to streams %s; this endpoint spans every stream and needs an unlimited token", p.Name, strings.Join(p.list, ", ")))
			return
		}
		h.ServeHTTP(w, r)
	})
}
