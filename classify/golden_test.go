package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livemod/livemod/chat"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the current engine")

// TestGolden replays each testdata/golden/NAME.ndjson through one engine, in
// order, and compares the decisions with NAME.golden. Run with -update
// after a deliberate change and review the diff.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/golden/*.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden inputs in testdata/golden")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".ndjson")
		t.Run(name, func(t *testing.T) {
			e, err := New(rulesOnly())
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(in)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got bytes.Buffer
			sc := bufio.NewScanner(f)
			for line := 1; sc.Scan(); line++ {
				if len(bytes.TrimSpace(sc.Bytes())) == 0 {
					continue
				}
				var m chat.Message
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("%s:%d: %v", in, line, err)
				}
				d := e.Decide(&m)
				got.Write(d.AppendJSON(nil))
				got.WriteByte('\n')
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata/golden", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
			for i := 0; i < max(len(gl), len(wl)); i++ {
				var g, w string
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if g != w {
					t.Errorf("%s line %d:\n got: %s\nwant: %s", golden, i+1, g, w)
				}
			}
		})
	}
}
