package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/overlay"
)

// TestCLIExitsAndMessages: --help exits 0 for every verb and prints the
// usage on stdout; a command line that cannot be understood exits 2 with
// one line that says what is wrong (no usage dump, no stray ": usage").
func TestCLIExitsAndMessages(t *testing.T) {
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badCfg, []byte("ingest:\n  max_frame_byte: 1000\nclassify:\n  repeat_window: 5\n  copypasta_users: 1\n"), 0o644)
	addr := startApp(t, nil)

	for _, tc := range []struct {
		args []string
		code int
		out  string // in stdout
		msg  string // in the one error line (stderr plus what main prints)
	}{
		{[]string{"--help"}, 0, "livemod demo", ""},
		{[]string{"help"}, 0, "Usage:", ""},
		{[]string{"-h"}, 0, "Usage:", ""},
		{[]string{"serve", "--help"}, 0, "Usage: livemod serve", ""},
		{[]string{"serve", "-h"}, 0, "-listen", ""},
		{[]string{"demo", "--help"}, 0, "Usage: livemod demo", ""},
		{[]string{"replay", "--help"}, 0, "Usage: livemod replay", ""},
		{[]string{"bench", "--help"}, 0, "Usage: livemod bench", ""},
		{[]string{"train", "--help"}, 0, "Usage: livemod train", ""},
		{[]string{"eval", "--help"}, 0, "Usage: livemod eval", ""},
		{[]string{"labels", "--help"}, 0, "Usage: livemod labels export", ""},
		{[]string{"labels", "export", "--help"}, 0, "Usage: livemod labels export", ""},
		{[]string{"version", "--help"}, 0, "Usage: livemod version", ""},
		{[]string{"version"}, 0, "go      go1.", ""},
		{[]string{"frobnicate"}, 2, "", `livemod: unknown verb "frobnicate"; verbs: demo, serve`},
		{[]string{"bench", "extra"}, 2, "", `livemod bench: unexpected argument "extra" (see "livemod bench --help")`},
		{[]string{"bench", "--conns", "0"}, 2, "", "livemod bench: --conns 0: want 1 or more"},
		{[]string{"bench", "--conns", "many"}, 2, "", `livemod bench: invalid value "many" for flag -conns`},
		{[]string{"serve", "--nope"}, 2, "", "livemod serve: flag provided but not defined: -nope"},
		{[]string{"serve", "extra"}, 2, "", `livemod serve: unexpected argument "extra"`},
		{[]string{"replay", "in.ndjson"}, 2, "", `livemod replay: unexpected argument "in.ndjson" (messages come on stdin)`},
		{[]string{"labels"}, 2, "", "livemod labels: want the sub-verb export"},
		{[]string{"labels", "import"}, 2, "", `livemod labels: unknown sub-verb "import"`},
		{[]string{"eval", "--data", "f:spma"}, 2, "", `unknown label "spma"; labels are spam`},
		{[]string{"eval"}, 2, "", "livemod eval: --data is required"},
		{[]string{"train", "--data", "x"}, 2, "", "livemod train: --data and --out are required"},
		{[]string{"version", "extra"}, 2, "", `livemod version: unexpected argument "extra"`},
		{[]string{"serve", "--listen", "nonsense"}, 2, "", `livemod: --listen "nonsense": want host:port, such as 127.0.0.1:8080`},
		{[]string{"serve", "--listen", "nonsense", "--token", "admin=long-enough-secret"}, 2, "", `--listen "nonsense": want host:port`},
		{[]string{"serve", "--listen", "8080"}, 2, "", `--listen "8080": want host:port, not only a port; such as 127.0.0.1:8080`},
		{[]string{"serve", "--listen", "127.0.0.1:99999"}, 2, "", `port "99999" is not a number from 0 to 65535`},
		{[]string{"serve", "--listen", ":19084"}, 2, "", "--listen :19084 needs tokens: set auth.tokens in livemod.yaml, pass --token ROLE=SECRET or LIVEMOD_TOKENS, or use --listen 127.0.0.1:19084"},
		{[]string{"serve", "--token", "admin"}, 2, "", "--token: token"},
		{[]string{"serve", "--config", badCfg}, 2, "", badCfg + ":2: ingest.max_frame_byte: unknown key in ingest; did you mean max_frame_bytes?"},
		{[]string{"serve", "--config", "/nonexistent/livemod.yaml"}, 2, "", "livemod: /nonexistent/livemod.yaml: cannot read it: no such file or directory; check the --config path"},
		{[]string{"serve", "--listen", addr}, 1, "", "the port is in use (is another livemod running?)"},
		{[]string{"serve", "--tls-cert", badCfg}, 2, "", "livemod: --tls-cert/--tls-key: give both cert and key"},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--tls-cert", badCfg, "--tls-key", badCfg}, 1, "", "livemod: tls: load " + badCfg},
		{[]string{"demo", "--tls-cert", badCfg, "--tls-key", badCfg}, 2, "", "livemod demo: --tls-cert and --tls-key are for serve"},
		{[]string{"bench", "--url", "ws://" + addr, "--token", "not-a-token-of-this-server", "--duration", "1s", "--quiet"}, 1, "",
			"401: the server does not know this token"},
	} {
		name := strings.Join(tc.args, " ")
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := tc.args
			if args[0] == "serve" || args[0] == "demo" {
				// never the default ./livemod-data: tests leave nothing behind
				args = append([]string{args[0], "--data", t.TempDir()}, args[1:]...)
			}
			err := run(context.Background(), args, strings.NewReader(""), &out, &errb)
			if got := exitCode(err); got != tc.code {
				t.Fatalf("exit %d, want %d (err %v, stderr %q)", got, tc.code, err, errb.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout lacks %q:\n%s", tc.out, out.String())
			}
			msg := errb.String() + errorLine(err)
			if tc.code == 0 {
				if msg != "" {
					t.Errorf("exit 0 but stderr %q", msg)
				}
				return
			}
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q lacks %q", msg, tc.msg)
			}
			if strings.Contains(msg, ": usage") || strings.Contains(msg, "Flags:") {
				t.Errorf("message has a stray usage: %q", msg)
			}
			if tc.code == 2 && !strings.Contains(tc.msg, ":2:") && strings.Count(strings.TrimSpace(msg), "\n") != 0 {
				t.Errorf("want one line, got:\n%s", msg)
			}
		})
	}
}

