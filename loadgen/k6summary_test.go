package loadgen

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// k6Summary is what BenchmarkK6Comparison reads of k6's end-of-test
// summary.
type k6Summary struct {
	Iterations int64         // flows started (metrics.iterations.count)
	Completed  int64         // flows that ran every step (the script's flows_completed)
	Dropped    int64         // arrivals k6 had no VU for (dropped_iterations)
	FailedReqs int64         // requests http_req_failed counted as failed
	P99        time.Duration // iteration_duration p(99)
}

// parseK6Summary reads k6's summary JSON in either of its shapes: the
// handleSummary data object, whose metrics carry their figures under
// "values", and the --summary-export file, whose metrics carry them
// directly. A metric k6 left out (it omits those with no samples) counts
// 0, except iterations, without which there is no run to read.
func parseK6Summary(data []byte) (k6Summary, error) {
	var doc struct {
		Metrics map[string]json.RawMessage `json:"metrics"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return k6Summary{}, fmt.Errorf("k6 summary: %w", err)
	}
	var s k6Summary
	var err error
	figure := func(metric, field string, required bool) float64 {
		if err != nil {
			return 0
		}
		var v float64
		v, err = k6Figure(doc.Metrics, metric, field, required)
		return v
	}
	s.Iterations = int64(figure("iterations", "count", true))
	s.Completed = int64(figure("flows_completed", "count", false))
	s.Dropped = int64(figure("dropped_iterations", "count", false))
	s.FailedReqs = int64(figure("http_req_failed", "passes", false))
	s.P99 = time.Duration(figure("iteration_duration", "p(99)", false) * float64(time.Millisecond))
	return s, err
}

// k6Figure is metrics[metric][field], or metrics[metric].values[field]; 0
// when the metric is absent and not required.
func k6Figure(metrics map[string]json.RawMessage, metric, field string, required bool) (float64, error) {
	raw, ok := metrics[metric]
	if !ok {
		if required {
			return 0, fmt.Errorf("k6 summary: metrics.%s: want a metric, got none", metric)
		}
		return 0, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return 0, fmt.Errorf("k6 summary: metrics.%s: %w", metric, err)
	}
	if values, ok := fields["values"]; ok {
		fields = nil
		if err := json.Unmarshal(values, &fields); err != nil {
			return 0, fmt.Errorf("k6 summary: metrics.%s.values: %w", metric, err)
		}
	}
	var v float64
	// The bound keeps counts in an int64 and milliseconds in a Duration.
	if err := json.Unmarshal(fields[field], &v); err != nil || math.IsNaN(v) || v < 0 || v >= 1e12 {
		return 0, fmt.Errorf("k6 summary: metrics.%s %s: want a number in [0, 1e12), got %.40q", metric, field, fields[field])
	}
	return v, nil
}
