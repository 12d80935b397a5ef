package bench

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// wireMessage is the message of docs/WIRE.md as a test reads it back.
type wireMessage struct {
	ID       string `json:"id"`
	Stream   string `json:"stream"`
	Platform string `json:"platform"`
	User     struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"user"`
	Text string `json:"text"`
	TS   int64  `json:"ts"`
}

func generate(opts AudienceOptions, n int) ([]byte, []Kind) {
	a := NewAudience(opts)
	var out []byte
	kinds := make([]Kind, 0, n)
	for i := range n {
		out = a.AppendNext(out, "m-"+strconv.Itoa(i), 1795000000000+int64(i))
		out = append(out, '\n')
		kinds = append(kinds, a.Kind())
	}
	return out, kinds
}

func TestAudienceDeterministic(t *testing.T) {
	t.Parallel()
	opts := AudienceOptions{Seed: 42, Stream: "launch"}
	a, ka := generate(opts, 2000)
	b, kb := generate(opts, 2000)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different bytes")
	}
	for i := range ka {
		if ka[i] != kb[i] {
			t.Fatalf("kind %d differs: %v vs %v", i, ka[i], kb[i])
		}
	}
	c, _ := generate(AudienceOptions{Seed: 43, Stream: "launch"}, 2000)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same bytes")
	}
}

func TestAudienceWireFormat(t *testing.T) {
	t.Parallel()
	const n = 5000
	out, kinds := generate(AudienceOptions{Seed: 7, Stream: `sh"ow`, Users: 50}, n)
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(lines) != n {
		t.Fatalf("got %d lines, want %d", len(lines), n)
	}
	count := map[Kind]int{}
	users := map[string]bool{}
	texts := map[string]int{}
	for i, l := range lines {
		var m wireMessage
		dec := json.NewDecoder(bytes.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("line %d %s: %v", i, l, err)
		}
		if m.ID != "m-"+strconv.Itoa(i) || m.Stream != `sh"ow` || m.TS != 1795000000000+int64(i) {
			t.Fatalf("line %d: id/stream/ts wrong: %s", i, l)
		}
		if m.Platform == "" || m.User.ID == "" || m.User.Name == "" || strings.TrimSpace(m.Text) == "" {
			t.Fatalf("line %d: empty field: %s", i, l)
		}
		count[kinds[i]]++
		users[m.User.ID] = true
		texts[m.Text]++
	}
	for k := range numKinds {
		if count[k] == 0 {
			t.Errorf("no %v messages in %d", k, n)
		}
	}
	if share := float64(count[KindChat]) / n; share < 0.6 || share > 0.8 {
		t.Errorf("ordinary chat is %.0f%% of the mix, want about 70%%", share*100)
	}
	if len(users) < 40 {
		t.Errorf("only %d distinct authors", len(users))
	}
	// A raid is many users sending the same line.
	most := 0
	for _, c := range texts {
		most = max(most, c)
	}
	if most < 20 {
		t.Errorf("no line repeated 20 times: no copypasta raid?")
	}
	t.Logf("mix of %d: %v", n, count)
}

func TestAudienceScenesComeInBursts(t *testing.T) {
	t.Parallel()
	a := NewAudience(AudienceOptions{Seed: 1, SceneEvery: 100})
	var seen []Kind
	for range 400 {
		a.AppendNext(nil, "x", 0)
		if s := a.Scene(); s != KindChat && (len(seen) == 0 || seen[len(seen)-1] != s) {
			seen = append(seen, s)
		}
	}
	want := []Kind{KindSpam, KindCopypasta, KindTroll, KindAgent}
	if len(seen) != len(want) {
		t.Fatalf("scenes %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("scenes %v, want %v", seen, want)
		}
	}
}

func TestAppendNextSeq(t *testing.T) {
	t.Parallel()
	a := NewAudience(AudienceOptions{Seed: 3})
	b := NewAudience(AudienceOptions{Seed: 3})
	x := a.AppendNextSeq(nil, "b1-", 123, 5)
	y := b.AppendNext(nil, "b1-123", 5)
	if !bytes.Equal(x, y) {
		t.Fatalf("AppendNextSeq %s != AppendNext %s", x, y)
	}
}

