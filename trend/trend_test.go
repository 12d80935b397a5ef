package trend

import (
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

const t0 = int64(1795000000000)

func TestTrendingMerges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		asks []string
		same bool
	}{
		{"english", []string{"how much is the blue jacket?", "blue jacket price?", "what's the price of the blue jacket"}, true},
		{"plural and case", []string{"Price of the BLUE jackets??", "how much for blue jacket"}, true},
		{"hindi", []string{"नीली जैकेट कितने की है?", "नीली जैकेट का दाम क्या है?", "नीली जैकेट की कीमत बताइए"}, true},
		{"hinglish", []string{"blue jacket kitne ka hai?", "neeli jacket ka price kya hai", "bhai blue jacket ka rate batao"}, true},
		{"across scripts", []string{"नीली जैकेट कितने की है?", "how much is the blue jacket?"}, true},
		{"price vs size", []string{"how much is the blue jacket?", "what size is the blue jacket?"}, false},
		{"different items", []string{"price of the blue jacket?", "price of the red saree?"}, false},
		{"shipping", []string{"when will it arrive?", "delivery kab tak hogi?"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := NewTrending(TrendOptions{})
			ids := map[string]bool{}
			var askers int
			for i, q := range tc.asks {
				id, n := observe(tr, "s", fmt.Sprintf("u-%d", i), q, t0+int64(i)*1000)
				if id == "" {
					t.Fatalf("%q joined no cluster", q)
				}
				ids[id] = true
				askers = n
			}
			if tc.same {
				if len(ids) != 1 || askers != len(tc.asks) {
					t.Fatalf("want one cluster with %d askers, got %d clusters, last askers %d", len(tc.asks), len(ids), askers)
				}
				snap := tr.Snapshot("s", t0+10000, 5)
				if len(snap.Questions) != 1 || snap.Questions[0].Text != tc.asks[0] || snap.Questions[0].Askers != len(tc.asks) {
					t.Fatalf("snapshot %+v", snap)
				}
			} else if len(ids) != len(tc.asks) {
				t.Fatalf("want %d clusters, got %d", len(tc.asks), len(ids))
			}
		})
	}
}

func TestTrendingDistinctAskersAndDecay(t *testing.T) {
	t.Parallel()
	tr := NewTrending(TrendOptions{HalfLife: 60000})
	// One user asking five times is one asker.
	for i := 0; i < 5; i++ {
		if _, n := observe(tr, "s", "u-1", "how much is the blue jacket?", t0+int64(i)); n != 1 {
			t.Fatalf("repeat ask counted: askers %d", n)
		}
	}
	// Three askers of an old question, two of a new one ten minutes later.
	old := t0
	for i := 0; i < 3; i++ {
		observe(tr, "s", fmt.Sprintf("a-%d", i), "what size is the red saree?", old)
	}
	now := t0 + 10*60000
	for i := 0; i < 2; i++ {
		observe(tr, "s", fmt.Sprintf("b-%d", i), "is cash on delivery cod available?", now)
	}
	snap := tr.Snapshot("s", now, 0)
	if len(snap.Questions) != 3 {
		t.Fatalf("want 3 clusters, got %+v", snap.Questions)
	}
	if got := snap.Questions[0].Text; got != "is cash on delivery cod available?" {
		t.Fatalf("fresh question should lead, got %q (%+v)", got, snap.Questions)
	}
	if snap.Questions[0].Score < 1.9 || snap.Questions[0].Score > 2 {
		t.Fatalf("score of two fresh askers = %v", snap.Questions[0].Score)
	}
	if snap.Questions[1].Askers != 3 || snap.Questions[1].Score > 0.01 {
		t.Fatalf("old cluster keeps askers but decays: %+v", snap.Questions[1])
	}
}

