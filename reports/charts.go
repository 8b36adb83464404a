package reports

// The load report's charts are drawn with gonum.org/v1/plot and its SVG
// backend (vgsvg), then inlined in the HTML: the page needs no script, no
// font and no network to show them. The fonts are not embedded (they would
// add hundreds of KiB per chart); the page's CSS names Liberation Sans, the
// face plot measured the text with, and its metric-compatible fallbacks.

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart sizes in points; the page scales them to its width.
const (
	spectrumW, spectrumH = 5.6 * vg.Inch, 3.2 * vg.Inch
	timelineW, timelineH = 11.2 * vg.Inch, 2.6 * vg.Inch
	// maxSpectrumX is 1/(1−0.9999): the percentile plot ends at 99.99%.
	maxSpectrumX = 10_000
)

// Colours of the series, the same on every chart: the current run solid,
// the previous one dashed and lighter.
var (
	colResponse = color.RGBA{R: 0x09, G: 0x69, B: 0xda, A: 0xff}
	colService  = color.RGBA{R: 0x82, G: 0x50, B: 0xdf, A: 0xff}
	colTarget   = color.RGBA{R: 0x57, G: 0x60, B: 0x6a, A: 0xff}
	colP99      = color.RGBA{R: 0xbc, G: 0x4c, B: 0x00, A: 0xff}
	colErrors   = color.RGBA{R: 0xcf, G: 0x22, B: 0x2e, A: 0xff}
	colThrottle = color.RGBA{R: 0x9a, G: 0x67, B: 0x00, A: 0xff}
	colDropped  = color.RGBA{R: 0x1b, G: 0x1f, B: 0x24, A: 0xff}
)

// chart is one rendered chart: its title (the figure's accessible name)
// and its inline SVG.
type chart struct {
	Title string
	SVG   template.HTML
}

// scenarioCharts are the charts of one scenario of a load report.
type scenarioCharts struct {
	Spectra  []chart // one per step, FlowStats first
	Timeline []chart // rate, latency, problems; empty without intervals
	// NoTimeline says why a scenario has no timeline.
	NoTimeline string
	// Merged: some intervals combine several records' (Interval.Merged).
	Merged bool
	// Overlay: the previous run is drawn too.
	Overlay bool
}

// buildCharts draws the charts of every scenario of the current record,
// with prev's (the previous run's, nil for none) overlaid on the same axes
// where it has the same scenario and step.
func buildCharts(cur, prev *Record) ([]scenarioCharts, error) {
	if cur.Load == nil {
		return nil, nil
	}
	out := make([]scenarioCharts, len(cur.Load.Scenarios))
	for i, s := range cur.Load.Scenarios {
		var ps *ScenarioResult
		if prev != nil && prev.Load != nil {
			for j := range prev.Load.Scenarios {
				if prev.Load.Scenarios[j].Name == s.Name {
					ps = &prev.Load.Scenarios[j]
				}
			}
		}
		out[i].Overlay = ps != nil
		for _, iv := range s.Intervals {
			out[i].Merged = out[i].Merged || iv.Merged > 1
		}
		for _, st := range withFlow(s) {
			var pst *StepStats
			if ps != nil {
				for _, q := range withFlow(*ps) {
					if q.Step == st.Step {
						pst = &q
						break
					}
				}
			}
			c, err := spectrumChart(s.Name, st, pst)
			if err != nil {
				return nil, fmt.Errorf("chart: scenario %q step %q: %w", s.Name, st.Step, err)
			}
			out[i].Spectra = append(out[i].Spectra, c)
		}
		if len(s.Intervals) == 0 {
			out[i].NoTimeline = "This record has no interval timeline (records before schema v1.2 do not carry one)."
			continue
		}
		var prevIv []Interval
		var prevStart time.Time
		if ps != nil {
			prevIv, prevStart = ps.Intervals, prev.StartedAt
		}
		tl, err := timelineCharts(s, cur.StartedAt, prevIv, prevStart)
		if err != nil {
			return nil, fmt.Errorf("chart: scenario %q timeline: %w", s.Name, err)
		}
		out[i].Timeline = tl
	}
	return out, nil
}

// withFlow is the scenario's steps with the whole flow first, as the
// report's tables list them.
func withFlow(s ScenarioResult) []StepStats {
	if s.FlowStats == nil {
		return s.Steps
	}
	return append([]StepStats{*s.FlowStats}, s.Steps...)
}

