package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ciamcheck/ciamcheck/reports"
)

// Live metrics are read when Prometheus scrapes, from what the run keeps
// anyway — the scenarios' counters and the collector's cumulative
// histograms and outcome counts — so they add nothing to the hot path:
// recording a step costs the same with or without them. Step figures are
// as of the collector's last interval (Options.Interval); scenario
// counters are live.
var (
	descRequests = prometheus.NewDesc("ciamcheck_load_requests_total",
		"Requests answered or failed, per scenario and step.", []string{"scenario", "step"}, nil)
	descErrors = prometheus.NewDesc("ciamcheck_load_errors_total",
		"Error results per scenario, step and class (4xx, 5xx, throttled = 429, redirect, transport); answers the flow expects are not errors.",
		[]string{"scenario", "step", "class"}, nil)
	descLatency = prometheus.NewDesc("ciamcheck_load_response_seconds",
		"Response time (intended start to response, coordinated-omission-corrected) per scenario and step; step \"flow\" is the whole iteration.",
		[]string{"scenario", "step"}, nil)
	descIterations = prometheus.NewDesc("ciamcheck_load_iterations_total",
		"Iterations finished per scenario, by result (ok, failed).", []string{"scenario", "result"}, nil)
	descDropped = prometheus.NewDesc("ciamcheck_load_dropped_total",
		"Arrivals dropped, not sent: max_in_flight iterations were running, or every user of the pool was in use.", []string{"scenario"}, nil)
	descThrottled = prometheus.NewDesc("ciamcheck_load_throttled_total",
		"Arrivals or VU starts held back by a Retry-After pause.", []string{"scenario"}, nil)
	descInFlight = prometheus.NewDesc("ciamcheck_load_in_flight",
		"Iterations running now.", []string{"scenario"}, nil)
	descExpected = prometheus.NewDesc("ciamcheck_load_expected_iterations",
		"Iterations the schedule holds for this worker (open model) or its iteration limit.", []string{"scenario"}, nil)
)

// latencyBuckets are the upper bounds (seconds) of the exported latency
// histogram; the run's own HdrHistograms keep full precision.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// liveMetrics is the Prometheus collector of one run.
type liveMetrics struct {
	r   *run
	col *collector
}

// Describe sends nothing: the series depend on the steps the flows run,
// so the collector is unchecked.
func (m *liveMetrics) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (m *liveMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, sc := range m.r.scs {
		name := sc.cfg.Name
		failed := sc.failed.Load()
		counter := func(d *prometheus.Desc, v int64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
		}
		counter(descIterations, sc.iterations.Load()-failed, name, "ok")
		counter(descIterations, failed, name, "failed")
		counter(descDropped, sc.dropped.Load(), name)
		counter(descThrottled, sc.throttled.Load(), name)
		ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(sc.inFlight.Load()), name)
		ch <- prometheus.MustNewConstMetric(descExpected, prometheus.GaugeValue, float64(sc.cfg.expected()), name)
	}
	c := m.col
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.order {
		cs := c.series[k]
		scenario := m.r.scs[k.scenario].cfg.Name
		step := string(k.step)
		if k.flow {
			step = reports.FlowStep
		} else {
			var requests int64
			errs := map[string]int64{}
			for o, n := range cs.outcomes {
				requests += n
				if class := errorClass(o); class != "" {
					errs[class] += n
				}
			}
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(requests), scenario, step)
			for class, n := range errs {
				ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(n), scenario, step, class)
			}
		}
		count, sum, buckets := promBuckets(cs.response)
		ch <- prometheus.MustNewConstHistogram(descLatency, count, sum, buckets, scenario, step)
	}
}

// errorClass is the class of an error result, "" for a success or an
// answer the flow expects.
func errorClass(o outcomeKey) string {
	switch {
	case o.expected:
		return ""
	case o.transport:
		return "transport"
	case o.redirect:
		return "redirect"
	case o.status == 429:
		return "throttled"
	case o.status >= 500:
		return "5xx"
	case o.status >= 400:
		return "4xx"
	}
	return ""
}

// promBuckets turns an HdrHistogram of microseconds into Prometheus
// cumulative bucket counts in seconds. A value counts in a bucket when the
// highest value equivalent to it is within the bound, so a bucket never
// claims a value that may have been above it.
func promBuckets(h *hdrhistogram.Histogram) (count uint64, sum float64, buckets map[float64]uint64) {
	buckets = make(map[float64]uint64, len(latencyBuckets))
	for _, b := range latencyBuckets {
		buckets[b] = 0
	}
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		upper := float64(bar.To) / 1e6
		for _, b := range latencyBuckets {
			if upper <= b {
				buckets[b] += uint64(bar.Count)
			}
		}
		count += uint64(bar.Count)
	}
	// The histogram's mean is over the midpoints of its buckets.
	sum = h.Mean() * float64(count) / 1e6
	return count, sum, buckets
}

// ServeMetrics serves the registry's metrics at http://addr/metrics until
// ctx ends. It returns once listening (an address in use fails at once),
// with the bound address and a function that stops the server.
func ServeMetrics(ctx context.Context, addr string, g prometheus.Gatherer) (bound string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		<-ctx.Done()
		sctx, c := context.WithTimeout(context.Background(), 2*time.Second)
		defer c()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr().String(), func() { cancel(); <-done }, nil
}

// MetricLabels are the constant labels of a run's metrics: the plan and,
// when split, the segment, so a dashboard can sum the workers of one run.
func MetricLabels(plan *Plan, seg reports.Segment) prometheus.Labels {
	l := prometheus.Labels{"plan": plan.Name, "segment": "whole"}
	if !seg.Whole() {
		l["segment"] = seg.String()
		l["segments"] = strconv.Itoa(seg.Count)
	}
	return l
}
