package docs

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The import rules of docs/ARCHITECTURE.md ("What may import what"),
// read from `go list -deps`.

const module = "github.com/livemod/livemod"

type listed struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// goList returns every package of the module with its imports and its
// transitive dependencies (not its tests').
func goList(t *testing.T) map[string]listed {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("go is not on PATH (the test runs under go test): %v", err)
	}
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Deps,Module", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]listed{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p.ImportPath, module) {
			pkgs[p.ImportPath] = p
		}
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages of the module", len(pkgs))
	}
	return pkgs
}

// netOrIO reports whether path is a package that reaches the network, the
// file system, a database or a websocket. net/netip (address values) is
// not: it does no I/O.
func netOrIO(path string) bool {
	switch {
	case path == "net/netip":
		return false
	case path == "net", strings.HasPrefix(path, "net/"), path == "os", strings.HasPrefix(path, "os/"),
		strings.HasPrefix(path, "database/"), path == "go.etcd.io/bbolt",
		strings.Contains(path, "websocket"), strings.HasPrefix(path, "github.com/gobwas/ws"),
		strings.HasPrefix(path, "github.com/prometheus/"):
		return true
	}
	return false
}

// TestPureCore: chat and classify import no network, file, database or
// websocket package, directly or through another (os alone is allowed
// among the dependencies, as fmt imports it; neither imports it itself).
func TestPureCore(t *testing.T) {
	pkgs := goList(t)
	for _, name := range []string{"chat", "classify"} {
		p, ok := pkgs[module+"/"+name]
		if !ok {
			t.Fatalf("package %s not found", name)
		}
		for _, d := range p.Deps {
			if netOrIO(d) && d != "os" {
				t.Errorf("%s depends on %s", name, d)
			}
		}
		for _, d := range p.Imports {
			if netOrIO(d) {
				t.Errorf("%s imports %s", name, d)
			}
		}
	}
	for _, d := range pkgs[module+"/chat"].Imports {
		if strings.HasPrefix(d, module) && d != module+"/internal/words" {
			t.Errorf("chat imports %s: it is the floor, importing nothing of livemod", d)
		}
	}
}

// TestFloors: the packages under the engine and the desks stand on chat
// alone: classify on chat and state (the memory implementations of its
// ports), trend, handoff and state on chat, cluster (Redis membership,
// leases, forwarding) on chat at most; internal helpers aside.
func TestFloors(t *testing.T) {
	pkgs := goList(t)
	for name, may := range map[string][]string{
		"classify": {"chat", "state"},
		"trend":    {"chat"},
		"handoff":  {"chat"},
		"state":    {"chat"},
		"broker":   {},
		"auth":     {},
		"cluster":  {"chat"},
	} {
		p, ok := pkgs[module+"/"+name]
		if !ok {
			t.Fatalf("package %s not found", name)
		}
		for _, d := range p.Imports {
			rel, ours := strings.CutPrefix(d, module+"/")
			if ours && !strings.HasPrefix(rel, "internal/") && !slices.Contains(may, rel) {
				t.Errorf("%s imports %s; it may import only %v of livemod", name, rel, may)
			}
		}
	}
}

// TestNoClocks: the pure packages read no clock: time comes from the
// messages (Message.TS), so replay decides as the server did.
func TestNoClocks(t *testing.T) {
	for _, dir := range []string{"../chat", "../classify", "../trend", "../handoff", "../state"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, clock := range []string{"time.Now(", "time.Since(", "time.Until(", "time.After(", "time.NewTimer(", "time.NewTicker("} {
				if strings.Contains(string(b), clock) {
					t.Errorf("%s reads the clock (%s)", f, clock)
				}
			}
		}
	}
}

// TestHTTPAtTheEdge: only the edge imports net/http: the streaming core's
// ingest and fan-out (stream), the REST and pages (overlay), the platform
// connectors (connect), the wiring (app, cmd), and the load tools that
// are the server's clients (bench, scripts/restbench, scripts/soak).
func TestHTTPAtTheEdge(t *testing.T) {
	allowed := []string{"stream", "overlay", "connect", "app", "cmd/livemod", "bench", "scripts/restbench", "scripts/soak", "internal/testenv"}
	for path, p := range goList(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
		if slices.Contains(p.Imports, "net/http") && !slices.Contains(allowed, rel) {
			t.Errorf("%s imports net/http; only %v may", rel, allowed)
		}
	}
}

// TestNothingImportsTheWiring: nothing imports cmd or app but cmd.
func TestNothingImportsTheWiring(t *testing.T) {
	for path, p := range goList(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
		for _, d := range p.Imports {
			dr := strings.TrimPrefix(d, module+"/")
			if (strings.HasPrefix(dr, "cmd/") || dr == "app" || strings.HasPrefix(dr, "app/")) && !strings.HasPrefix(rel, "cmd/") {
				t.Errorf("%s imports %s: only cmd may", rel, dr)
			}
		}
	}
}

// TestBenchSpeaksTheWire: the load generator drives the server through
// the wire contract only; it needs none of the server's packages.
func TestBenchSpeaksTheWire(t *testing.T) {
	for _, d := range goList(t)[module+"/bench"].Deps {
		if strings.HasPrefix(d, module+"/") && !strings.HasPrefix(d, module+"/internal/") {
			t.Errorf("bench depends on %s", d)
		}
	}
}

// TestDomainBelowTheEdge: the domain packages (the desks, state and
// policy) know nothing of HTTP, websockets or the pages: they return
// typed errors (chat.Error) that overlay maps to statuses. (The desks
// implement stream's sink interfaces, so they may import stream.)
func TestDomainBelowTheEdge(t *testing.T) {
	pkgs := goList(t)
	for _, name := range []string{"chat", "classify", "handoff", "automate", "moderate", "policy", "store", "auth", "config", "cluster"} {
		p, ok := pkgs[module+"/"+name]
		if !ok {
			t.Fatalf("package %s not found", name)
		}
		for _, d := range p.Imports {
			if d == "net/http" || strings.Contains(d, "websocket") || d == module+"/overlay" {
				t.Errorf("%s imports %s", name, d)
			}
		}
	}
}
