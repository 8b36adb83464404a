package loadgen

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ciamcheck/ciamcheck/reports"
)

// Threshold is one parsed gate of a plan. The grammar, one threshold per
// string, tokens separated by spaces:
//
//	threshold = [ scenario [ step ] ] metric op value
//	metric    = "p" N | "max" | "mean"                 response time (intended start → done)
//	          | "service_p" N | "service_max" | "service_mean"   service time (sent → done)
//	          | "error_rate"                           failed / total, of iterations or of step results
//	          | "rate"                                 completed iterations per second
//	          | "count" | "iterations" | "failed" | "dropped" | "throttled"
//	op        = "<" | "<=" | ">" | ">=" | "==" | "!="
//	value     = duration ("400ms", "2s", "250us")      for latency metrics
//	          | percent ("1%") or fraction ("0.01")    for error_rate
//	          | number, optionally "/s" ("45/s")      for rate
//	          | whole number                           for counters
//
// N is a percentile in (0, 100], e.g. 50, 95, 99, 99.9. No scenario means
// the whole run (counters summed, flow histograms merged). A scenario alone
// means its flow (whole iteration); the step "flow" says so explicitly; any
// other step is a step name such as "token.password". Examples:
//
//	signin-password token.password p99 < 400ms
//	signup-otp error_rate < 1%
//	signup-otp flow p95 < 2s
//	dropped == 0
//	rate >= 45/s
type Threshold struct {
	Expr       string
	Scenario   string
	Step       string // "" or "flow" for the whole flow
	Metric     string // normalised: "latency", "error_rate", "rate", or a counter name
	Percentile float64
	Aggregate  string // for latency: "percentile", "max" or "mean"
	Service    bool   // latency of Sent→Done rather than IntendedStart→Done
	Op         string
	Value      float64 // µs for latency, fraction for error_rate, 1/s for rate, count otherwise
}

const flowStep = "flow"

var counterMetrics = map[string]bool{"count": true, "iterations": true, "failed": true, "dropped": true, "throttled": true}

// ParseThreshold parses one threshold expression.
func ParseThreshold(expr string) (Threshold, error) {
	t := Threshold{Expr: strings.Join(strings.Fields(expr), " ")}
	f := strings.Fields(expr)
	if len(f) < 3 || len(f) > 5 {
		return t, fmt.Errorf("threshold %q: want [scenario [step]] metric op value", expr)
	}
	subject, metric, op, value := f[:len(f)-3], f[len(f)-3], f[len(f)-2], f[len(f)-1]
	if len(subject) >= 1 {
		if !namePattern.MatchString(subject[0]) {
			return t, fmt.Errorf("threshold %q: scenario %q is not a valid scenario name", expr, subject[0])
		}
		t.Scenario = subject[0]
	}
	if len(subject) == 2 {
		t.Step = subject[1]
		if strings.ContainsAny(t.Step, ",\"") {
			return t, fmt.Errorf("threshold %q: step %q has invalid characters", expr, t.Step)
		}
	}
	switch op {
	case "<", "<=", ">", ">=", "==", "!=":
		t.Op = op
	default:
		return t, fmt.Errorf("threshold %q: operator %q: want <, <=, >, >=, == or !=", expr, op)
	}
	var err error
	switch {
	case isLatencyMetric(metric):
		t.Metric = "latency"
		m := metric
		if rest, ok := strings.CutPrefix(m, "service_"); ok {
			t.Service, m = true, rest
		}
		switch m {
		case "max", "mean":
			t.Aggregate = m
		default:
			t.Aggregate = "percentile"
			t.Percentile, err = strconv.ParseFloat(m[1:], 64)
			if err != nil || !(t.Percentile > 0 && t.Percentile <= 100) {
				return t, fmt.Errorf("threshold %q: percentile %q: want p followed by a number in (0, 100]", expr, metric)
			}
		}
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return t, fmt.Errorf("threshold %q: value %q: want a duration such as 400ms or 2s", expr, value)
		}
		t.Value = float64(d) / float64(time.Microsecond)
	case metric == "error_rate":
		t.Metric = metric
		t.Value, err = parseFraction(value)
		if err != nil {
			return t, fmt.Errorf("threshold %q: %w", expr, err)
		}
	case metric == "rate":
		t.Metric = metric
		if t.Step != "" {
			return t, fmt.Errorf("threshold %q: rate applies to a scenario or the run, not a step", expr)
		}
		v := strings.TrimSuffix(value, "/s")
		t.Value, err = strconv.ParseFloat(v, 64)
		if err != nil || !finiteNonNeg(t.Value) {
			return t, fmt.Errorf("threshold %q: value %q: want a rate such as 45/s", expr, value)
		}
	case counterMetrics[metric]:
		t.Metric = metric
		if t.Step != "" && metric != "count" {
			return t, fmt.Errorf("threshold %q: %s applies to a scenario or the run, not a step", expr, metric)
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 {
			return t, fmt.Errorf("threshold %q: value %q: want a whole number >= 0", expr, value)
		}
		t.Value = float64(n)
	default:
		return t, fmt.Errorf("threshold %q: unknown metric %q (want pN, max, mean, service_pN, error_rate, rate, count, iterations, failed, dropped, throttled)", expr, metric)
	}
	return t, nil
}

func isLatencyMetric(m string) bool {
	m = strings.TrimPrefix(m, "service_")
	return m == "max" || m == "mean" || (len(m) > 1 && m[0] == 'p' && (m[1] >= '0' && m[1] <= '9'))
}

