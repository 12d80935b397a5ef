package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
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
	fmt.Fprintf(bw, "livemod bench %s  stream %s  %d conns  %s  batch %d  %v\n", o.URL, o.Stream, o.Conns, rate, o.Batch, o.Duration)
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
	var notes []string
	if done := r.Decided + r.Errors; o.Subscribe && r.Sent > done {
		notes = append(notes, fmt.Sprintf("%d messages had no decision within the drain time", r.Sent-done))
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

// sample appends one Sample a second to rep.Series, and writes a progress
// line, until stop is closed.
func (r *run) sample(stop <-chan struct{}, rep *Report) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var prevT, prevSent, prevDone, prevErr int64
	var win Hist
	take := func(now int64) {
		var sent, done int64
		for _, s := range r.senders {
			sent += s.sent.Load()
			if r.sub == nil {
				done += s.acked.Load()
			}
		}
		if r.sub != nil {
			done = r.decided.Load()
		}
		errs := r.refused.Load() + r.failures.Load()
		r.winMu.Lock()
		win = r.win
		r.win.Reset()
		r.winMu.Unlock()
		dt := float64(now-prevT) / 1e9
		s := Sample{
			T:       float64(now) / 1e9,
			SentPS:  float64(sent-prevSent) / dt,
			DonePS:  float64(done-prevDone) / dt,
			Errors:  errs - prevErr,
			P50MS:   ms(win.Quantile(0.5)),
			P99MS:   ms(win.Quantile(0.99)),
			Decided: done,
		}
		rep.Series = append(rep.Series, s)
		prevT, prevSent, prevDone, prevErr = now, sent, done, errs
		if w := r.opts.Progress; w != nil {
			what := "decided"
			if r.sub == nil {
				what = "acked"
			}
			fmt.Fprintf(w, "bench %5.1fs  sent %8.0f/s  %s %8.0f/s  (%d)  p99 %7.2fms  errors %d\n",
				s.T, s.SentPS, what, s.DonePS, done, s.P99MS, errs)
		}
	}
	for {
		select {
		case <-tick.C:
			take(r.since())
		case <-stop:
			if now := r.since(); now-prevT >= int64(100*time.Millisecond) {
				take(now)
			}
			return
		}
	}
}
