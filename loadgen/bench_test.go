package loadgen

import (
	"context"
	"fmt"
	"net"
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

// memPerFlow is what one in-flight flow holds, in bytes.
type memPerFlow struct{ heap, stack float64 }

func (m memPerFlow) add(o memPerFlow) memPerFlow {
	return memPerFlow{m.heap + o.heap, m.stack + o.stack}
}

// BenchmarkInFlightMemoryHTTP is BenchmarkInFlightMemory with each
// iteration parked inside an HTTP request: a loopback listener accepts the
// connections and never answers, so what is measured is the generator plus
// the HTTP client per in-flight flow (connection, its buffers and
// goroutines), not a server. It prints the figure beside the parked-flow
// one of the same run and the goal (16 KiB), as ratios.
func BenchmarkInFlightMemoryHTTP(b *testing.B) {
	const inFlight = 2_000
	ln := listenSilently(b, inFlight)
	defer ln.Close()
	var parked, http memPerFlow
	for b.Loop() {
		parked = parked.add(measureInFlight(b, ln, inFlight, true))
		http = http.add(measureInFlight(b, ln, inFlight, false))
	}
	n := float64(b.N)
	// The goal is heap per in-flight flow; goroutine stacks (the
	// flow's, and net/http's two per connection) are reported beside it.
	b.ReportMetric((parked.heap+parked.stack)/n, "B/inflight-parked")
	b.ReportMetric(http.heap/n, "heapB/inflight-http")
	b.ReportMetric(http.stack/n, "stackB/inflight-http")
	b.ReportMetric((http.heap+http.stack)/n, "B/inflight-http")
	b.ReportMetric(http.heap/n/(16<<10), "heap/goal-16KiB")
}

// silentListener accepts loopback connections and never answers on them,
// so each request sent to it stays in flight until dropConns.
type silentListener struct {
	net.Listener
	accepted chan struct{} // one value per accepted connection
	mu       sync.Mutex
	conns    []net.Conn
}

func listenSilently(b *testing.B, backlog int) *silentListener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &silentListener{Listener: ln, accepted: make(chan struct{}, backlog)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.accepted <- struct{}{}
		}
	}()
	return s
}

// dropConns closes every connection accepted so far.
func (s *silentListener) dropConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// measureInFlight runs inFlight iterations that stay in flight, either
// parked in a gate flow or in an HTTP request to ln, and returns the heap
// and stack each held once all of them had started.
func measureInFlight(b *testing.B, ln *silentListener, inFlight int, parked bool) memPerFlow {
	client := newClient()
	defer client.CloseIdleConnections()
	gate := &gateFlow{release: make(chan struct{})}
	var flow scenarios.Flow = &httpFlow{name: "gate", url: "http://" + ln.Addr().String() + "/", client: client}
	if parked {
		flow = gate
	}
	p, err := ParsePlan([]byte(fmt.Sprintf("graceful_stop: 1s\nscenarios:\n  - {flow: gate, executor: constant-arrival-rate, rate: 4000, iterations: %d, max_in_flight: %d}", inFlight, inFlight)))
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, p, func(string) (scenarios.Flow, error) { return flow, nil }, Options{TargetURL: "http://127.0.0.1:1"})
		done <- err
	}()
	awaitInFlight(ln, gate, inFlight, parked)
	time.Sleep(100 * time.Millisecond) // the last requests reach their read
	runtime.GC()
	runtime.ReadMemStats(&after)
	close(gate.release)
	cancel()
	ln.dropConns()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return memPerFlow{
		heap:  float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / float64(inFlight),
		stack: float64(int64(after.StackInuse)-int64(before.StackInuse)) / float64(inFlight),
	}
}

// awaitInFlight waits, at most 30s, until inFlight iterations have
// started: in the gate when parked, else as connections ln accepted.
func awaitInFlight(ln *silentListener, gate *gateFlow, inFlight int, parked bool) {
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; n < inFlight && time.Now().Before(deadline); {
		if parked {
			if gate.started.Load() >= int64(inFlight) {
				break
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		select {
		case <-ln.accepted:
			n++
		case <-time.After(time.Until(deadline)):
		}
	}
}