func TestTrendingHostActions(t *testing.T) {
	t.Parallel()
	tr := NewTrending(TrendOptions{})
	a, _ := observe(tr, "s", "u-1", "how much is the blue jacket?", t0)
	b, _ := observe(tr, "s", "u-2", "what size is the red saree?", t0)
	c, _ := observe(tr, "s", "u-3", "is cod available?", t0)
	if st, ok := tr.Stream(b); !ok || st != "s" {
		t.Fatalf("Stream(%s) = %q, %v", b, st, ok)
	}
	if _, err := tr.Pin("s", a); err != nil {
		t.Fatal(err)
	}
	snap := tr.Snapshot("s", t0, 5)
	if snap.Pinned == nil || snap.Pinned.Cluster != a || len(snap.Questions) != 2 {
		t.Fatalf("after pin: %+v", snap)
	}
	if _, err := tr.Pin("s", b); err != nil {
		t.Fatal(err)
	}
	snap = tr.Snapshot("s", t0, 5)
	if snap.Pinned.Cluster != b || len(snap.Questions) != 2 {
		t.Fatalf("pinning b should unpin a: %+v", snap)
	}
	if _, err := tr.Answered("s", b); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Dismiss("s", c); err != nil {
		t.Fatal(err)
	}
	snap = tr.Snapshot("s", t0, 5)
	if snap.Pinned != nil || len(snap.Questions) != 1 || snap.Questions[0].Cluster != a {
		t.Fatalf("after answered+dismiss: %+v", snap)
	}
	// A dismissed question stays dismissed when more people ask it.
	if id, n := observe(tr, "s", "u-4", "cod available?", t0+1); id != c || n != 2 {
		t.Fatalf("new ask of dismissed: %s %d", id, n)
	}
	if snap = tr.Snapshot("s", t0, 5); len(snap.Questions) != 1 {
		t.Fatalf("dismissed came back: %+v", snap)
	}
	if _, err := tr.Pin("s", "q-nope"); err != ErrNoCluster {
		t.Fatalf("pin unknown: %v", err)
	}
	if _, err := tr.Pin("other", a); err != ErrNoCluster {
		t.Fatalf("pin in other stream: %v", err)
	}
}

func TestTrendingBounded(t *testing.T) {
	t.Parallel()
	tr := NewTrending(TrendOptions{MaxClusters: 8, MaxStreams: 16})
	pinned, _ := observe(tr, "s", "u", "how much is the blue jacket?", t0)
	tr.Pin("s", pinned)
	for i := 0; i < 1000; i++ {
		observe(tr, "s", fmt.Sprintf("u-%d", i), fmt.Sprintf("is item%d in stock?", i), t0+int64(i)*1000)
	}
	snap := tr.Snapshot("s", t0+1000000, 0)
	if len(snap.Questions) > 7 || snap.Pinned == nil || snap.Pinned.Cluster != pinned {
		t.Fatalf("clusters %d, pinned %+v", len(snap.Questions), snap.Pinned)
	}
	for i := 0; i < 200; i++ {
		observe(tr, fmt.Sprintf("s-%d", i), "u", "how much?", t0)
	}
	streams := 0
	for i := range tr.shards {
		streams += len(tr.shards[i].streams)
	}
	if streams > 16+trendShards {
		t.Fatalf("%d streams tracked", streams)
	}
	if id, _ := observe(tr, "s", "u", "?? kya", t0); id != "" {
		t.Fatalf("contentless question clustered as %s", id)
	}
}

// trendBench is a busy show's trending: 200 clusters, four questions
// asked by 20,000 viewers, so that the clusters' asker sets fill up.
func trendBench() (tr *Trending, qs, plains, users []string) {
	tr = NewTrending(TrendOptions{})
	qs = []string{"how much is the blue jacket?", "what size is the red saree", "delivery kab tak hogi", "नीली जैकेट कितने की है?"}
	for i := 0; i < 200; i++ {
		observe(tr, "s", "seed", fmt.Sprintf("is item%d in stock?", i), t0)
	}
	plains = make([]string, len(qs))
	for i, q := range qs {
		plains[i] = classify.Normalize(q)
	}
	users = make([]string, 20000)
	for i := range users {
		users[i] = "u-" + strconv.Itoa(i)
	}
	return tr, qs, plains, users
}

func BenchmarkTrendingObserve(b *testing.B) {
	tr, qs, plains, users := trendBench()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Observe("s", users[i%len(users)], qs[i&3], plains[i&3], t0+int64(i))
	}
}

