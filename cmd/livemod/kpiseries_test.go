package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/overlay"
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

// TestKPIsSurviveRestart: every counter GET /v1/kpis reports (replies,
// false positives, meaningful and negative rates, the mood line, the
// rates, when counting began, tickets, appeals, review precision) is the
// same after the server restarts from the same data dir.
func TestKPIsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	withFAQ := func(c *config.Config) {
		withAgent(c)
		c.FAQ = []config.FAQ{{ID: "shipping", Match: []string{"shipping", "delivery time"}, Answer: "{author_name}, shipping takes 3–5 days."}}
		c.Review.Share = 1
	}
	ta := runApp(t, dir, withFAQ)
	base := "http://" + ta.Addr()
	now := time.Now().UnixMilli()
	brIngest(t, ta.Addr(), "kr",
		msg("kr-1", "u-1", "FREE followers at bit.ly/kr1", now),
		msg("kr-2", "u-2", "lovely colours today", now),
		msg("kr-3", "u-3", "how long does shipping take?", now),
		msg("kr-4", "u-4", "this is terrible, worst stream ever, I hate it", now),
		msg("kr-5", "u-5", "FREE followers at bit.ly/kr5", now),
	)
	if code, body := call(t, "POST", base+"/v1/messages/kr-1/unhide", modSecret, `{"stream":"kr"}`); code != 200 {
		t.Fatalf("unhide: %d %s", code, body)
	}
	report := func(base string) overlay.KPIReport {
		var k overlay.KPIReport
		callJSON(t, "GET", base+"/v1/kpis?stream=kr", modSecret, "", &k)
		return k
	}
	before := report(base)
	if before.AutoReplies != 1 || before.FalsePositiveRate.N != 1 || before.FalsePositiveRate.Of != 2 ||
		before.MeaningfulRate.Of != 5 || before.MeaningfulRate.N == 0 || before.NegativeRate.N == 0 || len(before.Mood) == 0 ||
		before.MessagesPerSecond == 0 || before.DecisionsPerSecond == 0 {
		t.Fatalf("before the restart: %+v; want one reply, 1 of 2 undone, 5 messages, some meaningful and negative, a mood and rates", before)
	}
	ta.stop(t)

	ta = runApp(t, dir, withFAQ)
	after := report("http://" + ta.Addr())
	eq := func(name string, a, b any) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s after a restart: %s; before: %s", name, jb, ja)
		}
	}
	eq("auto_replies", before.AutoReplies, after.AutoReplies)
	eq("false_positive_rate", before.FalsePositiveRate, after.FalsePositiveRate)
	eq("meaningful_comment_rate", before.MeaningfulRate, after.MeaningfulRate)
	eq("negative_rate", before.NegativeRate, after.NegativeRate)
	eq("mood", before.Mood, after.Mood)
	eq("first_response_ms", before.FirstResponseMS, after.FirstResponseMS)
	eq("resolution_rate", before.ResolutionRate, after.ResolutionRate)
	eq("appeals", before.Appeals, after.Appeals)
	eq("review_precision", before.Reviews, after.Reviews)
	if after.Since > before.Since || after.Since < now-2*60_000 {
		t.Errorf("since after a restart: %d; want the first kept minute (≤ %d)", after.Since, before.Since)
	}
	if after.MessagesPerSecond != before.MessagesPerSecond || after.DecisionsPerSecond != before.DecisionsPerSecond {
		t.Errorf("rates after a restart: %v msg/s, %v decisions/s; before: %v, %v (the last minute is kept)",
			after.MessagesPerSecond, after.DecisionsPerSecond, before.MessagesPerSecond, before.DecisionsPerSecond)
	}
}

// TestRetentionOldestOnMetrics: /metrics shows the age of the oldest
// record of each kind, as of the purge that runs at start and after.
func TestRetentionOldestOnMetrics(t *testing.T) {
	dir := t.TempDir()
	ta := openApp(t, dir)
	brIngest(t, ta.Addr(), "rm", msg("rm-1", "u-1", "FREE followers at bit.ly/rm1", 0))
	ta.stop(t)
	ta = openApp(t, dir) // the purge at start sees the audit entry and the minute
	var audit, minutes float64
	eventually(t, 10*time.Second, "the oldest audit entry and KPI minute on /metrics", func() bool {
		_, body := call(t, "GET", "http://"+ta.Addr()+"/metrics", adminSecret, "")
		for _, l := range strings.Split(body, "\n") {
			fmt.Sscanf(l, `livemod_retention_oldest_seconds{kind="audit"} %g`, &audit)
			fmt.Sscanf(l, `livemod_retention_oldest_seconds{kind="kpi_minutes"} %g`, &minutes)
		}
		if audit == 0 || minutes == 0 {
			t.Logf("metrics: %s", grepLines(body, "retention_oldest"))
		}
		return audit > 0 && minutes > 0
	})
	if audit > 3600 || minutes > 3600 {
		t.Errorf("oldest audit entry %gs, KPI minute %gs; want both from this test", audit, minutes)
	}
}

func grepLines(body, sub string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
