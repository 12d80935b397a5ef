package broker

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// recorder is a Subscriber that keeps what it is given.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Push(line []byte) {
	r.mu.Lock()
	r.lines = append(r.lines, string(line))
	r.mu.Unlock()
}

func (r *recorder) PushLines(lines []byte) {
	r.mu.Lock()
	for _, l := range strings.Split(strings.TrimSuffix(string(lines), "\n"), "\n") {
		r.lines = append(r.lines, l)
	}
	r.mu.Unlock()
}

func (r *recorder) got() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "|")
}

// testBroker is the contract every Broker meets; a Redis broker runs it
// too.
func testBroker(t *testing.T, b Broker) {
	if b.Watched(ViewAgent) || b.Subscribers("a", ViewAgent) != 0 {
		t.Fatal("a new broker has subscribers")
	}
	b.Publish("a", ViewModerator, []byte(`{"lost":1}`)) // nobody listens: dropped
	modA, modA2, ovA, modB := &recorder{}, &recorder{}, &recorder{}, &recorder{}
	b.Subscribe(Topic{"a", ViewModerator}, modA)
	b.Subscribe(Topic{"a", ViewModerator}, modA2)
	b.Subscribe(Topic{"a", ViewOverlay}, ovA)
	b.Subscribe(Topic{"b", ViewModerator}, modB)
	if !b.Watched(ViewModerator) || b.Watched(ViewAgent) || b.Subscribers("a", ViewModerator) != 2 {
		t.Fatalf("watched %v/%v, subscribers %d", b.Watched(ViewModerator), b.Watched(ViewAgent), b.Subscribers("a", ViewModerator))
	}
	line := []byte(`{"id":"m-1"}`)
	b.Publish("a", ViewModerator, line)
	copy(line, `{"id":"XX"}`) // the caller may reuse its line at once
	b.PublishLines("a", ViewModerator, []byte("{\"id\":\"m-2\"}\n{\"id\":\"m-3\"}\n"))
	b.Publish("a", ViewOverlay, []byte(`{"type":"trending"}`))
	b.Publish("b", ViewModerator, []byte(`{"id":"b-1"}`))
	for _, c := range []struct {
		r    *recorder
		want string
	}{{modA, `{"id":"m-1"}|{"id":"m-2"}|{"id":"m-3"}`}, {modA2, `{"id":"m-1"}|{"id":"m-2"}|{"id":"m-3"}`}, {ovA, `{"type":"trending"}`}, {modB, `{"id":"b-1"}`}} {
		if got := c.r.got(); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
	b.Unsubscribe(Topic{"a", ViewModerator}, modA)
	b.Publish("a", ViewModerator, []byte(`{"id":"m-4"}`))
	if strings.Contains(modA.got(), "m-4") || !strings.Contains(modA2.got(), "m-4") {
		t.Errorf("after unsubscribe: %s / %s", modA.got(), modA2.got())
	}
	b.Unsubscribe(Topic{"a", ViewOverlay}, ovA)
	if b.Watched(ViewOverlay) {
		t.Error("overlay still watched with no subscriber")
	}
	b.AddSnapshot(func(s string, v View) [][]byte { return [][]byte{[]byte(fmt.Sprintf("first %s %s", s, v))} })
	b.AddSnapshot(func(s string, v View) [][]byte {
		if v != ViewAgent {
			return nil
		}
		return [][]byte{[]byte("second " + s)}
	})
	if got := fmt.Sprintf("%q", b.Snapshot("a", ViewAgent)); got != `["first a agent" "second a"]` {
		t.Errorf("snapshot %s", got)
	}
	if got := fmt.Sprintf("%q", b.Snapshot("a", ViewOverlay)); got != `["first a overlay"]` {
		t.Errorf("snapshot %s", got)
	}
}

func TestMemory(t *testing.T) { testBroker(t, NewMemory()) }

// TestMemoryConcurrent: publishing while subscribers come and go loses no
// line for a subscriber that stays (run with -race).
func TestMemoryConcurrent(t *testing.T) {
	b := NewMemory()
	stay := &recorder{}
	b.Subscribe(Topic{"s", ViewModerator}, stay)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 1000; i++ {
			b.Publish("s", ViewModerator, []byte("x"))
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			r := &recorder{}
			b.Subscribe(Topic{"s", ViewModerator}, r)
			b.Unsubscribe(Topic{"s", ViewModerator}, r)
		}
	}()
	wg.Wait()
	if n := strings.Count(stay.got(), "x"); n != 1000 {
		t.Fatalf("the staying subscriber got %d of 1000", n)
	}
}

func TestParseView(t *testing.T) {
	for v := range NumViews {
		if got, err := ParseView(v.String()); err != nil || got != v {
			t.Errorf("ParseView(%s) = %v, %v", v, got, err)
		}
	}
	if _, err := ParseView("admin"); err == nil {
		t.Error("ParseView(admin) is no error")
	}
}

func BenchmarkMemoryPublishLines(b *testing.B) {
	br := NewMemory()
	for i := 0; i < 8; i++ {
		br.Subscribe(Topic{"show", ViewModerator}, discard{})
	}
	lines := []byte(strings.Repeat(`{"id":"m-1","stream":"show","text":"hello"}`+"\n", 64))
	b.ReportAllocs()
	b.SetBytes(int64(len(lines)))
	for b.Loop() {
		br.PublishLines("show", ViewModerator, lines)
	}
}

type discard struct{}

func (discard) Push([]byte)      {}
func (discard) PushLines([]byte) {}
