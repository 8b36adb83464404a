package loadgen

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/reports"
)

// retryServer answers every request with status and Retry-After (seconds;
// none when empty) from the first'th request on; earlier ones get 200.
func retryServer(t *testing.T, first int64, status int, retryAfter string) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) >= first {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// appliedCase is a run against a target that throttles or is unavailable,
// and what its record must say of the load applied.
type appliedCase struct {
	name string
	// The target answers status with Retry-After (seconds; none when
	// empty) from its first'th request on: see retryServer.
	first      int64
	status     int
	retryAfter string
	plan       string
	within     time.Duration    // the run must end within it; 0: not checked
	stop       reports.StopKind // the record's Stop
	aborted    string           // in the record's Aborted
	verdict    reports.Status
	reason     string // in the verdict's reason
	// progress, when set, receives the plain progress lines every second.
	progress *bytes.Buffer
	check    func(t *testing.T, l *reports.Load) // anything more
}

func TestLoadApplied(t *testing.T) {
	var progress503 bytes.Buffer
	cases := []appliedCase{{
		// A Retry-After beyond max_retry_after ends the run at once, and
		// the record says why: it could not be judged.
		name: "Retry-After beyond the cap", first: 3, status: http.StatusTooManyRequests, retryAfter: "3600",
		plan:   "{max_retry_after: 5s, scenarios: [{flow: probe, executor: constant-arrival-rate, rate: 20, duration: 3s}]}",
		within: 2 * time.Second, stop: reports.StopRetryAfter,
		aborted: "the target asked to wait 1h0m0s (Retry-After of a 429 answer to probe probe.get), longer than the plan's max_retry_after 5s",
		verdict: reports.StatusNotJudged, reason: "load not applied: the target asked to wait 1h0m0s",
	}, {
		// A 503's Retry-After is honoured but counted as unavailability,
		// not throttling: it never aborts the run for sustained
		// throttling, and the run that was held back is not judged.
		name: "503 is unavailable", first: 1, status: http.StatusServiceUnavailable, retryAfter: "1",
		plan:    "{scenarios: [{flow: probe, executor: constant-arrival-rate, rate: 20, duration: 3s}]}",
		verdict: reports.StatusNotJudged, reason: "held back by Retry-After of 503 answers",
		progress: &progress503,
		check: func(t *testing.T, l *reports.Load) {
			if !strings.Contains(progress503.String(), "throttled 0  unavailable ") {
				t.Errorf("progress does not show the unavailable count:\n%s", progress503.String())
			}
			if sc := l.Scenarios[0]; sc.Throttled != 0 || sc.Unavailable < 40 {
				t.Errorf("throttled %d, unavailable %d; want 0 throttled, about 57 unavailable", sc.Throttled, sc.Unavailable)
			}
		},
	}, {
		// The default abort window scales to a short run: a 3s run
		// throttled from the start aborts for sustained throttling, and is
		// not judged.
		name: "short run throttled", first: 1, status: http.StatusTooManyRequests, retryAfter: "1",
		plan: "{scenarios: [{flow: probe, executor: constant-arrival-rate, rate: 20, duration: 3s}]}",
		stop: reports.StopThrottled, aborted: "sustained throttling", verdict: reports.StatusNotJudged,
	}, {
		// A closed-model run held back by Retry-After records the time it
		// was paused, and falls short of its schedule.
		name: "closed model paused", first: 1, status: http.StatusTooManyRequests, retryAfter: "1",
		plan:    "{abort_on_throttle: {window: 2s, ratio: 1, min_requests: 1000000}, scenarios: [{flow: probe, executor: constant-vus, vus: 2, duration: 2s}]}",
		verdict: reports.StatusNotJudged, reason: "held back by Retry-After",
		check: func(t *testing.T, l *reports.Load) {
			if sc := l.Scenarios[0]; sc.Scheduled != 2*time.Second || sc.Paused < 1500*time.Millisecond || sc.Paused > sc.Scheduled {
				t.Errorf("scheduled %s, paused %s; want 2s and nearly all of it", sc.Scheduled, sc.Paused)
			}
		},
	}, {
		// Every answer a 429 without Retry-After: the run aborts after
		// about the window.
		name: "sustained 429s", first: 1, status: http.StatusTooManyRequests,
		plan:   "{graceful_stop: 1s, abort_on_throttle: {window: 500ms, ratio: 0.5, min_requests: 10}, scenarios: [{flow: probe, executor: constant-arrival-rate, rate: 100, duration: 20s}]}",
		within: 5 * time.Second, stop: reports.StopThrottled, aborted: "sustained throttling", verdict: reports.StatusNotJudged,
	}, {
		// Every answer a 429 with Retry-After: few requests are sent, since
		// arrivals wait out the pause; the run must abort all the same,
		// counting the held-back arrivals as throttled work.
		name: "Retry-After holds arrivals", first: 1, status: http.StatusTooManyRequests, retryAfter: "1",
		plan:   "{graceful_stop: 1s, abort_on_throttle: {window: 1s, ratio: 0.5, min_requests: 10}, scenarios: [{flow: probe, executor: constant-arrival-rate, rate: 20, duration: 20s}]}",
		within: 6 * time.Second, stop: reports.StopThrottled, aborted: "held back by Retry-After", verdict: reports.StatusNotJudged,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runAppliedCase(t, tc) })
	}
}

// runAppliedCase runs the case's plan against a server answering its
// status, and checks how the run stopped, how long it took and the
// verdict on its record.
func runAppliedCase(t *testing.T, tc appliedCase) {
	srv := retryServer(t, tc.first, tc.status, tc.retryAfter)
	var opts Options
	if tc.progress != nil {
		opts = Options{Progress: tc.progress, PlainProgressEvery: time.Second}
	}
	start := time.Now()
	l := runProbe(t, mustPlan(t, tc.plan), srv.URL, opts)
	if took := time.Since(start); tc.within > 0 && took > tc.within {
		t.Errorf("run took %s, want within %s: %q", took, tc.within, l.Aborted)
	}
	if l.Stop != tc.stop || !strings.Contains(l.Aborted, tc.aborted) {
		t.Errorf("stop: want %q containing %q, got %q: %q", tc.stop, tc.aborted, l.Stop, l.Aborted)
	}
	if v := reports.JudgeLoad(l); v.Status != tc.verdict || !strings.Contains(v.Reason, tc.reason) {
		t.Errorf("verdict: want %s containing %q, got %s: %q", tc.verdict, tc.reason, v.Status, v.Reason)
	}
	if tc.check != nil {
		tc.check(t, l)
	}
}

// A target nobody listens on: every step is a transport failure of class
// refused, with its message as example.
func TestTransportClassInRecord(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := "http://" + ln.Addr().String() + "/x?client-request-id=abc"
	ln.Close()
	p := mustPlan(t, `
scenarios:
  - {flow: probe, executor: constant-arrival-rate, rate: 10, duration: 500ms}`)
	l := runProbe(t, p, target, Options{})
	st := l.Scenarios[0].Steps[0]
	if len(st.Outcomes) != 1 {
		t.Fatalf("outcomes %+v, want one", st.Outcomes)
	}
	o := st.Outcomes[0]
	if !o.Transport || o.TransportClass != "refused" || o.Count != st.Count || !strings.Contains(o.Example, "connection refused") || strings.Contains(o.Example, "client-request-id") {
		t.Errorf("outcome %+v", o)
	}
}
