package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Tool is an outside program a test may need.
type Tool struct {
	Name    string   // as in LIVEMOD_TEST_REQUIRE: redis, browser, ircd
	Bins    []string // executables to look for on PATH, in order
	Paths   []string // then these absolute paths (daemons live in /usr/sbin, often not on a user's PATH)
	Install string   // how to get it
}

// The tools livemod's tests use.
var (
	Browser = Tool{Name: "browser", Bins: []string{"chromium", "chromium-browser", "google-chrome"}, Install: "apt-get install chromium"}
	IRCd    = Tool{Name: "ircd", Bins: []string{"ngircd"}, Paths: []string{"/usr/sbin/ngircd"}, Install: "apt-get install ngircd"}
	// Promtool evaluates the shipped alert rules (deploy/prometheus).
	Promtool = Tool{Name: "promtool", Bins: []string{"promtool"}, Install: "apt-get install prometheus"}
)

// Required reports whether LIVEMOD_TEST_REQUIRE names tool.
func Required(name string) bool {
	for _, n := range strings.Split(os.Getenv("LIVEMOD_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

// Need returns the path of tool's executable. If it is absent, the test
// fails when LIVEMOD_TEST_REQUIRE names the tool and is skipped otherwise.
func Need(t testing.TB, tool Tool) string {
	t.Helper()
	for _, b := range tool.Bins {
		if p, err := exec.LookPath(b); err == nil {
			return p
		}
	}
	for _, p := range tool.Paths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := "needs " + strings.Join(tool.Bins, " or ") + " on PATH (" + tool.Install + ")"
	if Required(tool.Name) {
		t.Fatalf("%s, and LIVEMOD_TEST_REQUIRE names %q", msg, tool.Name)
	}
	t.Skipf("%s; skipped because LIVEMOD_TEST_REQUIRE does not name %q", msg, tool.Name)
	return ""
}

// Absent skips the test because what LIVEMOD_TEST_REQUIRE calls name is
// missing (msg says what and how to get it), or fails it when
// LIVEMOD_TEST_REQUIRE names it.
func Absent(t testing.TB, name, msg string) {
	t.Helper()
	if Required(name) {
		t.Fatalf("%s, and LIVEMOD_TEST_REQUIRE names %q", msg, name)
	}
	t.Skipf("%s; skipped because LIVEMOD_TEST_REQUIRE does not name %q", msg, name)
}

// SkipShort skips a slow test under -short, unless LIVEMOD_TEST_REQUIRE
// names "slow" (then -short fails it, as for a missing tool): CI runs
// without -short and names it, so a slow test cannot be skipped there.
func SkipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		Absent(t, "slow", what+"; not in -short")
	}
}