// spectrumChart is HdrHistogram's percentile plot of one step: latency
// against percentile on a 1/(1−p) log axis, so the tail from 90% to 99.99%
// takes as much room as the body; response and service time, and the
// previous run's dashed.
func spectrumChart(scenario string, st StepStats, prev *StepStats) (chart, error) {
	title := fmt.Sprintf("%s / %s: latency by percentile", scenario, st.Step)
	p := newPlot(title, "percentile", "latency (ms)")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = percentileTicks{}
	p.X.Min, p.X.Max = 1, maxSpectrumX
	p.Y.Min = 0
	type series struct {
		name   string
		hist   Histogram
		col    color.Color
		dashed bool
	}
	list := []series{{"response", st.ResponseTime, colResponse, false}, {"service", st.ServiceTime, colService, false}}
	if prev != nil {
		list = append(list, series{"previous response", prev.ResponseTime, colResponse, true}, series{"previous service", prev.ServiceTime, colService, true})
	}
	drawn := 0
	for _, s := range list {
		h, err := DecodeHistogram(s.hist)
		if err != nil {
			return chart{}, fmt.Errorf("%s: %w", s.name, err)
		}
		if h.TotalCount() == 0 {
			continue
		}
		if err := addLine(p, s.name, spectrum(h), s.col, s.dashed); err != nil {
			return chart{}, err
		}
		drawn++
	}
	if drawn == 0 {
		p.Title.Text += " (no values)"
		p.Y.Max = 1
	}
	// The curves rise to the right: the legend goes under them.
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(-6), vg.Points(6)
	return renderChart(p, title, spectrumW, spectrumH)
}

// spectrum samples the histogram's percentile distribution: ten points per
// decade of 1/(1−p) from 0% to 99.99%, and the last at the 100th
// percentile's value placed at 99.99%, as HdrHistogram's plotter does.
func spectrum(h *hdrhistogram.Histogram) plotter.XYs {
	var xys plotter.XYs
	for i := 0; i <= 40; i++ {
		x := math.Pow(10, float64(i)/10)
		q := 100 * (1 - 1/x)
		xys = append(xys, plotter.XY{X: x, Y: ms(h.ValueAtQuantile(q))})
	}
	xys[len(xys)-1].Y = ms(h.Max())
	return xys
}

// percentileTicks labels a 1/(1−p) axis with the percentiles.
type percentileTicks struct{}

func (percentileTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := []plot.Tick{{Value: 1, Label: "0%"}, {Value: 10, Label: "90%"}, {Value: 100, Label: "99%"}, {Value: 1000, Label: "99.9%"}, {Value: 10000, Label: "99.99%"}}
	for d := 1.0; d < maxSpectrumX; d *= 10 {
		for k := 2.0; k < 10; k++ {
			ts = append(ts, plot.Tick{Value: d * k})
		}
	}
	return ts
}

// timelineLine is one series of a timeline panel: y of an interval, or
// false where the interval has no value.
type timelineLine struct {
	name   string
	col    color.Color
	dashed bool
	y      func(Interval) (float64, bool)
}

type timelinePanel struct {
	title, ylabel string
	lines         []timelineLine
}

// timelineRun is one run's intervals on a timeline: the current run, or the
// previous one drawn dashed with its lines' names prefixed.
type timelineRun struct {
	ivs    []Interval
	from   time.Time
	prefix string
	dashed bool
}

// timelinePanels are the panels of every scenario's timeline.
var timelinePanels = []timelinePanel{
	{"arrival rate: achieved and target", "iterations/s", []timelineLine{
		{"achieved", colResponse, false, func(iv Interval) (float64, bool) { return iv.AchievedRate(), true }},
		{"target", colTarget, false, func(iv Interval) (float64, bool) { return iv.TargetRate, iv.TargetRate > 0 }},
	}},
	{"flow response time", "latency (ms)", []timelineLine{
		{"p50", colResponse, false, flowPercentile(func(st IntervalStep) int64 { return st.P50 })},
		{"p99", colP99, false, flowPercentile(func(st IntervalStep) int64 { return st.P99 })},
	}},
	{"errors, throttled and dropped", "per second", []timelineLine{
		{"failed iterations", colErrors, false, perSecond(func(iv Interval) int64 { return iv.Failed })},
		{"429 answers", colThrottle, false, perSecond(func(iv Interval) int64 {
			var n int64
			for _, st := range iv.Steps {
				if st.Step != FlowStep {
					n += st.Throttled
				}
			}
			return n
		})},
		{"held back (429 Retry-After)", colService, false, perSecond(func(iv Interval) int64 { return iv.Throttled })},
		{"held back (503 Retry-After)", colTarget, false, perSecond(func(iv Interval) int64 { return iv.Unavailable })},
		{"dropped", colDropped, false, perSecond(func(iv Interval) int64 { return iv.Dropped })},
	}},
}

// flowPercentile is a percentile of the whole flow in an interval that
// counted any.
func flowPercentile(pick func(IntervalStep) int64) func(Interval) (float64, bool) {
	return func(iv Interval) (float64, bool) {
		for _, st := range iv.Steps {
			if st.Step == FlowStep && st.Count > 0 {
				return ms(pick(st)), true
			}
		}
		return 0, false
	}
}

// perSecond is a count of an interval as a rate.
func perSecond(n func(Interval) int64) func(Interval) (float64, bool) {
	return func(iv Interval) (float64, bool) {
		if iv.Span <= 0 {
			return 0, false
		}
		return float64(n(iv)) / iv.Span.Seconds(), true
	}
}

