package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/livemod/livemod/store"
)

// TestKPISeries: GET /v1/kpis?since= returns the per-minute counts from
// the store, and they are there after a restart.
func TestKPISeries(t *testing.T) {
	dir := t.TempDir()
	ta := openApp(t, dir)
	now := time.Now().UnixMilli()
	var msgs []string
	for i := 0; i < 6; i++ {
		text := "lovely colours today"
		if i%2 == 0 {
			text = fmt.Sprintf("FREE followers at bit.ly/k%d", i)
		}
		msgs = append(msgs, msg(fmt.Sprint("k-", i), fmt.Sprint("u-", i), text, now-int64(i)*60_000))
	}
	brIngest(t, ta.Addr(), "ks", msgs...)
	sum := func(base string) (int, int, int) {
		var k struct{ Series []store.KPIMinute }
		callJSON(t, "GET", base+fmt.Sprintf("/v1/kpis?stream=ks&since=%d", now-time.Hour.Milliseconds()), modSecret, "", &k)
		m, h := 0, 0
		for _, p := range k.Series {
			m += p.Messages
			h += p.Hidden + p.Held
		}
		return m, h, len(k.Series)
	}
	m, h, n := sum("http://" + ta.Addr())
	if m != 6 || h != 3 || n < 5 {
		t.Fatalf("series: %d messages, %d hidden or held, %d minutes; want 6, 3, ≥ 5", m, h, n)
	}
	ta.stop(t)
	ta = openApp(t, dir)
	if m2, h2, _ := sum("http://" + ta.Addr()); m2 != m || h2 != h {
		t.Errorf("after a restart: %d messages, %d hidden; want %d, %d", m2, h2, m, h)
	}
	if code, _ := call(t, "GET", "http://"+ta.Addr()+"/v1/kpis?stream=ks&since=yesterday", modSecret, ""); code != 400 {
		t.Errorf("since=yesterday: %d, want 400", code)
	}
}
