package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Report is what Run saw. Its JSON is the --json report of docs/WIRE.md, and
// nothing more.
type Report struct {
	Sent    int64 `json:"sent"`    // messages written to the server
	Acked   int64 `json:"acked"`   // messages the server acked
	Decided int64 `json:"decided"` // decisions received for them
	// Errors counts error frames (messages refused) and sockets that
	// failed.
	Errors int64 `json:"errors"`
	// Seconds runs from the first send to the end of the send phase or to
	// the last decision (ack without Subscribe), whichever is later.
	Seconds float64 `json:"seconds"`
	// ThroughputPerS is Decided (Acked without Subscribe) over Seconds.
	ThroughputPerS float64 `json:"throughput_per_s"`
	// LatencyMS is from each message's intended send time to its decision
	// (its ack without Subscribe), in milliseconds.
	LatencyMS struct {
		P50  float64 `json:"p50"`
		P99  float64 `json:"p99"`
		P999 float64 `json:"p999"`
		Max  float64 `json:"max"`
	} `json:"latency_ms"`
	// SubsDecided is, with more than one subscriber, the decisions each
	// received (the first is Decided). Each should equal Decided.
	SubsDecided []int64 `json:"subs_decided,omitempty"`
	// Windows cut the run into Options.Window long windows, to show
	// whether latency stays flat over a long run.
	Windows []Window `json:"windows"`
	// SendLagMS is how late the bench itself wrote its frames, from their
	// intended send times (open loop only; zero otherwise). It is part of
	// LatencyMS: a high lag means the load generator, not the server, was
	// short of CPU, and the latency figures are an upper bound.
	SendLagMS struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"-"` // not in the docs/WIRE.md report: shown in the text one
	// Series has one sample per second of the run.
	Series []Sample `json:"-"`

	opts    Options
	lastErr string
}

// Sample is one second of a run.
type Sample struct {
	T       float64 // seconds since the start, at the end of the sample
	SentPS  float64 // messages sent a second
	DonePS  float64 // decisions (acks without Subscribe) a second
	Errors  int64   // errors in the sample
	P50MS   float64 // latency of the decisions in the sample
	P99MS   float64
	Decided int64 // decisions (acks) so far
}

// Window is one window of a run: what was sent and decided in it (acked
// without Subscribe) and the latency of those decisions.
type Window struct {
	T       float64 `json:"t"` // seconds since the start, at the window's end
	Sent    int64   `json:"sent"`
	Decided int64   `json:"decided"`
	Errors  int64   `json:"errors"`
	P50     float64 `json:"p50"` // milliseconds
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
}

// WriteJSON writes the report as one JSON object and a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes the report as a table for people.
func (r *Report) WriteText(w io.Writer) error {
	o := r.opts
	rate := "as fast as acked"
	if o.Rate > 0 {
		rate = fmt.Sprintf("%g msgs/s", o.Rate)
	}
	to := "decision"
	if !o.Subscribe {
		to = "ack"
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "livemod bench %s  stream %s  %d conns  %s  batch %d  %v  mix %v  %d users  %d subs\n", o.URL, o.Stream, o.Conns, rate, o.Batch, o.Duration, o.Mix, o.Users, o.Subs)
	row := func(name, value, unit string) {
		if unit != "" {
			unit = " " + unit
		}
		fmt.Fprintf(bw, "  %-12s %12s%s\n", name, value, unit)
	}
	row("sent", strconv.FormatInt(r.Sent, 10), "")
	row("acked", strconv.FormatInt(r.Acked, 10), "")
	if o.Subscribe {
		row("decided", strconv.FormatInt(r.Decided, 10), "")
	}
	row("errors", strconv.FormatInt(r.Errors, 10), "")
	row("seconds", fmt.Sprintf("%.2f", r.Seconds), "")
	row("throughput", fmt.Sprintf("%.0f", r.ThroughputPerS), "msgs/s")
	row("latency p50", fmt.Sprintf("%.3f", r.LatencyMS.P50), "ms  (intended send → "+to+")")
	row("p99", fmt.Sprintf("%.3f", r.LatencyMS.P99), "ms")
	row("p99.9", fmt.Sprintf("%.3f", r.LatencyMS.P999), "ms")
	row("max", fmt.Sprintf("%.3f", r.LatencyMS.Max), "ms")
	if o.Rate > 0 {
		row("send lag p99", fmt.Sprintf("%.3f", r.SendLagMS.P99), "ms  (intended send → written; part of the latency)")
	}
	if len(r.SubsDecided) > 1 {
		parts := make([]string, len(r.SubsDecided))
		for i, n := range r.SubsDecided {
			parts[i] = strconv.FormatInt(n, 10)
		}
		row("per sub", strings.Join(parts, " "), "decided")
	}
	if len(r.Windows) > 0 {
		fmt.Fprintf(bw, "  %-8s %10s %10s %7s %9s %9s %9s\n", "window", "sent", "decided", "errors", "p50 ms", "p99 ms", "max ms")
		for _, w := range r.Windows {
			fmt.Fprintf(bw, "  %7.0fs %10d %10d %7d %9.3f %9.3f %9.3f\n", w.T, w.Sent, w.Decided, w.Errors, w.P50, w.P99, w.Max)
		}
	}
	var notes []string
	if done := r.Decided + r.Errors; o.Subscribe && r.Sent > done {
		notes = append(notes, fmt.Sprintf("%d messages had no decision within the drain time", r.Sent-done))
	}
	for i, n := range r.SubsDecided {
		if i > 0 && n+r.Errors < r.Sent {
			notes = append(notes, fmt.Sprintf("subscriber %d received %d of %d decisions", i+1, n, r.Sent))
		}
	}
	if r.lastErr != "" {
		notes = append(notes, "last error: "+escapeLine(r.lastErr))
	}
	for _, n := range notes {
		fmt.Fprintf(bw, "note: %s\n", n)
	}
	return bw.Flush()
}

// escapeLine keeps text from the server (which may quote chat) to one
// printable line.
func escapeLine(s string) string {
	q := fmt.Sprintf("%q", s)
	return q[1 : len(q)-1]
}

// sample appends one Sample a second to rep.Series, and one Window every
// Options.Window to rep.Windows, and writes a progress line a second,
// until stop is closed.
func (r *run) sample(stop <-chan struct{}, rep *Report) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var prev, wStart counts // at the last sample, at the window's start
	var prevT int64
	var wHist Hist    // latency of the window being filled
	var lastHist Hist // of the last window closed
	var lastStart counts
	window := int64(r.opts.Window)
	wEnd := window
	closeWindow := func(t int64, c counts) {
		rep.Windows = append(rep.Windows, Window{
			T:    float64(t) / 1e9,
			Sent: c.sent - wStart.sent, Decided: c.done - wStart.done, Errors: c.errs - wStart.errs,
			P50: ms(wHist.Quantile(0.5)), P99: ms(wHist.Quantile(0.99)), Max: ms(wHist.Max()),
		})
		lastHist, lastStart = wHist, wStart
		wHist.Reset()
		wStart = c
	}
	// extendWindow adds what came after the last window, too little for
	// one of its own (the drain's last decisions), to it.
	extendWindow := func(c counts) {
		w := &rep.Windows[len(rep.Windows)-1]
		lastHist.Merge(&wHist)
		w.Sent, w.Decided, w.Errors = c.sent-lastStart.sent, c.done-lastStart.done, c.errs-lastStart.errs
		w.P50, w.P99, w.Max = ms(lastHist.Quantile(0.5)), ms(lastHist.Quantile(0.99)), ms(lastHist.Max())
		wHist.Reset()
		wStart = c
	}
	// take ends the second (and the window) at now. A sample shorter than
	// a tenth of a second, at the end, is not a second of its own, but
	// what it saw still belongs to the last window.
	take := func(now int64, last bool) {
		c := r.counts()
		r.winMu.Lock()
		win := r.win
		r.win.Reset()
		r.winMu.Unlock()
		wHist.Merge(&win)
		if !last || now-prevT >= int64(100*time.Millisecond) {
			r.addSample(rep, now, prevT, c, prev, &win)
			prev, prevT = c, now
		}
		// Samples come about once a second: a window ends at the first
		// sample on or after its boundary and is reported at the
		// boundary; the last, partial one ends with the run.
		switch {
		case now >= wEnd-int64(50*time.Millisecond):
			closeWindow(wEnd, c)
			wEnd += window
		case last && c != wStart && len(rep.Windows) > 0 && now-(wEnd-window) < window/10:
			extendWindow(c)
		case last && c != wStart:
			closeWindow(now, c)
		}
	}
	for {
		select {
		case <-tick.C:
			take(r.since(), false)
		case <-stop:
			take(r.since(), true)
			return
		}
	}
}

// counts are a run's running totals.
type counts struct{ sent, done, errs int64 }

func (r *run) counts() counts {
	var c counts
	for _, s := range r.senders {
		c.sent += s.sent.Load()
		if r.sub == nil {
			c.done += s.acked.Load()
		}
	}
	if r.sub != nil {
		c.done = r.decided.Load()
	}
	c.errs = r.refused.Load() + r.failures.Load()
	return c
}

// addSample appends the second from prevT to now to rep.Series and writes
// its progress line.
func (r *run) addSample(rep *Report, now, prevT int64, c, prev counts, win *Hist) {
	dt := float64(now-prevT) / 1e9
	s := Sample{
		T:       float64(now) / 1e9,
		SentPS:  float64(c.sent-prev.sent) / dt,
		DonePS:  float64(c.done-prev.done) / dt,
		Errors:  c.errs - prev.errs,
		P50MS:   ms(win.Quantile(0.5)),
		P99MS:   ms(win.Quantile(0.99)),
		Decided: c.done,
	}
	rep.Series = append(rep.Series, s)
	if w := r.opts.Progress; w != nil {
		what := "decided"
		if r.sub == nil {
			what = "acked"
		}
		fmt.Fprintf(w, "bench %5.1fs  sent %8.0f/s  %s %8.0f/s  (%d)  p99 %7.2fms  errors %d\n",
			s.T, s.SentPS, what, s.DonePS, c.done, s.P99MS, c.errs)
	}
}
