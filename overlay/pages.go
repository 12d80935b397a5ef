package overlay

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
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
//	GET /overlay/{stream}  host overlay (OBS browser source; ?token=, ?bg=transparent, ?lang=hi)
//	GET /host/{stream}     host controls: pin, answered, dismiss
//	GET /moderator         moderator console (?stream=ID)
//	GET /agent             agent inbox (?stream=ID)
//	GET /static/…          the pages' scripts and styles (no secrets, no token needed)
//
// A page needs a token of its role; the page's script reads ?token= and
// uses it only for requests to this same origin.
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
	s.Handle("GET /overlay/{stream}", page("overlay.html"), RoleHost, RoleModerator)
	s.Handle("GET /host/{stream}", page("host.html"), RoleHost)
	s.Handle("GET /moderator", page("moderator.html"), RoleModerator)
	s.Handle("GET /agent", page("agent.html"), RoleAgent)

	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(sub)
	s.mux.Handle("GET /static/{file}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch path.Ext(r.PathValue("file")) {
		case ".js", ".css":
		default:
			http.NotFound(w, r) // pages are served at their routes, behind tokens
			return
		}
		w.Header().Set("Content-Security-Policy", PageCSP)
		w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(r.PathValue("file"))))
		http.StripPrefix("/static", files).ServeHTTP(w, r)
	}))
}
