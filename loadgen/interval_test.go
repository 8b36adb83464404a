package loadgen

import (
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/reports"
)

// TestRecordCarriesIntervals: the record's timeline adds up to the run's
// totals, runs in time order and states the schedule's rate.
func TestRecordCarriesIntervals(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1)%5 == 0 {
			w.Header().Set("X-Error", "invalid_grant")
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	p := mustPlan(t, `
scenarios:
  - {flow: probe, executor: constant-arrival-rate, rate: 40, duration: 500ms, max_in_flight: 1}`)
	l := runProbe(t, p, srv.URL, Options{Interval: 100 * time.Millisecond})
	sc := l.Scenarios[0]
	if len(sc.Intervals) < 3 {
		t.Fatalf("intervals: want at least 3 over 500ms at 100ms, got %d", len(sc.Intervals))
	}
	var flows, steps, errs, failed, dropped int64
	for i, iv := range sc.Intervals {
		if i > 0 && iv.Start.Before(sc.Intervals[i-1].Start) {
			t.Errorf("intervals[%d] starts %v, before the previous one (%v)", i, iv.Start, sc.Intervals[i-1].Start)
		}
		if iv.Span <= 0 {
			t.Errorf("intervals[%d] span: want > 0, got %v", i, iv.Span)
		}
		failed += iv.Failed
		dropped += iv.Dropped
		for _, st := range iv.Steps {
			switch st.Step {
			case reports.FlowStep:
				flows += st.Count
			case "probe.get":
				steps += st.Count
				errs += st.Errors
			}
			if st.Count > 0 && (st.P50 <= 0 || st.P50 > st.P99 || st.P99 > st.Max) {
				t.Errorf("intervals[%d] %s percentiles: want 0 < p50 ≤ p99 ≤ max, got %d, %d, %d", i, st.Step, st.P50, st.P99, st.Max)
			}
		}
	}
	if flows != sc.FlowStats.Count || flows != sc.Iterations {
		t.Errorf("flows over intervals: want %d (iterations), got %d", sc.Iterations, flows)
	}
	if steps != sc.Steps[0].Count {
		t.Errorf("probe.get over intervals: want %d, got %d", sc.Steps[0].Count, steps)
	}
	if errs == 0 || failed != sc.Failed || dropped != sc.Dropped {
		t.Errorf("errors %d (want > 0), failed %d (want %d), dropped %d (want %d)", errs, failed, sc.Failed, dropped, sc.Dropped)
	}
	if got := sc.Intervals[1].TargetRate; math.Abs(got-40) > 0.5 {
		t.Errorf("target rate of the second interval: want 40/s, got %v", got)
	}
}

func TestTargetRate(t *testing.T) {
	ramp := ScenarioConfig{Executor: ExecRampingArrivalRate, StartRate: 0, Stages: []Stage{{Duration: 10 * time.Second, Target: 100}, {Duration: 10 * time.Second, Target: 100}}}
	capped := ScenarioConfig{Executor: ExecConstantArrivalRate, Rate: 10, Duration: 10 * time.Second, Iterations: 25}
	for name, tc := range map[string]struct {
		cfg      ScenarioConfig
		from, to time.Duration
		want     float64
	}{
		"constant":             {ScenarioConfig{Executor: ExecConstantArrivalRate, Rate: 50, Duration: time.Minute}, time.Second, 2 * time.Second, 50},
		"constant after end":   {ScenarioConfig{Executor: ExecConstantArrivalRate, Rate: 50, Duration: time.Second}, 2 * time.Second, 3 * time.Second, 0},
		"constant half at end": {ScenarioConfig{Executor: ExecConstantArrivalRate, Rate: 50, Duration: 1500 * time.Millisecond}, time.Second, 2 * time.Second, 25},
		"ramp start":           {ramp, 0, time.Second, 5},
		"ramp middle":          {ramp, 4 * time.Second, 6 * time.Second, 50},
		"across stages":        {ramp, 9 * time.Second, 11 * time.Second, 97.5},
		"iteration limit":      {capped, 2 * time.Second, 3 * time.Second, 5},
		"closed model":         {ScenarioConfig{Executor: ExecConstantVUs, VUs: 3, Duration: time.Minute}, 0, time.Second, 0},
		"empty interval":       {ramp, time.Second, time.Second, 0},
	} {
		if got := tc.cfg.targetRate(tc.from, tc.to); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: want %v/s, got %v/s", name, tc.want, got)
		}
	}
}

func TestRecordTicks(t *testing.T) {
	for _, tc := range []struct {
		plan  string
		every time.Duration
		want  int
	}{
		{"{flow: a, executor: constant-arrival-rate, rate: 1, duration: 15s}", time.Second, 1},
		{"{flow: a, executor: constant-arrival-rate, rate: 1, duration: 12m}", time.Second, 1},
		{"{flow: a, executor: constant-arrival-rate, rate: 1, duration: 12m1s}", time.Second, 2},
		{"{flow: a, executor: constant-arrival-rate, rate: 1, duration: 2h}", time.Second, 10},
		{"{flow: a, executor: constant-arrival-rate, rate: 1, duration: 2h}", 10 * time.Second, 1},
		{"{flow: a, executor: ramping-arrival-rate, start_rate: 1, stages: [{duration: 1h, target: 5}, {duration: 1h, target: 5}]}", time.Second, 10},
		{"{flow: a, executor: constant-vus, vus: 1, duration: 1s, iterations: 10}", time.Second, 1},
	} {
		p := mustPlan(t, "scenarios:\n  - "+tc.plan)
		if got := recordTicks(p, tc.every); got != tc.want {
			t.Errorf("%s every %v: want %d collector intervals per record interval, got %d", tc.plan, tc.every, tc.want, got)
		}
	}
}
