// Command restbench measures REST actions that are answered only once
// they are durable: claims of handoff tickets and hides of messages, by
// concurrent clients, against a running livemod (scripts/ab.sh runs it).
// It first ingests n support requests (each opens a ticket) and n chat
// lines, then claims every open ticket and hides every chat line.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:18123", "the server")
	n := flag.Int("n", 2000, "tickets and chat lines")
	workers := flag.Int("c", 16, "concurrent clients")
	token := flag.String("token", "ab-admin-token", "an admin token")
	flag.Parse()
	tok := *token
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, strings.Replace(*base, "http", "ws", 1)+"/v1/ingest?stream=s", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
	if err != nil {
		panic(err)
	}
	var acked atomic.Int64
	go func() {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			for _, l := range strings.Split(string(b), "\n") {
				var a struct {
					Type string
					N    int
				}
				json.Unmarshal([]byte(l), &a)
				if a.Type == "ack" {
					acked.Add(int64(a.N))
				}
			}
		}
	}()
	now := time.Now().UnixMilli()
	for i := 0; i < *n; i += 20 {
		var b strings.Builder
		for j := i; j < i+20; j++ {
			fmt.Fprintf(&b, `{"id":"t-%d","user":{"id":"u-%d"},"text":"agent please, order %d never arrived","ts":%d}`+"\n", j, j, 1000+j, now)
			fmt.Fprintf(&b, `{"id":"h-%d","user":{"id":"v-%d"},"text":"nice show %d","ts":%d}`+"\n", j, j, j, now)
		}
		c.Write(ctx, websocket.MessageText, []byte(b.String()))
	}
	time.Sleep(2 * time.Second)
	var ids []string
	after := ""
	for {
		u := *base + "/v1/handoffs?stream=s&limit=1000&state=open"
		if after != "" {
			u += "&after=" + after
		}
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		var page struct {
			Handoffs []struct{ ID string }
			Next     string
		}
		json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		for _, h := range page.Handoffs {
			ids = append(ids, h.ID)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	measure := func(name string, paths []string, body string) {
		lat := make([]time.Duration, len(paths))
		var wg sync.WaitGroup
		next := make(chan int)
		errs := 0
		var mu sync.Mutex
		start := time.Now()
		for range *workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					t0 := time.Now()
					req, _ := http.NewRequest("POST", *base+paths[i], strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+tok)
					resp, err := http.DefaultClient.Do(req)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					lat[i] = time.Since(t0)
					if err != nil || resp.StatusCode != 200 {
						mu.Lock()
						errs++
						mu.Unlock()
					}
				}
			}()
		}
		for i := range paths {
			next <- i
		}
		close(next)
		wg.Wait()
		el := time.Since(start)
		sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		fmt.Printf("%s n=%d errors=%d per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n", name, len(paths), errs, float64(len(paths))/el.Seconds(), q(0.5), q(0.99))
	}
	var claims []string
	for _, id := range ids {
		claims = append(claims, "/v1/handoffs/"+id+"/claim")
	}
	measure("claim", claims, "")
	var hides []string
	for i := 0; i < *n; i++ {
		hides = append(hides, fmt.Sprintf("/v1/messages/h-%d/hide", i))
	}
	measure("hide", hides, `{"stream":"s","reason":"x"}`)
	if acked.Load() < int64(2*(*n)) {
		fmt.Fprintf(os.Stderr, "restbench: %d of %d messages acked before the measure\n", acked.Load(), 2*(*n))
	}
}
