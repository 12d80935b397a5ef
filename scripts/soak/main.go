// Command soak runs a long show against a fresh livemod and checks the
// goals of docs/PERFORMANCE.md ("A long show"): p99 in every window, RSS at
// every sample and flat over the second half, the server's CPU, and
// nothing lost. scripts/soak.sh runs it; it exits 1 when a goal fails.
//
// It starts `livemod serve` (the binary given, or one it builds) on a
// loopback port with a fresh data directory, optionally loads it first at
// full speed (--preload), then drives it with the bench package at a fixed
// rate, reading the server's RSS and CPU from /proc every window.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/livemod/livemod/bench"
)

type goals struct {
	p99  time.Duration // in every window
	rss  int64         // bytes, at every sample
	flat float64       // max/min of RSS over the second half, minus one
	cpu  float64       // cores over the run
}

func main() {
	bin := flag.String("binary", "", "livemod `binary` to run (empty: go build ./cmd/livemod)")
	duration := flag.Duration("duration", 10*time.Minute, "how long to send")
	rate := flag.Float64("rate", 20000, "messages a second")
	conns := flag.Int("conns", 16, "ingest connections")
	batch := flag.Int("batch", 1, "messages per frame")
	subs := flag.Int("subs", 1, "moderator subscribers")
	users := flag.Int("users", 0, "distinct viewers (0: bench's default)")
	mixName := flag.String("mix", "hard", "audience: hard, realistic or neutral")
	window := flag.Duration("window", 10*time.Second, "window of the report and of the RSS samples")
	flag.StringVar(&extraYAML, "config", "", "more `yaml` for the server's config, after the soak's own (e.g. $'handoff:\\n  max_open: 20000')")
	preload := flag.Duration("preload", 0, "first load the server this long at full speed with --batch 64 (0: none)")
	var g goals
	flag.DurationVar(&g.p99, "p99", 5*time.Millisecond, "goal: p99 in every window")
	rssMB := flag.Int64("rss-mb", 300, "goal: RSS at every sample, MB")
	flag.Float64Var(&g.flat, "flat", 0.10, "goal: RSS over the second half within this fraction")
	flag.Float64Var(&g.cpu, "cpu", 0.8, "goal: the server's cores over the run")
	flag.Parse()
	g.rss = *rssMB << 20
	mix, err := bench.ParseMix(*mixName)
	if err != nil {
		fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := start(ctx, *bin)
	if err != nil {
		fatal(err)
	}
	defer srv.stop()

	opts := bench.Options{
		URL: "ws://" + srv.addr, Token: srv.token, Stream: "soak",
		Conns: *conns, Rate: *rate, Duration: *duration, Batch: *batch,
		Subscribe: true, Subs: *subs, Users: *users, Mix: mix, Window: *window,
		Progress: io.Discard, Seed: 7,
	}
	if *preload > 0 {
		p := opts
		p.Stream, p.Rate, p.Batch, p.Duration, p.Seed = "preload", 0, 64, *preload, 8
		rep, err := bench.Run(ctx, p)
		if err != nil {
			fatal(fmt.Errorf("preload: %w", err))
		}
		fmt.Printf("preload: %d messages at %.0f msgs/s (--batch 64, %v); RSS after %d MB\n",
			rep.Sent, rep.ThroughputPerS, *preload, srv.rss()>>20)
	}

	// RSS every window, beside the bench.
	type sample struct {
		t   time.Duration
		rss int64
	}
	var samples []sample
	done := make(chan struct{})
	sampled := make(chan struct{})
	ing0 := srv.ingested() // the preload's
	t0 := time.Now()
	cpu0 := srv.cpu()
	go func() {
		defer close(sampled)
		tick := time.NewTicker(*window)
		defer tick.Stop()
		samples = append(samples, sample{0, srv.rss()})
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				samples = append(samples, sample{time.Since(t0), srv.rss()})
			}
		}
	}()
	rep, err := bench.Run(ctx, opts)
	wall := time.Since(t0)
	cores := (srv.cpu() - cpu0).Seconds() / wall.Seconds()
	close(done)
	<-sampled
	if err != nil {
		fatal(err)
	}
	ingested := srv.ingested() - ing0

	fmt.Printf("soak: %v at %.0f msgs/s, %d conns, batch %d, mix %v, %d users, %d subs\n",
		*duration, *rate, *conns, *batch, mix, opts.Users, *subs)
	fmt.Printf("%8s %10s %10s %7s %9s %9s %9s %8s\n", "window", "sent", "decided", "errors", "p50 ms", "p99 ms", "max ms", "RSS MB")
	var fails []string
	for i, w := range rep.Windows {
		rss := "-"
		if i+1 < len(samples) {
			rss = strconv.FormatInt(samples[i+1].rss>>20, 10)
		}
		fmt.Printf("%7.0fs %10d %10d %7d %9.3f %9.3f %9.3f %8s\n", w.T, w.Sent, w.Decided, w.Errors, w.P50, w.P99, w.Max, rss)
		if w.P99 > ms(g.p99) {
			fails = append(fails, fmt.Sprintf("window %.0fs: p99 %.2f ms > %v", w.T, w.P99, g.p99))
		}
	}
	fmt.Printf("overall: sent %d acked %d decided %d errors %d; server ingested %d; p50 %.3f p99 %.3f p99.9 %.3f max %.3f ms; server %.2f cores\n",
		rep.Sent, rep.Acked, rep.Decided, rep.Errors, ingested, rep.LatencyMS.P50, rep.LatencyMS.P99, rep.LatencyMS.P999, rep.LatencyMS.Max, cores)

	var lo, hi int64 = 1 << 62, 0
	for _, s := range samples {
		if s.rss > g.rss {
			fails = append(fails, fmt.Sprintf("RSS %d MB at %v > %d MB", s.rss>>20, s.t.Round(time.Second), g.rss>>20))
		}
		if s.t >= wall/2 {
			lo, hi = min(lo, s.rss), max(hi, s.rss)
		}
	}
	if hi > 0 {
		spread := float64(hi)/float64(lo) - 1
		fmt.Printf("RSS over the second half: %d–%d MB (%.1f%%)\n", lo>>20, hi>>20, 100*spread)
		if spread > g.flat {
			fails = append(fails, fmt.Sprintf("RSS not flat over the second half: %d–%d MB", lo>>20, hi>>20))
		}
	}
	if cores > g.cpu {
		fails = append(fails, fmt.Sprintf("server %.2f cores > %.2f", cores, g.cpu))
	}
	if rep.Errors != 0 || rep.Sent != rep.Acked || rep.Sent != rep.Decided || ingested != rep.Sent {
		fails = append(fails, fmt.Sprintf("lost: sent %d acked %d decided %d ingested %d errors %d", rep.Sent, rep.Acked, rep.Decided, ingested, rep.Errors))
	}
	for i, n := range rep.SubsDecided {
		if n != rep.Sent {
			fails = append(fails, fmt.Sprintf("subscriber %d received %d of %d decisions", i+1, n, rep.Sent))
		}
	}
	if len(fails) > 0 {
		for _, f := range fails {
			fmt.Println("FAIL:", f)
		}
		srv.stop()
		os.Exit(1)
	}
	fmt.Println("ok: every goal met")
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "soak:", err)
	os.Exit(2)
}

