package bench

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
)

// SVG chart geometry, in px.
const (
	svgW       = 900
	svgH       = 560
	svgLeft    = 70
	svgRight   = 20
	svgTop     = 50
	svgPanelH  = 200
	svgGap     = 70
	svgPlotW   = svgW - svgLeft - svgRight
	svgBottomY = svgTop + svgPanelH + svgGap // top of the latency panel
)

// WriteSVG writes a self-contained SVG chart of the run, one point per
// second: throughput (sent and decided) above, p50 and p99 latency below.
func (r *Report) WriteSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	o := r.opts
	done, to := "decided/s", "decision"
	if !o.Subscribe {
		done, to = "acked/s", "ack"
	}
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	p(`<rect width="100%%" height="100%%" fill="#fff"/>` + "\n")
	p(`<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", svgLeft,
		html.EscapeString(fmt.Sprintf("livemod bench — %d conns, batch %d, %.0f msgs/s, p99 %.2f ms, %d errors",
			o.Conns, o.Batch, r.ThroughputPerS, r.LatencyMS.P99, r.Errors)))

	tMax := 1.0
	var rateMax, latMax float64
	for _, s := range r.Series {
		tMax = max(tMax, s.T)
		rateMax = max(rateMax, s.SentPS, s.DonePS)
		latMax = max(latMax, s.P99MS, s.P50MS)
	}
	x := func(t float64) float64 { return svgLeft + t/tMax*svgPlotW }

	panel := func(top int, title, unit string, yMax float64, lines []svgLine) {
		yMax = niceCeil(yMax)
		y := func(v float64) float64 { return float64(top+svgPanelH) - v/yMax*svgPanelH }
		p(`<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", svgLeft, top-8, html.EscapeString(title))
		step := yMax / 4
		for i := 0; i <= 4; i++ {
			v := step * float64(i)
			p(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", svgLeft, svgLeft+svgPlotW, y(v), y(v))
			p(`<text x="%d" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n", svgLeft-6, y(v)+4, fmtAxis(v)+unit)
		}
		tStep := niceCeil(tMax / 8)
		for t := 0.0; t <= tMax+1e-9; t += tStep {
			p(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%ss</text>`+"\n", x(t), top+svgPanelH+16, fmtAxis(t))
		}
		p(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", svgLeft, top, svgPlotW, svgPanelH)
		for i, l := range lines {
			p(`<polyline fill="none" stroke="%s" stroke-width="2" points="`, l.color)
			for _, s := range r.Series {
				p("%.1f,%.1f ", x(s.T), y(l.value(s)))
			}
			p(`"/>` + "\n")
			lx := svgLeft + svgPlotW - 150
			ly := top + 16 + 16*i
			p(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", lx, lx+20, ly-4, ly-4, l.color)
			p(`<text x="%d" y="%d">%s</text>`+"\n", lx+26, ly, html.EscapeString(l.name))
		}
	}
	panel(svgTop, "throughput", "", rateMax, []svgLine{
		{"sent/s", "#7a7a7a", func(s Sample) float64 { return s.SentPS }},
		{done, "#1f77b4", func(s Sample) float64 { return s.DonePS }},
	})
	panel(svgBottomY, "latency (intended send → "+to+")", "ms", latMax, []svgLine{
		{"p50", "#2ca02c", func(s Sample) float64 { return s.P50MS }},
		{"p99", "#d62728", func(s Sample) float64 { return s.P99MS }},
	})
	p("</svg>\n")
	return bw.Flush()
}

type svgLine struct {
	name, color string
	value       func(Sample) float64
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func fmtAxis(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
