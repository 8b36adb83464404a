package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/reports"
)

// schedule lists the due times of every arrival a scenario's pacer holds
// before its end, capped by its iteration limit as the executor caps it.
func schedule(t *testing.T, sc *ScenarioConfig) []time.Duration {
	t.Helper()
	s, ok := sc.pacer().(Scheduler)
	if !ok {
		t.Fatalf("pacer %T is not a Scheduler", sc.pacer())
	}
	var out []time.Duration
	for n := uint64(0); sc.Iterations == 0 || n < uint64(sc.Iterations); n++ {
		at, ok := s.HitAt(n)
		if !ok || at >= sc.length() {
			break
		}
		out = append(out, at)
		if len(out) > 1_000_000 {
			t.Fatal("schedule does not end")
		}
	}
	return out
}

// randomOpenScenario is a valid open-model scenario with random rate,
// duration or ramp, and sometimes an iteration limit.
func randomOpenScenario(t *testing.T, rng *rand.Rand) *ScenarioConfig {
	t.Helper()
	sc := &ScenarioConfig{Name: "s", Flow: "f"}
	if rng.IntN(2) == 0 {
		sc.Executor = ExecConstantArrivalRate
		sc.Rate = 0.5 + rng.Float64()*200
		sc.Duration = time.Duration(1+rng.IntN(5000)) * time.Millisecond
	} else {
		sc.Executor = ExecRampingArrivalRate
		sc.StartRate = float64(rng.IntN(50))
		for range 1 + rng.IntN(4) {
			sc.Stages = append(sc.Stages, Stage{Duration: time.Duration(1+rng.IntN(2000)) * time.Millisecond, Target: rng.Float64() * 300})
		}
	}
	if rng.IntN(3) == 0 {
		sc.Iterations = int64(1 + rng.IntN(400))
	}
	if err := sc.validate(); err != nil {
		t.Fatalf("random scenario %+v: %v", sc, err)
	}
	return sc
}

func TestSegmentSchedulesUnionToTheWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2026))
	for c := range 300 {
		sc := randomOpenScenario(t, rng)
		n := 1 + rng.IntN(7)
		t.Run(fmt.Sprintf("case%d-%s-n%d", c, sc.Executor, n), func(t *testing.T) {
			whole := schedule(t, sc)
			var union []time.Duration
			var expected int64
			for i := 1; i <= n; i++ {
				seg := sc.segment(reports.Segment{Index: i, Count: n})
				part := schedule(t, seg)
				// Each segment keeps the whole's timing: its arrival k is
				// the whole's arrival k·n+i−1.
				for k, at := range part {
					if w := k*n + i - 1; w >= len(whole) || whole[w] != at {
						t.Fatalf("segment %d/%d arrival %d at %s: want the whole's arrival %d", i, n, k, at, w)
					}
				}
				union = append(union, part...)
				expected += seg.expected()
			}
			slices.Sort(union)
			if !slices.Equal(union, whole) {
				t.Fatalf("union of %d segments: want %d arrivals equal to the whole schedule, got %d", n, len(whole), len(union))
			}
			if want := sc.expected(); expected != want {
				t.Errorf("expected summed over segments: want %d, got %d", want, expected)
			}
			if int64(len(whole)) != sc.expected() {
				t.Errorf("whole schedule holds %d arrivals, expected() says %d", len(whole), sc.expected())
			}
		})
	}
}

func TestSegmentSplitsWithoutRoundingLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 14))
	for c := range 200 {
		sc := &ScenarioConfig{Name: "v", Flow: "f", Executor: ExecRampingVUs, StartVUs: rng.IntN(20),
			Iterations: int64(rng.IntN(100)), Setup: &SetupConfig{Users: rng.IntN(50)}}
		for range 1 + rng.IntN(3) {
			sc.Stages = append(sc.Stages, Stage{Duration: time.Second, Target: float64(rng.IntN(40))})
		}
		if rng.IntN(2) == 0 {
			sc.Executor, sc.VUs, sc.StartVUs, sc.Stages, sc.Duration = ExecConstantVUs, 1+rng.IntN(30), 0, nil, time.Second
		}
		if err := sc.validate(); err != nil {
			t.Fatal(err)
		}
		n := 1 + rng.IntN(9)
		var vus, start, iters, users int64
		targets := make([]float64, len(sc.Stages))
		for i := 1; i <= n; i++ {
			seg := sc.segment(reports.Segment{Index: i, Count: n})
			vus += int64(seg.VUs)
			start += int64(seg.StartVUs)
			iters += seg.Iterations
			users += int64(seg.Setup.Users)
			for k, st := range seg.Stages {
				targets[k] += st.Target
			}
			if seg.maxVUs() > sc.maxVUs() {
				t.Errorf("case %d: segment %d/%d runs %d VUs, more than the whole's %d", c, i, n, seg.maxVUs(), sc.maxVUs())
			}
		}
		if vus != int64(sc.VUs) || start != int64(sc.StartVUs) || iters != sc.Iterations || users != int64(sc.Setup.Users) {
			t.Errorf("case %d split %d ways: vus %d/%d, start_vus %d/%d, iterations %d/%d, users %d/%d (summed/whole)",
				c, n, vus, sc.VUs, start, sc.StartVUs, iters, sc.Iterations, users, sc.Setup.Users)
		}
		for k, st := range sc.Stages {
			if targets[k] != st.Target {
				t.Errorf("case %d stage %d: targets sum to %g, want %g", c, k+1, targets[k], st.Target)
			}
		}
	}
}

func TestRemaindersGoToTheFirstSegments(t *testing.T) {
	sc := &ScenarioConfig{Name: "c", Flow: "f", Executor: ExecConstantVUs, VUs: 10, Duration: time.Second, Iterations: 7}
	if err := sc.validate(); err != nil {
		t.Fatal(err)
	}
	var gotVUs []int
	var gotIters []int64
	for i := 1; i <= 4; i++ {
		seg := sc.segment(reports.Segment{Index: i, Count: 4})
		gotVUs = append(gotVUs, seg.VUs)
		gotIters = append(gotIters, seg.Iterations)
	}
	if want := []int{3, 3, 2, 2}; !slices.Equal(gotVUs, want) {
		t.Errorf("10 VUs in 4 segments: want %v, got %v", want, gotVUs)
	}
	if want := []int64{2, 2, 2, 1}; !slices.Equal(gotIters, want) {
		t.Errorf("7 iterations in 4 segments: want %v, got %v", want, gotIters)
	}
}

func TestSegmentTargetRatesAddUpToTheWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 14))
	for c := range 100 {
		sc := randomOpenScenario(t, rng)
		n := 1 + rng.IntN(6)
		from := time.Duration(rng.Int64N(int64(sc.length())))
		to := from + time.Duration(1+rng.Int64N(int64(time.Second)))
		var sum float64
		for i := 1; i <= n; i++ {
			sum += sc.segment(reports.Segment{Index: i, Count: n}).targetRate(from, to)
		}
		if want := sc.targetRate(from, to); math.Abs(sum-want) > 1e-9*max(1, want) {
			t.Errorf("case %d, %d segments: target rates add up to %g, want the whole's %g", c, n, sum, want)
		}
	}
}
