package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/scenarios"
)

// startFlow runs its Flow and notes when each iteration was intended and
// when it started, in a slot per iteration (Seq is unique and dense, so
// writers never share a slot and need no lock).
type startFlow struct {
	scenarios.Flow
	base     time.Time
	intended []atomic.Int64 // ns since base
	started  []atomic.Int64
}

// newStartFlow notes the first n iterations of f, from now on.
func newStartFlow(f scenarios.Flow, n int64) *startFlow {
	return &startFlow{Flow: f, base: time.Now(), intended: make([]atomic.Int64, n), started: make([]atomic.Int64, n)}
}

func (f *startFlow) Run(ctx context.Context, it scenarios.Iteration) error {
	if i := it.Seq - 1; i < uint64(len(f.intended)) {
		f.intended[i].Store(int64(it.IntendedStart.Sub(f.base)))
		f.started[i].Store(int64(time.Since(f.base)))
	}
	return f.Flow.Run(ctx, it)
}

// samples is the intended start of each of the first n iterations,
// relative to the earliest, with its start lag, in order of intended start.
func (f *startFlow) samples(n int64) []lagSample {
	n = min(n, int64(len(f.intended)))
	out := make([]lagSample, 0, n)
	first := time.Duration(1<<63 - 1)
	for i := range n {
		first = min(first, time.Duration(f.intended[i].Load()))
	}
	for i := range n {
		in := time.Duration(f.intended[i].Load())
		out = append(out, lagSample{intended: in - first, lag: time.Duration(f.started[i].Load()) - in})
	}
	slices.SortFunc(out, func(a, b lagSample) int { return int(a.intended - b.intended) })
	return out
}

// TestArrivalsKeepTheirIntendedStart: at 5,000/s, arrivals 200 µs apart,
// the clock wakes once for several of them (its timers are later than
// that on an idle machine), and each still carries its own place on the
// schedule, exactly, and starts no earlier.
func TestArrivalsKeepTheirIntendedStart(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	p := mustPlan(t, `
scenarios:
  - {flow: probe, executor: constant-arrival-rate, rate: 5000, duration: 300ms, max_in_flight: 2000}`)
	f := newStartFlow(&httpFlow{name: "probe", url: srv.URL, client: newClient()}, 1500)
	sc := runFlows(t, p, Options{TargetURL: srv.URL}, f).Scenarios[0]
	if sc.Expected != 1500 || sc.Iterations != 1500 || sc.Dropped != 0 {
		t.Fatalf("expected/iterations/dropped: want 1500/1500/0, got %d/%d/%d", sc.Expected, sc.Iterations, sc.Dropped)
	}
	pacer := ConstantPacer{Rate: 5000}
	for n, s := range f.samples(sc.Iterations) {
		if want, _ := pacer.HitAt(uint64(n)); s.intended != want {
			t.Fatalf("arrival %d: intended start: want %s, got %s", n, want, s.intended)
		}
		if s.lag < 0 {
			t.Fatalf("arrival %d started %s before its intended start", n, -s.lag)
		}
	}
}

// TestPoolGrowsUnderSlowResponses: flows of 100 ms at 1,000/s hold about
// a hundred in flight; the worker pool grows to them, so no arrival waits
// for an earlier one to finish (the open model): none is dropped and the
// last ones start about when they are due. A pool that stopped growing at
// n workers would start the last arrival 300/n × 100 ms − 300 ms late.
func TestPoolGrowsUnderSlowResponses(t *testing.T) {
	p := mustPlan(t, `
scenarios:
  - {flow: slow, executor: constant-arrival-rate, rate: 1000, duration: 300ms, max_in_flight: 1000}`)
	f := newStartFlow(&sleepFlow{"slow", 100 * time.Millisecond}, 300)
	sc := runFlows(t, p, Options{}, f).Scenarios[0]
	if sc.Expected != 300 || sc.Iterations != 300 || sc.Dropped != 0 || sc.Failed != 0 {
		t.Fatalf("expected/iterations/dropped/failed: want 300/300/0/0, got %d/%d/%d/%d", sc.Expected, sc.Iterations, sc.Dropped, sc.Failed)
	}
	s := f.samples(sc.Iterations)
	// Generous bounds for a busy machine; a pool that does not grow is
	// hundreds of ms late at the end.
	if last := s[len(s)-1]; last.lag > 100*time.Millisecond {
		t.Errorf("last arrival (due at %s): start lag: want < 100ms, got %s", last.intended, last.lag)
	}
	lags := make([]time.Duration, len(s))
	for i := range s {
		lags[i] = s[i].lag
	}
	slices.Sort(lags)
	if p50 := lags[len(lags)/2]; p50 > 20*time.Millisecond {
		t.Errorf("start lag p50: want < 20ms, got %s", p50)
	}
}
