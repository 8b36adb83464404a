package loadgen

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