// timelineCharts are a scenario's interval series against seconds since the
// run began: achieved against target rate, the flow's p50 and p99 response
// time, and errors, throttled, unavailable and dropped per interval; the
// previous run's dashed, aligned on its own start.
func timelineCharts(s ScenarioResult, start time.Time, prev []Interval, prevStart time.Time) ([]chart, error) {
	runs := []timelineRun{{s.Intervals, start, "", false}}
	if len(prev) > 0 {
		runs = append(runs, timelineRun{prev, prevStart, "previous ", true})
	}
	// Every panel spans the whole run, both runs when compared, so their
	// x axes line up.
	var xmax float64
	for _, run := range runs {
		for _, iv := range run.ivs {
			xmax = max(xmax, iv.Start.Add(iv.Span).Sub(run.from).Seconds())
		}
	}
	var out []chart
	for _, pn := range timelinePanels {
		c, err := timelineChart(fmt.Sprintf("%s: %s", s.Name, pn.title), pn, runs, xmax)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// timelineChart draws one panel of the runs, its x axis from 0 to xmax.
func timelineChart(title string, pn timelinePanel, runs []timelineRun, xmax float64) (chart, error) {
	at := func(iv Interval, from time.Time) float64 { return iv.Start.Add(iv.Span / 2).Sub(from).Seconds() }
	p := newPlot(title, "seconds since start", pn.ylabel)
	p.X.Min, p.Y.Min = 0, 0
	for _, run := range runs {
		for _, l := range pn.lines {
			var xys plotter.XYs
			for _, iv := range run.ivs {
				if y, ok := l.y(iv); ok {
					xys = append(xys, plotter.XY{X: at(iv, run.from), Y: y})
				}
			}
			if len(xys) == 0 {
				continue
			}
			if err := addLine(p, run.prefix+l.name, xys, l.col, run.dashed); err != nil {
				return chart{}, err
			}
		}
	}
	// Headroom above the highest line for the legend.
	p.Y.Max = max(p.Y.Max*1.4, 1)
	p.X.Min, p.X.Max = min(p.X.Min, 0), max(p.X.Max, xmax)
	return renderChart(p, title, timelineW, timelineH)
}

// newPlot is a plot in the report's style: sans-serif text, a light grid
// and the legend inside the top left corner.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	for _, f := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle, &p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		f.Font.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = vg.Points(9), vg.Points(9)
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = vg.Points(8), vg.Points(8)
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), vg.Points(-4)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xe6}
	g.Horizontal.Color = color.Gray{Y: 0xe6}
	p.Add(g)
	p.X.Tick.Marker, p.Y.Tick.Marker = niceTicks{}, niceTicks{}
	p.Legend.Padding = vg.Points(1.5)
	return p
}

// niceTicks labels a linear axis every 1, 2 or 5 × 10ⁿ, with five to ten
// labels, and a minor tick between labels; plot's default labels only two
// or three values.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	mag := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; (hi-lo)/step <= 10 {
			break
		}
	}
	prec := max(0, -int(math.Floor(math.Log10(step))))
	var ts []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi+step*1e-9; i++ {
		v := i * step
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
		if m := v + step/2; m < hi {
			ts = append(ts, plot.Tick{Value: m})
		}
	}
	return ts
}

func addLine(p *plot.Plot, name string, xys plotter.XYs, col color.Color, dashed bool) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l.Color = col
	l.Width = vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		l.Width = vg.Points(1.2)
	}
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// svgHead matches what vgsvg writes before the <svg> element (an XML
// declaration and a comment) and the element's fixed size, which the page
// replaces with CSS so a chart scales to its column.
var svgHead = regexp.MustCompile(`(?s)^.*?<svg width="[^"]*" height="[^"]*"`)

// renderChart draws p as SVG for inlining in the page. Every text of the
// chart went through vgsvg, which escapes it.
func renderChart(p *plot.Plot, title string, w, h vg.Length) (ch chart, err error) {
	// A record is untrusted input: a plotting library's panic on strange
	// values must become an error, never a crashed report.
	defer func() {
		if v := recover(); v != nil {
			ch, err = chart{}, fmt.Errorf("render %s: %v", title, v)
		}
	}()
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return chart{}, fmt.Errorf("render %s: %w", title, err)
	}
	loc := svgHead.FindIndex(buf.Bytes())
	if loc == nil {
		return chart{}, fmt.Errorf("render %s: the SVG backend wrote no <svg> element", title)
	}
	svg := `<svg class="chart" role="img" aria-label="` + template.HTMLEscapeString(title) + `"` + string(buf.Bytes()[loc[1]:])
	return chart{Title: title, SVG: template.HTML(svg)}, nil // #nosec: text escaped by vgsvg, title escaped above
}

func ms(us int64) float64 { return float64(us) / 1000 }
