package overlay

import (
	"embed"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/livemod/livemod/auth"
)

//go:embed static
var staticFS embed.FS

// PageCSP is the Content-Security-Policy of the pages: scripts, styles
// and connections only from the server itself, no inline script, no
// plugins, no framing. Chat text can therefore never run as code, even if
// a bug inserted it as HTML.
const PageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// RegisterPages adds the pages and their assets:
//
//	GET /                   an index of the pages the token may open
//	GET /overlay/{stream}   host overlay (OBS browser source; ?token=, ?bg=transparent, ?lang=hi)
//	GET /host/{stream}      host controls: pin, answered, dismiss
//	GET /overlay/, /host/   without a stream: to the index, which links every stream's
//	GET /moderator          moderator console (?stream=ID; without it, a stream picker)
//	GET /moderator/tools    reply drafts, timeouts and bans (unban), dead webhooks, KPIs, audit
//	GET /moderator/policy   the stream's own rules, with a preview on recent chat (?stream=ID)
//	GET /agent              agent inbox (?stream=ID; without it, every stream's tickets)
//	GET /static/…           the pages' scripts and styles (no secrets, no token needed)
//
// A page needs a token of its role; the page's script reads ?token= and
// uses it only for requests to this same origin. A browser that comes
// without a token, with an unknown one or with one of another role gets
// a page that says so and how to get a working link, not JSON.
func RegisterPages(s *Server) {
	page := func(name string) http.Handler {
		body, err := staticFS.ReadFile("static/" + name)
		if err != nil {
			panic("overlay: page " + name + " not embedded") // a build without the pages is broken
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", PageCSP)
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.Write(body)
		})
	}
	s.handlePage("GET /{$}", "the index of pages", page("index.html"), auth.Roles...)
	s.handlePage("GET /overlay/{stream}", "the host overlay", page("overlay.html"), auth.RoleHost, auth.RoleModerator)
	s.handlePage("GET /host/{stream}", "the host controls", page("host.html"), auth.RoleHost)
	s.handlePage("GET /moderator", "the moderator console", page("moderator.html"), auth.RoleModerator)
	s.handlePage("GET /moderator/tools", "the moderator tools", page("tools.html"), auth.RoleModerator)
	s.handlePage("GET /moderator/policy", "the channel policy page", page("policy.html"), auth.RoleModerator)
	s.handlePage("GET /agent", "the agent inbox", page("agent.html"), auth.RoleAgent)
	// The overlay and the host controls are per stream: without one, the
	// index lists a link for each stream.
	toIndex := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/?"+r.URL.RawQuery, http.StatusSeeOther)
	})
	s.handlePage("GET /overlay/{$}", "the host overlay", toIndex, auth.RoleHost, auth.RoleModerator)
	s.handlePage("GET /host/{$}", "the host controls", toIndex, auth.RoleHost)

	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(sub)
	s.register("GET /static/{file}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch path.Ext(r.PathValue("file")) {
		case ".js", ".css":
		default:
			http.NotFound(w, r) // pages are served at their routes, behind tokens
			return
		}
		w.Header().Set("Content-Security-Policy", PageCSP)
		w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(r.PathValue("file"))))
		http.StripPrefix("/static", files).ServeHTTP(w, r)
	}), nil)
}

// handlePage routes a page behind its roles; a request that may not see
// it gets the denied page (401 or 403) instead of JSON.
func (s *Server) handlePage(pattern, what string, h http.Handler, roles ...auth.Role) {
	s.register(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.opts.Auth.Identify(r)
		if err != nil {
			kind := "missing"
			if r.URL.Query().Get("token") != "" || r.Header.Get("Authorization") != "" {
				kind = "unknown"
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="livemod"`)
			deniedPage(w, http.StatusUnauthorized, denied{Kind: kind, What: what, Path: r.URL.Path, Needs: roleList(roles)})
			return
		}
		for _, role := range roles {
			if p.Can(role) {
				if _, msg := scopeRequest(r, p); msg != "" {
					deniedPage(w, http.StatusForbidden, denied{Kind: "stream", What: what, Path: r.URL.Path, Role: string(p.Role),
						Streams: strings.Join(p.Streams(), ", "), Index: "/?" + url.Values{"token": {r.URL.Query().Get("token")}}.Encode()})
					return
				}
				h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
				return
			}
		}
		deniedPage(w, http.StatusForbidden, denied{Kind: "role", What: what, Path: r.URL.Path, Role: string(p.Role),
			Needs: roleList(roles), Index: "/?" + url.Values{"token": {r.URL.Query().Get("token")}}.Encode()})
	}), roles)
}

func roleList(roles []auth.Role) string {
	var names []string
	for _, r := range roles {
		names = append(names, string(r))
	}
	if len(roles) != len(auth.Roles) {
		names = append(names, string(auth.RoleAdmin))
	}
	return strings.Join(names, ", ")
}

// denied is what the denied page says.
type denied struct {
	Kind  string // missing, unknown, role or stream
	What  string // "the moderator console"
	Path  string
	Role  string // the token's role, for Kind role
	Needs string // the roles that may open the page
	Index string // the index with the same token, for Kind role
	// Streams are the token's streams, for Kind stream.
	Streams string
}

var deniedTmpl = template.Must(template.ParseFS(staticFS, "static/denied.html.tmpl"))

func deniedPage(w http.ResponseWriter, status int, d denied) {
	h := w.Header()
	h.Set("Content-Security-Policy", PageCSP)
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	deniedTmpl.Execute(w, d) // a write error means the browser left
}
