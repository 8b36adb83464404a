package loadgen

import (
	"math"
	"testing"
	"time"
)

// simulate drives a pacer with a fake clock the way the engine does and
// returns the instants at which arrivals fired.
func simulate(t *testing.T, p Pacer, until time.Duration) []time.Duration {
	t.Helper()
	var fired []time.Duration
	var elapsed time.Duration
	for hits := uint64(0); elapsed < until; {
		wait, stop := p.Pace(elapsed, hits)
		if stop {
			break
		}
		if wait == 0 {
			fired = append(fired, elapsed)
			hits++
			continue
		}
		elapsed += wait
		if len(fired) > 10_000_000 {
			t.Fatal("runaway pacer")
		}
	}
	return fired
}

func countIn(fired []time.Duration, from, to time.Duration) int {
	n := 0
	for _, f := range fired {
		if f >= from && f < to {
			n++
		}
	}
	return n
}

func TestConstantPacerAccuracy(t *testing.T) {
	for _, rate := range []float64{1, 45, 100, 2000, 12345.6} {
		p := ConstantPacer{Rate: rate}
		fired := simulate(t, p, 10*time.Second)
		// Every 1 s window holds rate arrivals within 1% (or ±1 for low rates).
		for w := time.Duration(0); w < 10*time.Second; w += time.Second {
			got := float64(countIn(fired, w, w+time.Second))
			if math.Abs(got-rate) > math.Max(rate*0.01, 1) {
				t.Errorf("rate %g: window %s: %g arrivals", rate, w, got)
			}
		}
		if at, _ := p.HitAt(uint64(rate)); rate == math.Trunc(rate) && math.Abs(at.Seconds()-1) > 1e-6 {
			t.Errorf("rate %g: arrival %d due at %s, want 1s", rate, uint64(rate), at)
		}
	}
	if _, stop := (ConstantPacer{}).Pace(0, 0); !stop {
		t.Error("zero rate must stop")
	}
}

func TestRampingPacerAccuracy(t *testing.T) {
	p := RampingPacer{Start: 100, Stages: []Stage{
		{Duration: 4 * time.Second, Target: 1000}, // ramp up
		{Duration: 2 * time.Second, Target: 1000}, // hold
		{Duration: 4 * time.Second, Target: 0},    // ramp down
	}}
	fired := simulate(t, p, time.Minute)
	// Expected count in [a,b) is the integral of the rate there.
	rateAt := func(d time.Duration) float64 { return rampValue(p.Start, p.Stages, d) }
	integral := func(a, b time.Duration) float64 {
		const steps = 1000
		sum, h := 0.0, (b-a).Seconds()/steps
		for i := range steps {
			sum += rateAt(a+time.Duration((float64(i)+0.5)*h*float64(time.Second))) * h
		}
		return sum
	}
	for w := time.Duration(0); w < 10*time.Second; w += time.Second {
		want := integral(w, w+time.Second)
		got := float64(countIn(fired, w, w+time.Second))
		if math.Abs(got-want) > math.Max(want*0.01, 1) {
			t.Errorf("window %s: %g arrivals, want %.1f", w, got, want)
		}
	}
	total := (100+1000)/2.0*4 + 1000*2 + 1000/2.0*4
	if math.Abs(float64(len(fired))-total) > 1 {
		t.Errorf("total %d arrivals, want %g", len(fired), total)
	}
	if d := p.Duration(); d != 10*time.Second {
		t.Errorf("Duration %s", d)
	}
	if pk := p.Peak(); pk != 1000 {
		t.Errorf("Peak %g", pk)
	}
	// Starting from zero works: the first arrival is not at t=0 forever.
	z := RampingPacer{Stages: []Stage{{Duration: time.Second, Target: 10}}}
	if got := len(simulate(t, z, time.Minute)); got != 5 {
		t.Errorf("ramp 0→10/s over 1s: %d arrivals, want 5", got)
	}
}

func TestPacerFunc(t *testing.T) {
	p := PacerFunc(func(e time.Duration, h uint64) (time.Duration, bool) { return time.Duration(h), h > 2 })
	if w, s := p.Pace(0, 2); w != 2 || s {
		t.Errorf("got %v %v", w, s)
	}
}
