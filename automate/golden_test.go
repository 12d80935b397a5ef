package automate_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// recorder is an Output that writes every effect as a line.
type recorder struct {
	lines []string
	quiet bool // nobody watches tickets live: joins are not sent
}

func (r *recorder) Replied(x *chat.Reply) { r.add("reply", x) }
func (r *recorder) Drafted(x *chat.Draft) { r.add("draft", x) }
func (r *recorder) TicketChanged(x *chat.Ticket, created bool) {
	if created {
		r.add("ticket.created", x)
	} else {
		r.add("ticket.changed", x)
	}
}
func (r *recorder) Watching(string) bool { return !r.quiet }
func (r *recorder) add(kind string, v any) {
	b, _ := json.Marshal(v)
	r.lines = append(r.lines, "  "+kind+" "+string(b))
}

// showOptions mirror testdata/show/livemod.yaml.
func showOptions(t testing.TB) automate.Options {
	faq, err := classify.NewFAQMatcher([]classify.FAQEntry{
		{ID: "shipping", Match: []string{"shipping", "delivery time", "when will it arrive", "kab tak aayega", "कब तक आएगा"},
			Answer: "{author_name}, shipping is free over ₹999 and takes 3–5 days."},
		{ID: "size", Match: []string{"size chart", "which size", "kaunsa size", "कौन सा साइज़"},
			Answer: "{author_name}, the size chart is pinned above; {product_name} run true to size.", Product: "our jackets"},
		{ID: "price", Match: []string{"price", "how much", "kitne ka", "कितने का"},
			Answer: "{author_name}, the blue jacket is ₹2,499 today.", Approve: true},
	}, classify.FAQOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return automate.Options{
		PerUserPerHour: 2,
		Cooldown:       30 * time.Second,
		FAQ:            faq,
		PublicNotice:   "{author_name}, an agent will message you privately.",
	}
}

// TestGoldenShow runs the engine and the stage over the show script and
// compares every decision and every effect (replies, drafts, tickets) with
// testdata/show.golden. Run with -update to rewrite it.
func TestGoldenShow(t *testing.T) {
	engine, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	opts := showOptions(t)
	opts.Output = rec
	stage, err := automate.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	dec := stage.Wrap(engine)
	f, err := os.Open(filepath.Join("..", "testdata", "show", "show.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m chat.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		d := dec.Decide(&m)
		out.Write(d.AppendJSON(nil))
		out.WriteByte('\n')
		for _, l := range rec.lines {
			out.WriteString(l + "\n")
		}
		rec.lines = rec.lines[:0]
	}
	// The moderator approves the price draft; the reply goes out.
	for _, dr := range stage.Drafts("launch", chat.DraftPending) {
		if _, err := stage.DecideDraft(dr.ID, true, "mods", 1795000200000); err != nil {
			t.Fatal(err)
		}
	}
	out.WriteString("approve\n")
	for _, l := range rec.lines {
		out.WriteString(l + "\n")
	}
	golden := filepath.Join("testdata", "show.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := out.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs:\n got %s\nwant %s\n(run go test -update if the change is meant)", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("output has %d lines, golden %d", len(gl), len(wl))
	}
}
