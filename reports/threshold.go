package reports

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Threshold is one parsed gate of a load plan. The grammar, one threshold
// per string, tokens separated by spaces:
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
	Step       string // "" or FlowStep for the whole flow
	Metric     string // normalised: "latency", "error_rate", "rate", or a counter name
	Percentile float64
	Aggregate  string // for latency: "percentile", "max" or "mean"
	Service    bool   // latency of Sent→Done rather than IntendedStart→Done
	Op         string
	Value      float64 // µs for latency, fraction for error_rate, 1/s for rate, count otherwise
}

// FlowStep is the step name of a scenario's whole iteration, in the record
// (StepStats.Step of FlowStats) and in thresholds.
const FlowStep = "flow"

var counterMetrics = map[string]bool{"count": true, "iterations": true, "failed": true, "dropped": true, "throttled": true}

// ParseThreshold parses one threshold expression. Whether its scenario and
// step exist is for the plan (or the record) to say.
func ParseThreshold(expr string) (Threshold, error) {
	t := Threshold{Expr: strings.Join(strings.Fields(expr), " ")}
	f := strings.Fields(expr)
	if len(f) < 3 || len(f) > 5 {
		return t, fmt.Errorf("threshold %q: want [scenario [step]] metric op value", expr)
	}
	subject, metric, op, value := f[:len(f)-3], f[len(f)-3], f[len(f)-2], f[len(f)-1]
	if len(subject) >= 1 {
		t.Scenario = subject[0]
	}
	if len(subject) == 2 {
		t.Step = subject[1]
	}
	if strings.ContainsAny(t.Scenario+t.Step, ",\"") {
		return t, fmt.Errorf("threshold %q: scenario or step has invalid characters", expr)
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
		err = t.parseLatency(metric, value)
	case metric == "error_rate":
		t.Metric = metric
		t.Value, err = parseFraction(value)
	case metric == "rate":
		err = t.parseRate(value)
	case counterMetrics[metric]:
		err = t.parseCounter(metric, value)
	default:
		err = fmt.Errorf("unknown metric %q (want pN, max, mean, service_pN, error_rate, rate, count, iterations, failed, dropped, throttled)", metric)
	}
	if err != nil {
		return t, fmt.Errorf("threshold %q: %w", expr, err)
	}
	return t, nil
}

func (t *Threshold) parseLatency(metric, value string) error {
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
		p, err := strconv.ParseFloat(m[1:], 64)
		if err != nil || !(p > 0 && p <= 100) {
			return fmt.Errorf("percentile %q: want p followed by a number in (0, 100]", metric)
		}
		t.Percentile = p
	}
	d, err := time.ParseDuration(value)
	if err != nil || d < 0 {
		return fmt.Errorf("value %q: want a duration such as 400ms or 2s", value)
	}
	t.Value = float64(d) / float64(time.Microsecond)
	return nil
}

func (t *Threshold) parseRate(value string) error {
	t.Metric = "rate"
	if t.Step != "" {
		return errors.New("rate applies to a scenario or the run, not a step")
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(value, "/s"), 64)
	if err != nil || math.IsInf(v, 0) || !(v >= 0) {
		return fmt.Errorf("value %q: want a rate such as 45/s", value)
	}
	t.Value = v
	return nil
}

func (t *Threshold) parseCounter(metric, value string) error {
	t.Metric = metric
	if t.Step != "" && metric != "count" {
		return fmt.Errorf("%s applies to a scenario or the run, not a step", metric)
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("value %q: want a whole number >= 0", value)
	}
	t.Value = float64(n)
	return nil
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
func (t Threshold) Evaluate(l *Load) ThresholdResult {
	res := ThresholdResult{Expr: t.Expr}
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

// subject is what a threshold reads: its scenarios, and the stats of its
// step (or of their flows).
type subject struct {
	scs   []ScenarioResult
	stats []*StepStats
}

func (t Threshold) subject(l *Load) (subject, error) {
	var s subject
	for _, sc := range l.Scenarios {
		if t.Scenario == "" || sc.Name == t.Scenario {
			s.scs = append(s.scs, sc)
		}
	}
	if len(s.scs) == 0 {
		return s, fmt.Errorf("no scenario %q in the result", t.Scenario)
	}
	for i := range s.scs {
		if t.wholeFlow() {
			if s.scs[i].FlowStats != nil {
				s.stats = append(s.stats, s.scs[i].FlowStats)
			}
			continue
		}
		for j := range s.scs[i].Steps {
			if s.scs[i].Steps[j].Step == t.Step {
				s.stats = append(s.stats, &s.scs[i].Steps[j])
			}
		}
	}
	return s, nil
}

func (t Threshold) wholeFlow() bool { return t.Step == "" || t.Step == FlowStep }

func (s subject) sum(f func(ScenarioResult) int64) int64 {
	var n int64
	for _, sc := range s.scs {
		n += f(sc)
	}
	return n
}

func count(v int64) (float64, string, error) { return float64(v), strconv.FormatInt(v, 10), nil }

func (t Threshold) actual(l *Load) (float64, string, error) {
	s, err := t.subject(l)
	if err != nil {
		return 0, "", err
	}
	switch t.Metric {
	case "latency":
		return t.latency(s)
	case "error_rate":
		return t.errorRate(s)
	case "rate":
		var it int64
		var d time.Duration
		for _, sc := range s.scs {
			it += sc.Iterations
			d = max(d, sc.Duration)
		}
		if d <= 0 {
			return 0, "", errNoSamples
		}
		r := float64(it) / d.Seconds()
		return r, fmt.Sprintf("%.4g/s", r), nil
	case "count":
		if t.wholeFlow() {
			return count(s.sum(func(s ScenarioResult) int64 { return s.Iterations }))
		}
		var n int64
		for _, st := range s.stats {
			n += st.Count
		}
		return count(n)
	case "iterations":
		return count(s.sum(func(s ScenarioResult) int64 { return s.Iterations }))
	case "failed":
		return count(s.sum(func(s ScenarioResult) int64 { return s.Failed }))
	case "dropped":
		return count(s.sum(func(s ScenarioResult) int64 { return s.Dropped }))
	case "throttled":
		return count(s.sum(func(s ScenarioResult) int64 { return s.Throttled }))
	}
	return 0, "", fmt.Errorf("unknown metric %q", t.Metric)
}

func (t Threshold) latency(s subject) (float64, string, error) {
	var sum histogramSum
	for _, st := range s.stats {
		hist := st.ResponseTime
		if t.Service {
			hist = st.ServiceTime
		}
		if err := sum.add(hist); err != nil {
			return 0, "", fmt.Errorf("histogram of %s: %w", st.Step, err)
		}
	}
	h := sum.h
	if h == nil || h.TotalCount() == 0 {
		return 0, "", errNoSamples
	}
	var us float64
	switch t.Aggregate {
	case "max":
		us = float64(h.Max())
	case "mean":
		us = h.Mean()
	default:
		us = float64(h.ValueAtQuantile(t.Percentile))
	}
	return us, FormatMicros(us), nil
}

func (t Threshold) errorRate(s subject) (float64, string, error) {
	var total, bad int64
	if t.wholeFlow() {
		total = s.sum(func(s ScenarioResult) int64 { return s.Iterations })
		bad = s.sum(func(s ScenarioResult) int64 { return s.Failed })
	} else {
		for _, st := range s.stats {
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
}

// FormatMicros renders a latency in µs with a unit a reader expects, as
// thresholds, the load summary and the live progress show it.
func FormatMicros(us float64) string {
	d := time.Duration(math.Round(us)) * time.Microsecond
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.4gms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%dµs", d.Microseconds())
}
