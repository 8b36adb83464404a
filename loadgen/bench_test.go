package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ciamcheck/ciamcheck/scenarios"
)

// BenchmarkRecord is the cost of recording one step result (two histogram
// values and an outcome counter) on the hot path.
func BenchmarkRecord(b *testing.B) {
	rec := newRecorder(0)
	base := time.Now()
	res := scenarios.StepResult{Step: "token.password", IntendedStart: base, Sent: base.Add(time.Millisecond), Done: base.Add(3 * time.Millisecond), HTTPStatus: 200}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			rec.observe(0, &res)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			r := res
			for pb.Next() {
				rec.observe(0, &r)
			}
		})
	})
	b.Run("parallel-with-swaps", func(b *testing.B) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
					rec.swap(func(*laneSet) {})
				}
			}
		}()
		b.RunParallel(func(pb *testing.PB) {
			r := res
			for pb.Next() {
				rec.observe(0, &r)
			}
		})
		close(stop)
		wg.Wait()
	})
}

// gateFlow blocks every iteration until released, counting arrivals.
type gateFlow struct {
	started atomic.Int64
	release chan struct{}
}

func (f *gateFlow) Name() string { return "gate" }
func (f *gateFlow) Run(ctx context.Context, it scenarios.Iteration) error {
	f.started.Add(1)
	select {
	case <-f.release:
	case <-ctx.Done():
	}
	return nil
}

// BenchmarkInFlightMemory measures heap plus stack per in-flight iteration
// with 10,000 iterations of a flow parked mid-run (goal ≤ 16 KiB each).
func BenchmarkInFlightMemory(b *testing.B) {
	const inFlight = 10_000
	for b.Loop() {
		f := &gateFlow{release: make(chan struct{})}
		p, err := ParsePlan([]byte(fmt.Sprintf(`
scenarios:
  - {flow: gate, executor: constant-arrival-rate, rate: 40000, iterations: %d, max_in_flight: %d}`, inFlight, inFlight)))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		done := make(chan error, 1)
		go func() {
			_, err := Run(context.Background(), p, func(string) (scenarios.Flow, error) { return f, nil }, Options{TargetURL: "http://127.0.0.1:1"})
			done <- err
		}()
		deadline := time.Now().Add(30 * time.Second)
		for f.started.Load() < inFlight && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		close(f.release)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		used := float64((after.HeapInuse + after.StackInuse) - (before.HeapInuse + before.StackInuse))
		b.ReportMetric(used/inFlight, "B/inflight")
		b.ReportMetric(used/(1<<20), "MiB/10k")
	}
}

// lagFlow is one GET per iteration that also tracks how late iterations
// started against their schedule.
type lagFlow struct {
	httpFlow
	maxLag atomic.Int64
}

func (f *lagFlow) Run(ctx context.Context, it scenarios.Iteration) error {
	if lag := int64(time.Since(it.IntendedStart)); lag > f.maxLag.Load() {
		f.maxLag.Store(lag)
	}
	return f.httpFlow.Run(ctx, it)
}

// TestVegetaComparison runs ciamcheck's open-model engine and Vegeta side by
// side at the same rates against a trivial loopback handler and prints a
// table. It is a benchmark in disguise (it needs paired runs and a table),
// so it runs only with CIAMCHECK_BENCH_VEGETA=1.
func TestVegetaComparison(t *testing.T) {
	if os.Getenv("CIAMCHECK_BENCH_VEGETA") != "1" {
		t.Skip("set CIAMCHECK_BENCH_VEGETA=1 to compare with Vegeta")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	const dur = 2 * time.Second
	const maxConns = 1000
	t.Logf("%-8s %-9s %10s %8s %10s %10s", "rate/s", "tool", "achieved/s", "behind", "p50", "p99")
	for _, rate := range []int{2000, 5000, 10000, 15000, 17500, 20000} {
		// Both tools get the same connection budget: at most maxConns
		// connections, all kept alive. Without a cap, a burst opens a
		// connection per in-flight request and both sides of loopback run
		// out of file descriptors (ulimit -n 20000 here) at 20,000/s.
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConns: maxConns, MaxIdleConnsPerHost: maxConns, MaxConnsPerHost: maxConns}}
		f := &lagFlow{httpFlow: httpFlow{name: "probe", url: srv.URL, client: client}}
		p, err := ParsePlan([]byte(fmt.Sprintf(`
scenarios:
  - {flow: probe, executor: constant-arrival-rate, rate: %d, duration: %s, max_in_flight: 10000}`, rate, dur)))
		if err != nil {
			t.Fatal(err)
		}
		l, err := Run(context.Background(), p, func(string) (scenarios.Flow, error) { return f, nil }, Options{TargetURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		sc := l.Scenarios[0]
		rt := sc.Steps[0].ResponseTime
		// One definition of "sustained" for both tools: at least 99% of
		// the asked rate achieved, with nothing dropped or failed. The
		// worst start lag behind schedule is shown beside it; Vegeta does
		// not report one.
		achieved := float64(sc.Iterations) / sc.Duration.Seconds()
		behind := achieved < 0.99*float64(rate) || sc.Dropped > 0 || sc.Failed > 0
		st := sc.Steps[0].ServiceTime
		t.Logf("%-8d %-9s %10.0f %8v %10s %10s   (response time from the intended start; service time p50 %s p99 %s; dropped %d, max start lag %s)", rate, "ciamcheck",
			achieved, behind, time.Duration(rt.P50)*time.Microsecond, time.Duration(rt.P99)*time.Microsecond,
			time.Duration(st.P50)*time.Microsecond, time.Duration(st.P99)*time.Microsecond,
			sc.Dropped, time.Duration(f.maxLag.Load()).Round(time.Microsecond))
		client.CloseIdleConnections()
		srv.CloseClientConnections()

		atk := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Connections(maxConns), vegeta.MaxConnections(maxConns), vegeta.MaxWorkers(10000))
		tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: srv.URL})
		var m vegeta.Metrics
		for res := range atk.Attack(tr, vegeta.Rate{Freq: rate, Per: time.Second}, dur, "bench") {
			m.Add(res)
		}
		m.Close()
		vbehind := m.Rate < 0.99*float64(rate) || m.Success < 1
		t.Logf("%-8d %-9s %10.0f %8v %10s %10s   (latency from the actual send; success %.1f%%)", rate, "vegeta", m.Rate, vbehind,
			m.Latencies.P50.Round(time.Microsecond), m.Latencies.P99.Round(time.Microsecond), m.Success*100)
		srv.CloseClientConnections()
	}
}
