package overlay

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"time"

	"github.com/livemod/livemod/auth"
)

// Feed serves live subscriptions: one websocket per call, lines of JSON
// for stream and view. *stream.Hub implements it.
type Feed interface {
	ServeSubscribe(w http.ResponseWriter, r *http.Request, stream, view string)
}

// Options wire a Server. Auth is required; the rest may be nil, which
// leaves their endpoints answering 404.
type Options struct {
	Auth   *Auth
	Ingest http.Handler // GET /v1/ingest (websocket)
	// Messages serves POST /v1/messages?stream=ID (NDJSON over HTTP).
	Messages http.Handler
	Feed     Feed         // GET /v1/subscribe (websocket)
	Metrics  http.Handler // GET /metrics
	// Pprof mounts net/http/pprof under /debug/pprof/ for admins.
	Pprof bool
	// OpenAPI is served at GET /v1/openapi.yaml (no token needed) when
	// not empty.
	OpenAPI []byte
	// Ready reports whether the server can take traffic (GET /readyz).
	// Nil means always ready.
	Ready func() error
	// Commit waits until every change made before the call is durable.
	// The answer to a request that may change state (POST, PUT, PATCH,
	// DELETE) waits for it, and a failure turns a 2xx into a 503. Nil
	// answers at once (tests without a store).
	Commit func(ctx context.Context) error
	// MaxBodyBytes bounds every request body; a larger one is refused
	// with 413. Zero means 1 MiB.
	MaxBodyBytes int64
	// Status adds lines to /readyz's answer (each connector's state).
	// Nil adds none.
	Status func() string
}

// viewRoles says which roles may subscribe to each view (admin always may).
var viewRoles = map[string][]auth.Role{
	"moderator": {auth.RoleModerator},
	"overlay":   {auth.RoleHost, auth.RoleModerator},
	"agent":     {auth.RoleAgent},
	"replies":   {auth.RoleIngest, auth.RoleModerator},
}

// Server routes livemod's HTTP endpoints.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	maxBody int64
	routes  []Route
}

// NewServer builds the router.
func NewServer(opts Options) *Server {
	if opts.Auth == nil {
		opts.Auth = &Auth{}
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), maxBody: opts.MaxBodyBytes}
	if s.maxBody <= 0 {
		s.maxBody = auth.DefaultMaxBodyBytes
	}
	a := opts.Auth
	s.register("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	}), nil)
	if len(opts.OpenAPI) > 0 {
		s.register("GET /v1/openapi.yaml", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
			w.Write(opts.OpenAPI)
		}), nil)
	}
	s.register("GET /readyz", a.Require(http.HandlerFunc(s.readyz), auth.Roles...), auth.Roles)
	if opts.Metrics != nil {
		s.register("GET /metrics", a.Require(RequireAllStreams(opts.Metrics), auth.RoleAdmin, auth.RoleModerator), []auth.Role{auth.RoleAdmin, auth.RoleModerator})
	}
	if opts.Pprof {
		// The mutex and block profiles sample: one contention event in
		// 100, and one blocking event per 100 µs spent blocked.
		runtime.SetMutexProfileFraction(100)
		runtime.SetBlockProfileRate(100_000)
		s.register("GET /debug/pprof/", a.Require(RequireAllStreams(http.HandlerFunc(pprof.Index)), auth.RoleAdmin), []auth.Role{auth.RoleAdmin})
		s.register("GET /debug/pprof/profile", a.Require(RequireAllStreams(http.HandlerFunc(pprof.Profile)), auth.RoleAdmin), []auth.Role{auth.RoleAdmin})
		s.register("GET /debug/pprof/trace", a.Require(RequireAllStreams(http.HandlerFunc(pprof.Trace)), auth.RoleAdmin), []auth.Role{auth.RoleAdmin})
	}
	if opts.Ingest != nil {
		s.register("GET /v1/ingest", a.Require(opts.Ingest, auth.RoleIngest), []auth.Role{auth.RoleIngest})
	}
	if opts.Messages != nil {
		s.register("POST /v1/messages", a.Require(opts.Messages, auth.RoleIngest), []auth.Role{auth.RoleIngest})
	}
	if opts.Feed != nil {
		s.register("GET /v1/subscribe", a.Require(http.HandlerFunc(s.subscribe), auth.Roles...), auth.Roles)
	}
	return s
}

// Handle adds a route, wrapped in the token check for roles. Later
// features (pages, REST actions) register themselves here.
func (s *Server) Handle(pattern string, h http.Handler, roles ...auth.Role) {
	s.register(pattern, s.opts.Auth.Require(h, roles...), roles)
}

// Route is one registered route: its pattern and the roles that may use
// it (admin always may; none: no token needed).
type Route struct {
	Pattern string
	Roles   []auth.Role
}

// register routes pattern to h and remembers it for Routes.
func (s *Server) register(pattern string, h http.Handler, roles []auth.Role) {
	s.routes = append(s.routes, Route{Pattern: pattern, Roles: roles})
	s.mux.Handle(pattern, h)
}

// Routes lists every registered route, in registration order (the
// OpenAPI test walks them).
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// ServeHTTP applies the headers every response carries and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // tokens ride in page URLs: never leak them
	h.Set("Cache-Control", "no-store")
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
	}
	if err := checkRequest(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if isWebsocket(r) {
		// The server's read timeout bounds a request, not a websocket's
		// life: ingest's idle timeout and the subscribers' pings do.
		http.NewResponseController(w).SetReadDeadline(time.Time{})
	}
	if s.opts.Commit != nil && changes(r.Method) {
		s.serveCommitted(w, r, s.mux)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// isWebsocket reports whether r asks to upgrade to a websocket.
func isWebsocket(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(); err != nil {
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
	if s.opts.Status != nil {
		w.Write([]byte(s.opts.Status()))
	}
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	stream, view := q.Get("stream"), q.Get("view")
	if stream == "" {
		writeError(w, http.StatusBadRequest, "stream: missing; use /v1/subscribe?stream=ID&view=moderator")
		return
	}
	if view == "" {
		view = "moderator"
	}
	roles, ok := viewRoles[view]
	if !ok {
		writeError(w, http.StatusBadRequest, "view "+quote(view)+": want moderator, overlay, agent or replies")
		return
	}
	p := principalFrom(r.Context())
	allowed := false
	for _, role := range roles {
		allowed = allowed || p.Can(role)
	}
	if !allowed {
		writeError(w, http.StatusForbidden, "role "+string(p.Role)+" may not subscribe to view "+view)
		return
	}
	s.opts.Feed.ServeSubscribe(w, r, stream, view)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// writeError answers {"error": msg} with status.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns who made the request, as established by the
// token check.
func PrincipalFrom(ctx context.Context) Principal { return principalFrom(ctx) }

func principalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}
