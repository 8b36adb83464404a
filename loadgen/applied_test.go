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

// retryServer answers every request with status and Retry-After (seconds)
// from the first'th request on; earlier ones get 200.
func retryServer(t *testing.T, first int64, status int, retryAfter string) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) >= first {
			w.Header().Set("Retry-After", retryAfter)
			w.WriteHeader(status)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A Retry-After beyond max_retry_after ends the run at once, and the
// record says why: it could not be judged.
func TestRetryAfterBeyondCapStopsRun(t *testing.T) {
	srv := retryServer(t, 3, http.StatusTooManyRequests, "3600")
	p := mustPlan(t, `
max_retry_after: 5s
scenarios:
  - {flow: probe, executor: constant-arrival-rate, rate: 20, duration: 3s}`)
	start := time.Now()
	l := runProbe(t, p, srv.URL, Options{})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("run took %s: it should stop at the first Retry-After beyond the cap", took)
	}
	if l.Stop != reports.StopRetryAfter || !strings.Contains(l.Aborted, "the target asked to wait 1h0m0s (Retry-After of a 429 answer to probe probe.get), longer than the plan's max_retry_after 5s") {
		t.Errorf("stop %q: %q", l.Stop, l.Aborted)
	}
	if v := reports.JudgeLoad(l); v.Status != reports.StatusNotJudged || !strings.HasPrefix(v.Reason, "load not applied: the target asked to wait 1h0m0s") {
		t.Errorf("verdict %s: %q", v.Status, v.Reason)
	}
}

// A 503's Retry-After is honoured but counted as unavailability, not
// throttling: it never aborts the run for sustained throttling, and the
// run that was held back is not judged.
func TestRetryAfterOf503IsUnavailable(t *testing.T) {
	srv := retryServer(t, 1, http.StatusServiceUnavailable, "1")
	p := mustPlan(t, `
scenarios:
  - {flow: probe, executor: constant-arrival-rate, rate: 20, duration: 3s}`)
	var progress bytes.Buffer
	l := runProbe(t, p, srv.URL, Options{Progress: &progress, PlainProgressEvery: time.Second})
	if !strings.Contains(progress.String(), "throttled 0  unavailable ") {
		t.Errorf("progress does not show the unavailable count:\n%s", progress.String())
	}
	sc := l.Scenarios[0]
	if l.Stop != "" || sc.Throttled != 0 || sc.Unavailable < 40 {
		t.Errorf("stop %q (%s), throttled %d, unavailable %d; want no stop, 0 throttled, about 57 unavailable", l.Stop, l.Aborted, sc.Throttled, sc.Unavailable)
	}
	if v := reports.JudgeLoad(l); v.Status != reports.StatusNotJudged || !strings.Contains(v.Reason, "held back by Retry-After of 503 answers") {
		t.Errorf("verdict %s: %q", v.Status, v.Reason)
	}
}

// The default abort window scales to a short run: a 3s run throttled
// from the start aborts for sustained throttling, and is not judged.
func TestShortRunAbortsOnThrottling(t *testing.T) {
	srv := retryServer(t, 1, http.StatusTooManyRequests, "1")
	p := mustPlan(t, `
scenarios:
  - {flow: probe, executor: constant-arrival-rate, rate: 20, duration: 3s}`)
	l := runProbe(t, p, srv.URL, Options{})
	if l.Stop != reports.StopThrottled || !strings.Contains(l.Aborted, "sustained throttling") {
		t.Errorf("stop %q: %q", l.Stop, l.Aborted)
	}
	if v := reports.JudgeLoad(l); v.Status != reports.StatusNotJudged {
		t.Errorf("verdict %s: %q", v.Status, v.Reason)
	}
}

// A closed-model run held back by Retry-After records the time it was
// paused, and falls short of its schedule.
func TestClosedModelPauseIsRecorded(t *testing.T) {
	srv := retryServer(t, 1, http.StatusTooManyRequests, "1")
	p := mustPlan(t, `
abort_on_throttle: {window: 2s, ratio: 1, min_requests: 1000000}
scenarios:
  - {flow: probe, executor: constant-vus, vus: 2, duration: 2s}`)
	l := runProbe(t, p, srv.URL, Options{})
	sc := l.Scenarios[0]
	if sc.Scheduled != 2*time.Second || sc.Paused < 1500*time.Millisecond || sc.Paused > sc.Scheduled {
		t.Errorf("scheduled %s, paused %s; want 2s and nearly all of it", sc.Scheduled, sc.Paused)
	}
	if v := reports.JudgeLoad(l); v.Status != reports.StatusNotJudged || !strings.Contains(v.Reason, "held back by Retry-After") {
		t.Errorf("verdict %s: %q", v.Status, v.Reason)
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
