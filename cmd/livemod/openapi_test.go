package main

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/docs"
	"github.com/livemod/livemod/overlay"
	yaml "go.yaml.in/yaml/v3"
)

type specOp struct {
	Roles     []string                  `yaml:"x-roles"`
	Responses map[string]map[string]any `yaml:"responses"`
}

// restRoute reports whether a route is part of the REST API the spec
// describes (pages and static assets are HTML, profiles are Go's).
func restRoute(path string) bool {
	return strings.HasPrefix(path, "/v1/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// TestOpenAPIMatchesRouter walks the router and docs/openapi.yaml: every
// REST route and method of one is in the other, with the same roles; a
// route that needs a token documents 401 and 403. Then statuses, both
// ways: the real server is probed on every route (no token, a token of a
// role it refuses, a token limited to another stream, an admin with an
// empty, a broken and a too large body) and sent a battery of requests
// that reach each operation's successes, conflicts, not-founds and
// limits (openAPIBattery); every status answered must be documented for
// its operation, and every status documented must have been answered,
// but for the few openAPIUnexercised names with why. The served copy is
// the file.
func TestOpenAPIMatchesRouter(t *testing.T) {
	var spec struct {
		OpenAPI string                       `yaml:"openapi"`
		Paths   map[string]map[string]specOp `yaml:"paths"`
	}
	if err := yaml.Unmarshal(docs.OpenAPI, &spec); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(spec.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1", spec.OpenAPI)
	}
	ta := runApp(t, t.TempDir(), openAPIConfig)
	base := "http://" + ta.Addr()
	routes := ta.Server.Handler.(*overlay.Server).Routes()
	b := &openAPIBattery{t: t, base: base, seen: map[string]map[int]string{}}

	inRouter := map[string]bool{}
	for _, r := range routes {
		method, path, _ := strings.Cut(r.Pattern, " ")
		if !restRoute(path) {
			continue
		}
		key := method + " " + path
		inRouter[key] = true
		op, ok := spec.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s is routed but not in docs/openapi.yaml", key)
			continue
		}
		var roles []string
		for _, ro := range r.Roles {
			roles = append(roles, string(ro))
		}
		sort.Strings(roles)
		specRoles := append([]string(nil), op.Roles...)
		sort.Strings(specRoles)
		if !slices.Equal(roles, specRoles) {
			t.Errorf("%s: roles %v in the router, %v in the spec", key, roles, specRoles)
		}
		documented := func(code int) bool { _, ok := op.Responses[strconv.Itoa(code)]; return ok }
		if len(r.Roles) > 0 && (!documented(401) || !documented(403)) {
			t.Errorf("%s needs a token but does not document 401 and 403", key)
		}
		if len(r.Roles) == 0 && (documented(401) || documented(403)) {
			t.Errorf("%s needs no token but documents 401 or 403", key)
		}
		// Probe the real server.
		url := base + strings.NewReplacer("{id}", "x-1", "{cluster}", "c-1", "{rule}", "spam.link").Replace(path)
		probes := []struct{ token, body string }{{"", ""}, {adminSecret, "{}"}, {adminSecret, ""}, {adminSecret, "{"},
			{adminSecret, `{"reason":"` + strings.Repeat("x", openAPIMaxBody) + `"}`}}
		if len(r.Roles) > 0 {
			if !slices.Contains(r.Roles, auth.RoleHost) {
				probes = append(probes, struct{ token, body string }{hostSecret, "{}"})
			} else {
				probes = append(probes, struct{ token, body string }{agentSecret, "{}"})
			}
			probes = append(probes, struct{ token, body string }{showAModSecret, `{"stream":"show-b"}`})
		}
		for _, p := range probes {
			u := url
			if p.token == showAModSecret {
				u += "?stream=show-b"
			}
			b.do(key, method, u, p.token, p.body)
		}
	}
	// Then the requests that reach each operation's other answers.
	b.battery(t, ta)
	// Two ways: every status answered is documented, and every status
	// documented is answered by some request of the battery (or named in
	// openAPIUnexercised with why, and then never answered).
	for key, codes := range b.seen {
		method, path, _ := strings.Cut(key, " ")
		op := spec.Paths[path][strings.ToLower(method)]
		for code, example := range codes {
			if _, ok := op.Responses[strconv.Itoa(code)]; !ok {
				t.Errorf("%s answered %d (%s); docs/openapi.yaml does not document it", key, code, example)
			}
			if why := openAPIUnexercised(key + " " + strconv.Itoa(code)); why != "" {
				t.Errorf("%s answered %d, listed as not exercised (%s): take it off openAPIUnexercised", key, code, why)
			}
		}
	}
	for path, ops := range spec.Paths {
		for m, op := range ops {
			key := strings.ToUpper(m) + " " + path
			for c := range op.Responses {
				code, _ := strconv.Atoi(c)
				if _, ok := b.seen[key][code]; ok {
					continue
				}
				if openAPIUnexercised(key+" "+c) == "" {
					t.Errorf("%s documents %s, which no request of the test got: answer it in the battery or take it out of docs/openapi.yaml", key, c)
				}
			}
		}
	}
	code, body := call(t, "GET", base+"/v1/openapi.yaml", "", "")
	if code != http.StatusOK || body != string(docs.OpenAPI) {
		t.Errorf("GET /v1/openapi.yaml: %d, %d bytes; want the file", code, len(body))
	}
}
