package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/internal/testenv"
	"go.yaml.in/yaml/v3"
)

var slowLine = regexp.MustCompile(`(?m)^livemod_fanout_slow_disconnects_total\{reason="(\w+)"\} (\S+)$`)

// slowDisconnects scrapes the server's slow-disconnect counters by reason.
func slowDisconnects(t *testing.T, base string) map[string]float64 {
	t.Helper()
	_, metrics := get(t, base+"/metrics", adminSecret)
	out := map[string]float64{}
	for _, m := range slowLine.FindAllStringSubmatch(metrics, -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		out[m[1]] = v
	}
	if len(out) == 0 {
		t.Fatal("/metrics has no livemod_fanout_slow_disconnects_total")
	}
	return out
}

// TestSlowSubscriberAlertFires: six moderator pages that stop reading
// are disconnected by a real server's write watchdog and counted; the counters it exports,
// fed to promtool as a scrape before and after, make the shipped
// LivemodSlowSubscribers alert fire (and not before).
func TestSlowSubscriberAlertFires(t *testing.T) {
	promtool := testenv.Need(t, testenv.Promtool)
	addr := startApp(t, func(c *config.Config) {
		// A queue too big to overflow first: the write watchdog is what
		// cuts these subscribers off.
		c.Fanout.MaxQueueBytes = 256 << 20
		c.Fanout.WriteTimeout = 300 * time.Millisecond
	})
	base := "http://" + addr
	before := slowDisconnects(t, base)
	for range 6 {
		dial(t, "ws://"+addr+"/v1/subscribe?stream=al&view=moderator", modSecret) // never read
	}
	in := dial(t, "ws://"+addr+"/v1/ingest?stream=al", ingestSecret)
	readErr := make(chan error, 1)
	go func() { // drain acks
		for {
			if _, _, err := in.Read(context.Background()); err != nil {
				readErr <- err
				return
			}
		}
	}()
	text := strings.Repeat("a long line from the crowd ", 55) // ~1.5 KB
	total := func(m map[string]float64) (n float64) {
		for _, v := range m {
			n += v
		}
		return n
	}
	var after map[string]float64
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		after = slowDisconnects(t, base)
		if total(after)-total(before) >= 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: slow disconnects %v, want 6 more than %v", after, before)
		}
		var b strings.Builder
		for j := range 30 { // 30 × 1.5 KB: under ingest.max_frame_bytes
			n := i*30 + j
			b.WriteString(msg(fmt.Sprint("al-", n), fmt.Sprint("alu-", n%1000), fmt.Sprint(n, " ", text), 0))
			b.WriteByte('\n')
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := in.Write(ctx, websocket.MessageText, []byte(b.String()))
		cancel()
		if err != nil {
			select {
			case rerr := <-readErr:
				t.Fatalf("ingest: %v (%v)", err, rerr)
			default:
				t.Fatal(err)
			}
		}
	}
	t.Logf("slow disconnects by reason: before %v, after %v", before, after)
	if after["write"]-before["write"] == 0 {
		t.Errorf("no disconnect by the write watchdog (reason write): %v", after)
	}
	ann := alertAnnotations(t, "LivemodSlowSubscribers", map[string]string{"{{ $labels.instance }}": "livemod:8080"})

	// One scrape a minute: three before the disconnects, three after.
	var series strings.Builder
	for reason, a := range after {
		b := before[reason]
		fmt.Fprintf(&series, "      - series: 'livemod_fanout_slow_disconnects_total{instance=\"livemod:8080\",job=\"livemod\",reason=\"%s\"}'\n        values: '%g %g %g %g %g %g'\n", reason, b, b, b, a, a, a)
	}
	rules, err := filepath.Abs("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	test := fmt.Sprintf(`rule_files: [%q]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
%s    alert_rule_test:
      - eval_time: 2m
        alertname: LivemodSlowSubscribers
        exp_alerts: []
      - eval_time: 5m
        alertname: LivemodSlowSubscribers
        exp_alerts:
          - exp_labels: {severity: warn, instance: "livemod:8080"}
            exp_annotations: %s
`, rules, series.String(), ann)
	f := filepath.Join(t.TempDir(), "slow_test.yml")
	if err := os.WriteFile(f, []byte(test), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "test", "rules", f).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s\n%s", err, out, test)
	}
}

// alertAnnotations returns the annotations of the named rule in the
// shipped alerts.yml, as a YAML flow map, with templates replaced.
func alertAnnotations(t *testing.T, name string, repl map[string]string) string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != name {
				continue
			}
			var parts []string
			for k, v := range r.Annotations {
				for from, to := range repl {
					v = strings.ReplaceAll(v, from, to)
				}
				q, _ := json.Marshal(v)
				parts = append(parts, k+": "+string(q))
			}
			return "{" + strings.Join(parts, ", ") + "}"
		}
	}
	t.Fatalf("alerts.yml has no alert %s", name)
	return ""
}