func TestAppendEscaped(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"plain", `q"uote`, `back\slash`, "nl\n\ttab\x01", "हिंदी 🔥", "bad\xffutf8", "z\u200bw"} {
		got := append([]byte{'"'}, appendEscaped(nil, s)...)
		got = append(got, '"')
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %s: %v", s, got, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
			t.Errorf("%q round-tripped to %q", s, back)
		}
	}
}

func BenchmarkAudienceAppendNext(b *testing.B) {
	a := NewAudience(AudienceOptions{Seed: 1, Stream: "bench"})
	buf := make([]byte, 0, 512)
	var total int
	b.ReportAllocs()
	for b.Loop() {
		buf = a.AppendNext(buf[:0], "b3-000123", 1795000000000)
		total += len(buf)
	}
	b.SetBytes(int64(total / max(1, b.N)))
}

func BenchmarkAudienceAppendNextSeq(b *testing.B) {
	a := NewAudience(AudienceOptions{Seed: 1, Stream: "bench"})
	buf := make([]byte, 0, 512)
	var seq uint64
	b.ReportAllocs()
	for b.Loop() {
		seq++
		buf = a.AppendNextSeq(buf[:0], "b3-", seq, 1795000000000)
	}
}

// BenchmarkAudienceConns generates as `livemod bench` does with its
// default 16 connections: 16 audiences of 5,000 viewers each, a frame of
// 64 messages from each in turn. Their viewers together outgrow the
// caches, as in a real run.
func BenchmarkAudienceConns(b *testing.B) {
	var auds [16]*Audience
	for i := range auds {
		auds[i] = NewAudience(AudienceOptions{Seed: int64(i), Stream: "bench", Users: 5000, UserPrefix: strconv.Itoa(i) + "-"})
	}
	buf := make([]byte, 0, 64*512)
	var seq uint64
	b.ReportAllocs()
	for b.Loop() {
		a := auds[seq/64%16]
		seq++
		buf = a.AppendNextSeq(buf[:0], "b3-", seq, 1795000000000)
	}
}

// TestAudienceMixes: neutral chat is ordinary chat only; a realistic
// audience has as many messages as a hard one, but the calls for a person
// and the order problems come from about one viewer in a hundred.
func TestAudienceMixes(t *testing.T) {
	const users, n = 20000, 200000
	needy := func(m Mix) (kinds map[Kind]int, askers int) {
		a := NewAudience(AudienceOptions{Seed: 3, Users: users, Mix: m})
		kinds = map[Kind]int{}
		who := map[string]bool{}
		var b []byte
		for i := range n {
			b = a.AppendNext(b[:0], "m-"+strconv.Itoa(i), 1)
			kinds[a.Kind()]++
			if k := a.Kind(); k == KindAgent || k == KindSupport {
				var m struct {
					User struct{ ID string } `json:"user"`
				}
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				who[m.User.ID] = true
			}
		}
		return kinds, len(who)
	}
	kinds, askers := needy(MixNeutral)
	if kinds[KindChat] != n || askers != 0 {
		t.Errorf("neutral: kinds %v, %d askers; want chat only", kinds, askers)
	}
	hard, hardAskers := needy(MixHard)
	real, realAskers := needy(MixRealistic)
	if hardAskers < 20*realAskers {
		t.Errorf("hard: %d of %d viewers asked for a person, realistic %d; want far more", hardAskers, users, realAskers)
	}
	if realAskers == 0 || realAskers > users/100 {
		t.Errorf("realistic: %d of %d viewers asked for a person; want at most 1 in 100", realAskers, users)
	}
	if hard[KindAgent]+hard[KindSupport] != real[KindAgent]+real[KindSupport] {
		t.Errorf("the same calls for a person, from fewer viewers: hard %v, realistic %v", hard, real)
	}
	for _, s := range []string{"hard", "realistic", "neutral"} {
		if m, err := ParseMix(s); err != nil || m.String() != s {
			t.Errorf("ParseMix(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseMix("calm"); err == nil {
		t.Error("ParseMix(calm): no error")
	}
}