// BenchmarkTrendingObserveParallel is BenchmarkTrendingObserve from every
// core at once, on one stream: the pipeline's shards asking about one show.
func BenchmarkTrendingObserveParallel(b *testing.B) {
	tr, qs, plains, users := trendBench()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			tr.Observe("s", users[i%len(users)], qs[i&3], plains[i&3], t0+int64(i))
			i++
		}
	})
}

func TestEngineSetsQuestion(t *testing.T) {
	t.Parallel()
	tr := NewTrending(TrendOptions{})
	e, err := classify.New(classify.Options{Trending: tr})
	if err != nil {
		t.Fatal(err)
	}
	var last chat.Decision
	for i, q := range []string{"how much is the blue jacket?", "blue jacket price?", "what's the price of the blue jacket"} {
		last = e.Decide(&chat.Message{ID: fmt.Sprint(i), Stream: "s", User: chat.User{ID: fmt.Sprint("u", i)}, Text: q, TS: t0 + int64(i)})
		if last.Question == nil {
			t.Fatalf("%q: no question ref (labels %v)", q, last.Labels.Slice())
		}
	}
	if last.Question.Askers != 3 {
		t.Fatalf("askers %d", last.Question.Askers)
	}
	if d := e.Decide(&chat.Message{ID: "x", Stream: "s", User: chat.User{ID: "u9"}, Text: "hello everyone", TS: t0}); d.Question != nil {
		t.Fatalf("non-question got %+v", d.Question)
	}
	plain, _ := classify.New(classify.Options{})
	if d := plain.Decide(&chat.Message{ID: "y", Stream: "s", User: chat.User{ID: "u1"}, Text: "blue jacket price?", TS: t0}); d.Question != nil || plain.Trending() != nil {
		t.Fatal("an engine without Trending clustered")
	}
}

// TestTrendingEraseUser: an erased user's question leaves the list (pinned
// too), they stop counting among the askers of others' questions, and
// their export of questions empties; others' questions stay.
func TestTrendingEraseUser(t *testing.T) {
	tr := NewTrending(TrendOptions{})
	ship, _ := observe(tr, "s", "u1", "how long does shipping take?", 1000)
	observe(tr, "s", "u2", "how long does shipping take", 1100)
	price, _ := observe(tr, "s", "u2", "what is the price of the blue jacket?", 1200)
	if _, n := observe(tr, "s", "u1", "price of the blue jacket?", 1300); n != 2 {
		t.Fatalf("price question: %d askers, want 2", n)
	}
	observe(tr, "other", "u1", "does it come in red?", 1400)
	if _, err := tr.Pin("s", ship); err != nil {
		t.Fatal(err)
	}
	if got := tr.UserQuestions("u1"); len(got) != 2 || got[0].Cluster != ship || got[0].Stream != "s" || got[1].Stream != "other" {
		t.Fatalf("UserQuestions(u1) = %+v; want the shipping one in s, then the red one in other", got)
	}

	streams, n := tr.EraseUser("u1")
	slices.Sort(streams)
	if n != 3 || !slices.Equal(streams, []string{"other", "s"}) {
		t.Fatalf("EraseUser = %v, %d; want [other s], 3 (two questions gone, one uncounted)", streams, n)
	}
	snap := tr.Snapshot("s", 1500, 0)
	if snap.Pinned != nil || len(snap.Questions) != 1 || snap.Questions[0].Cluster != price || snap.Questions[0].Askers != 1 {
		t.Fatalf("after erasure: %+v; want only the price question, asked by one", snap)
	}
	if got := tr.UserQuestions("u1"); len(got) != 0 {
		t.Errorf("UserQuestions(u1) after erasure = %+v", got)
	}
	if got := tr.UserQuestions("u2"); len(got) != 1 || got[0].Cluster != price {
		t.Errorf("UserQuestions(u2) = %+v; want the price question", got)
	}
}

// observe is Observe with the plain form the engine would give it.
func observe(tr *Trending, stream, user, text string, ts int64) (string, int) {
	return tr.Observe(stream, user, text, classify.Normalize(text), ts)
}