// TestCLINoArgsPrintsUsage: a bare "livemod" shows the verbs and exits 2.
func TestCLINoArgsPrintsUsage(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), nil, nil, &out, &errb)
	if exitCode(err) != 2 || !strings.Contains(errb.String(), "livemod version") || errorLine(err) != "" {
		t.Errorf("exit %d, stderr %q, line %q", exitCode(err), errb.String(), errorLine(err))
	}
}

// TestStreamsAndRestrictedEndpoints: GET /v1/streams lists the streams
// with their counts and who the caller is; GET /v1/users/restricted lists
// running bans and timeouts until they are lifted.
func TestStreamsAndRestrictedEndpoints(t *testing.T) {
	addr := startApp(t, withAgent)
	base := "http://" + addr
	brIngest(t, addr, "alpha", brMsg("a-1", "asha", "hello"), brMsg("a-2", "ravi", "hi"))
	brIngest(t, addr, "beta", brMsg("b-1", "meera", "agent please, refund for order 5521"))
	var list overlay.StreamList
	eventually(t, 3*time.Second, "both streams counted", func() bool {
		callJSON(t, "GET", base+"/v1/streams", agentSecret, "", &list)
		return len(list.Streams) == 2
	})
	by := map[string]overlay.StreamInfo{}
	for _, s := range list.Streams {
		by[s.Stream] = s
	}
	if by["alpha"].Messages != 2 || by["beta"].Messages != 1 || by["beta"].OpenHandoffs != 1 || by["alpha"].LastTS == 0 {
		t.Errorf("streams = %+v", list.Streams)
	}
	if list.You.Role != auth.RoleAgent {
		t.Errorf("you = %+v", list.You)
	}
	call(t, "POST", base+"/v1/users/troll/timeout", modSecret, `{"seconds":60,"reason":"spam"}`)
	call(t, "POST", base+"/v1/users/raider/ban", modSecret, `{"reason":"raid"}`)
	var rs struct{ Restricted []overlay.Restricted }
	callJSON(t, "GET", base+"/v1/users/restricted", modSecret, "", &rs)
	if len(rs.Restricted) != 2 || rs.Restricted[0].User != "raider" || rs.Restricted[0].Until != 0 || rs.Restricted[0].Reason != "raid" ||
		rs.Restricted[1].User != "troll" || rs.Restricted[1].Until == 0 {
		t.Errorf("restricted = %+v", rs.Restricted)
	}
	call(t, "POST", base+"/v1/users/raider/unban", modSecret, `{}`)
	callJSON(t, "GET", base+"/v1/users/restricted", modSecret, "", &rs)
	if len(rs.Restricted) != 1 || rs.Restricted[0].User != "troll" {
		t.Errorf("after unban: %+v", rs.Restricted)
	}
}

// TestVersion: version, commit, Go version and build settings; a release
// build's -X values win over the build info.
func TestVersion(t *testing.T) {
	old, oldC := version, commit
	t.Cleanup(func() { version, commit = old, oldC })
	version, commit = "v1.2.3", "0123abcd"
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"livemod v1.2.3\n", "commit  0123abcd", "go      " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH, "build settings:\n  "} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("version output lacks %q:\n%s", w, out.String())
		}
	}
}