func parseFraction(v string) (float64, error) {
	if p, ok := strings.CutSuffix(v, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || !(f >= 0 && f <= 100) {
			return 0, fmt.Errorf("value %q: want a percentage in [0%%, 100%%]", v)
		}
		return f / 100, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0 && f <= 1) {
		return 0, fmt.Errorf("value %q: want a percentage such as 1%% or a fraction in [0, 1]", v)
	}
	return f, nil
}

func (t Threshold) compare(actual float64) bool {
	switch t.Op {
	case "<":
		return actual < t.Value
	case "<=":
		return actual <= t.Value
	case ">":
		return actual > t.Value
	case ">=":
		return actual >= t.Value
	case "==":
		return actual == t.Value
	case "!=":
		return actual != t.Value
	}
	return false
}

// Evaluate computes the threshold's actual value from a load result. A
// threshold whose subject has no samples fails with actual "no samples".
func (t Threshold) Evaluate(l *reports.Load) reports.ThresholdResult {
	res := reports.ThresholdResult{Expr: t.Expr}
	actual, shown, err := t.actual(l)
	if err != nil {
		res.Actual = err.Error()
		return res
	}
	res.Actual = shown
	res.Passed = t.compare(actual)
	return res
}

var errNoSamples = errors.New("no samples")

func (t Threshold) actual(l *reports.Load) (float64, string, error) {
	var scs []reports.ScenarioResult
	for _, sc := range l.Scenarios {
		if t.Scenario == "" || sc.Name == t.Scenario {
			scs = append(scs, sc)
		}
	}
	if len(scs) == 0 {
		return 0, "", fmt.Errorf("no scenario %q in the result", t.Scenario)
	}
	// The stats the threshold reads: a step's, or the flows'.
	var stats []*reports.StepStats
	for i := range scs {
		if t.Step == "" || t.Step == flowStep {
			if scs[i].FlowStats != nil {
				stats = append(stats, scs[i].FlowStats)
			}
			continue
		}
		for j := range scs[i].Steps {
			if scs[i].Steps[j].Step == t.Step {
				stats = append(stats, &scs[i].Steps[j])
			}
		}
	}
	var sum func(func(reports.ScenarioResult) int64) int64 = func(f func(reports.ScenarioResult) int64) int64 {
		var n int64
		for _, sc := range scs {
			n += f(sc)
		}
		return n
	}
	count := func(v int64) (float64, string, error) { return float64(v), strconv.FormatInt(v, 10), nil }
	switch t.Metric {
	case "latency":
		h, err := mergeStats(stats, t.Service)
		if err != nil {
			return 0, "", err
		}
		if h.TotalCount() == 0 {
			return 0, "", errNoSamples
		}
		var us float64
		switch t.Aggregate {
		case "max":
			us = float64(h.Max())
		case "mean":
			us = h.Mean()
		default:
			us = float64(h.ValueAtPercentile(t.Percentile))
		}
		return us, formatMicros(us), nil
	case "error_rate":
		var total, bad int64
		if t.Step == "" || t.Step == flowStep {
			total = sum(func(s reports.ScenarioResult) int64 { return s.Iterations })
			bad = sum(func(s reports.ScenarioResult) int64 { return s.Failed })
		} else {
			for _, st := range stats {
				total += st.Count
				for _, o := range st.Outcomes {
					if o.Failure() {
						bad += o.Count
					}
				}
			}
		}
		if total == 0 {
			return 0, "", errNoSamples
		}
		r := float64(bad) / float64(total)
		return r, fmt.Sprintf("%.3g%% (%d/%d)", r*100, bad, total), nil
	case "rate":
		var it int64
		var d time.Duration
		for _, sc := range scs {
			it += sc.Iterations
			d = max(d, sc.Duration)
		}
		if d <= 0 {
			return 0, "", errNoSamples
		}
		r := float64(it) / d.Seconds()
		return r, fmt.Sprintf("%.4g/s", r), nil
	case "count":
		if t.Step == "" || t.Step == flowStep {
			return count(sum(func(s reports.ScenarioResult) int64 { return s.Iterations }))
		}
		var n int64
		for _, st := range stats {
			n += st.Count
		}
		return count(n)
	case "iterations":
		return count(sum(func(s reports.ScenarioResult) int64 { return s.Iterations }))
	case "failed":
		return count(sum(func(s reports.ScenarioResult) int64 { return s.Failed }))
	case "dropped":
		return count(sum(func(s reports.ScenarioResult) int64 { return s.Dropped }))
	case "throttled":
		return count(sum(func(s reports.ScenarioResult) int64 { return s.Throttled }))
	}
	return 0, "", fmt.Errorf("unknown metric %q", t.Metric)
}

func mergeStats(stats []*reports.StepStats, service bool) (*hdrhistogram.Histogram, error) {
	out := newHistogram()
	for _, st := range stats {
		hist := st.ResponseTime
		if service {
			hist = st.ServiceTime
		}
		h, err := reports.DecodeHistogram(hist)
		if err != nil {
			return nil, fmt.Errorf("decode histogram of %s: %w", st.Step, err)
		}
		if dropped := out.Merge(h); dropped != 0 {
			return nil, fmt.Errorf("merge histogram of %s: %d values dropped", st.Step, dropped)
		}
	}
	return out, nil
}

// formatMicros renders a latency in µs with a unit a reader expects.
func formatMicros(us float64) string {
	d := time.Duration(math.Round(us)) * time.Microsecond
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.4gms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%dµs", d.Microseconds())
}