// extraYAML is appended to the server's config (-config).
var extraYAML string

// server is the livemod under test.
type server struct {
	cmd   *exec.Cmd
	addr  string
	token string
	dir   string
}

func start(ctx context.Context, bin string) (*server, error) {
	dir, err := os.MkdirTemp("", "livemod-soak-")
	if err != nil {
		return nil, err
	}
	if bin == "" {
		bin = filepath.Join(dir, "livemod")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/livemod")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("go build: %w", err)
		}
	}
	// One subscriber takes every decision: let it fall behind by half a
	// second of them on a busy machine (as scripts/perf.sh does).
	conf := filepath.Join(dir, "soak.yaml")
	if err := os.WriteFile(conf, []byte("fanout:\n  max_queue_bytes: 67108864\n"+extraYAML+"\n"), 0o600); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &server{addr: addr, token: "soak-admin-" + strconv.Itoa(os.Getpid()) + "-token", dir: dir}
	s.cmd = exec.Command(bin, "serve", "--config", conf, "--listen", addr, "--data", filepath.Join(dir, "data"), "--token", "admin="+s.token)
	s.cmd.Stderr = io.Discard
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for range 100 {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, errors.New("the server did not answer /healthz in 10s")
}

func (s *server) stop() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.cmd.Wait()
	}
	os.RemoveAll(s.dir)
}

// rss reads the server's resident set from /proc.
func (s *server) rss() int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpu reads the server's user and system time from /proc.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command may hold spaces: fields count from after its ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// ingested reads livemod_ingest_messages_total from /metrics.
func (s *server) ingested() int64 {
	req, _ := http.NewRequest("GET", "http://"+s.addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var n int64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "livemod_ingest_messages_total"); ok {
			f := strings.Fields(v)
			x, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += int64(x)
		}
	}
	return n
}
