package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestDeployKitNamesRealMetrics: every livemod_* metric that the Grafana
// dashboard and the alert rules use exists on a running server.
func TestDeployKitNamesRealMetrics(t *testing.T) {
	addr := startApp(t, nil)
	// One message, so that labelled series exist.
	in := dial(t, "ws://"+addr+"/v1/ingest?stream=s", ingestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := in.Write(ctx, websocket.MessageText, []byte(`{"user":{"id":"u"},"text":"how much is it?"}`)); err != nil {
		t.Fatal(err)
	}
	var metrics string
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, metrics = get(t, "http://"+addr+"/metrics", adminSecret)
		if strings.Contains(metrics, "livemod_decision_labels_total{") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "# TYPE ") {
			have[strings.Fields(line)[2]] = true
		}
	}
	name := regexp.MustCompile(`livemod_[a-z_]+`)
	files, _ := filepath.Glob("../../deploy/*/*")
	if len(files) < 2 {
		t.Fatalf("deploy kit not found: %v", files)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for _, m := range name.FindAllString(string(b), -1) {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
			checked++
			if !have[base] {
				missing = append(missing, m)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s names metrics the server does not export: %v", f, missing)
		}
	}
	if checked == 0 {
		t.Fatal("no livemod_ metrics found in the deploy kit")
	}
	t.Log(fmt.Sprintf("checked %d metric references", checked))
}
