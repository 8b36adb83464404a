package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// scriptedFlow reports two steps without a network: "app.first" always
// answers 200, "app.second" answers 500 on every 4th iteration and 429 on
// every 5th, failing the iteration.
type scriptedFlow struct{}

func (scriptedFlow) Name() string { return "scripted" }
func (scriptedFlow) Run(_ context.Context, it scenarios.Iteration) error {
	now := time.Now()
	it.Observer.ObserveStep(scenarios.StepResult{Step: "app.first", IntendedStart: it.IntendedStart, Sent: now, Done: now.Add(time.Millisecond), HTTPStatus: 200})
	status := 200
	switch {
	case it.Seq%4 == 0:
		status = 500
	case it.Seq%5 == 0:
		status = 429
	}
	res := scenarios.StepResult{Step: "app.second", IntendedStart: it.IntendedStart, Sent: now, Done: now.Add(2 * time.Millisecond), HTTPStatus: status}
	if status != 200 {
		res.Err = io.ErrUnexpectedEOF
	}
	it.Observer.ObserveStep(res)
	return res.Err
}

func metricValue(t *testing.T, fams []*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			for k, v := range labels {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == k && l.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			return m
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return nil
}

func TestLiveMetricsAgreeWithTheRecord(t *testing.T) {
	reg := prometheus.NewRegistry()
	ctx := t.Context()
	addr, stop, err := ServeMetrics(ctx, "127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	plan := mustPlan(t, `
name: metrics
scenarios:
  - {name: s, flow: scripted, executor: constant-arrival-rate, rate: 200, iterations: 40}
`)
	opts := Options{TargetURL: "http://127.0.0.1:1", Interval: 20 * time.Millisecond,
		Metrics: prometheus.WrapRegistererWith(MetricLabels(plan, reports.Segment{Index: 2, Count: 3}), reg)}
	load, err := Run(ctx, plan, factoryFor(scriptedFlow{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sc := load.Scenarios[0]
	for _, st := range sc.Steps {
		m := metricValue(t, fams, "ciamcheck_load_requests_total", map[string]string{"scenario": "s", "step": st.Step, "segment": "2/3"})
		if got := int64(m.GetCounter().GetValue()); got != st.Count {
			t.Errorf("requests of %s: want %d (the record's), got %d", st.Step, st.Count, got)
		}
		h := metricValue(t, fams, "ciamcheck_load_response_seconds", map[string]string{"scenario": "s", "step": st.Step})
		if got := int64(h.GetHistogram().GetSampleCount()); got != st.ResponseTime.Count {
			t.Errorf("latency histogram of %s: want %d values, got %d", st.Step, st.ResponseTime.Count, got)
		}
	}
	var want500, want429 int64
	for _, st := range sc.Steps {
		for _, o := range st.Outcomes {
			switch o.HTTPStatus {
			case 500:
				want500 += o.Count
			case 429:
				want429 += o.Count
			}
		}
	}
	if want500 == 0 || want429 == 0 {
		t.Fatalf("the flow should have answered 500 and 429: %+v", sc.Steps)
	}
	if got := int64(metricValue(t, fams, "ciamcheck_load_errors_total", map[string]string{"step": "app.second", "class": "5xx"}).GetCounter().GetValue()); got != want500 {
		t.Errorf("5xx errors: want %d, got %d", want500, got)
	}
	if got := int64(metricValue(t, fams, "ciamcheck_load_errors_total", map[string]string{"step": "app.second", "class": "throttled"}).GetCounter().GetValue()); got != want429 {
		t.Errorf("throttled errors: want %d, got %d", want429, got)
	}
	if got := int64(metricValue(t, fams, "ciamcheck_load_iterations_total", map[string]string{"result": "failed"}).GetCounter().GetValue()); got != sc.Failed {
		t.Errorf("failed iterations: want %d, got %d", sc.Failed, got)
	}
	// The same over HTTP, in the text format Prometheus scrapes.
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `ciamcheck_load_in_flight{plan="metrics",scenario="s",segment="2/3",segments="3"} 0`) {
		t.Errorf("/metrics lacks the in-flight gauge:\n%.2000s", body)
	}
}

func TestPromBucketsNeverClaimAValueAboveTheBound(t *testing.T) {
	h := newHistogram()
	for _, us := range []int64{500, 1000, 2000, 9_000, 10_000, 70_000, 59_000_000} {
		if err := h.RecordValue(us); err != nil {
			t.Fatal(err)
		}
	}
	count, sum, b := promBuckets(h)
	want := map[float64]uint64{0.001: 2, 0.0025: 3, 0.005: 3, 0.01: 4, 0.025: 5, 0.05: 5, 0.1: 6, 30: 6, 60: 7}
	for bound, n := range want {
		if b[bound] != n {
			t.Errorf("bucket le=%g: want %d, got %d", bound, n, b[bound])
		}
	}
	if count != 7 || sum < 59.09 || sum > 59.2 {
		t.Errorf("count %d sum %g: want 7 and about 59.09s", count, sum)
	}
}

// BenchmarkMetricsOverhead runs the same open-model plan of a two-step
// flow with and without live metrics, scraped every 10ms (Prometheus
// scrapes every 15s or so: this is far worse), and reports the process CPU
// per iteration of each and their ratio. Recording itself is the same code
// either way: metrics are read at scrape time.
func BenchmarkMetricsOverhead(b *testing.B) {
	const iterations = 20_000
	plan := func() *Plan {
		p, err := ParsePlan([]byte("name: bench\nscenarios:\n  - {name: s, flow: scripted, executor: constant-arrival-rate, rate: 40000, iterations: 20000, max_in_flight: 10000}\n"))
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	run := func(withMetrics bool) time.Duration {
		opts := Options{TargetURL: "http://127.0.0.1:1"}
		stop := make(chan struct{})
		done := make(chan struct{})
		if withMetrics {
			reg := prometheus.NewRegistry()
			opts.Metrics = reg
			go func() {
				defer close(done)
				t := time.NewTicker(10 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						if _, err := reg.Gather(); err != nil {
							b.Error(err)
						}
					}
				}
			}()
		} else {
			close(done)
		}
		before := cpuTime()
		if _, err := Run(context.Background(), plan(), factoryFor(scriptedFlow{}), opts); err != nil {
			b.Fatal(err)
		}
		used := cpuTime() - before
		close(stop)
		<-done
		return used
	}
	var off, on time.Duration
	for b.Loop() {
		off += run(false)
		on += run(true)
	}
	n := float64(b.N) * iterations
	b.ReportMetric(float64(off.Nanoseconds())/n, "cpu-ns/iter-without")
	b.ReportMetric(float64(on.Nanoseconds())/n, "cpu-ns/iter-with")
	b.ReportMetric(float64(on)/float64(off), "ratio-with/without")
}

// TestGrafanaDashboard checks the dashboard in ci/grafana: valid JSON, and
// every query uses only metrics a run serves, so a renamed metric fails here.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile("../ci/grafana/ciamcheck-load.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	served := map[string]bool{"process_cpu_seconds_total": true, "process_resident_memory_bytes": true}
	for _, d := range []*prometheus.Desc{descRequests, descErrors, descLatency, descIterations, descDropped, descThrottled, descInFlight, descExpected} {
		name := regexp.MustCompile(`fqName: "([^"]+)"`).FindStringSubmatch(d.String())[1]
		served[name] = true
		if strings.HasSuffix(name, "_seconds") {
			served[name+"_bucket"], served[name+"_sum"], served[name+"_count"] = true, true, true
		}
	}
	metricName := regexp.MustCompile(`\b(ciamcheck_[a-z_]+|process_[a-z_]+)\b`)
	queries := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			queries++
			names := metricName.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q uses no ciamcheck metric", p.Title, tg.Expr)
			}
			for _, n := range names {
				if !served[n] {
					t.Errorf("panel %q: metric %s is not served by load --metrics-addr", p.Title, n)
				}
			}
		}
	}
	if dash.UID == "" || queries < 8 {
		t.Errorf("dashboard uid %q with %d queries", dash.UID, queries)
	}
}
