package loadgen

import (
	"fmt"
	"math"
	"time"
)

// Pacer decides when the next arrival of an open-model scenario is due. It
// is given the time elapsed since the scenario began and the number of
// arrivals already scheduled (started, dropped or throttled) and returns how
// long to wait before the next one, or stop when the schedule has ended.
// The engine never knows which pacer it runs.
type Pacer interface {
	Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool)
}

// PacerFunc adapts a function to Pacer.
type PacerFunc func(elapsed time.Duration, hits uint64) (time.Duration, bool)

// Pace calls f(elapsed, hits).
func (f PacerFunc) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	return f(elapsed, hits)
}

// Scheduler is implemented by pacers that can say exactly when arrival n
// (0-based) was due. The engine uses it to stamp Iteration.IntendedStart with
// the scheduled instant even when it is running behind; with a plain Pacer
// the intended start of a late arrival is the moment the engine noticed it.
type Scheduler interface {
	HitAt(n uint64) (at time.Duration, ok bool)
}

// paceFromSchedule implements Pace on top of HitAt.
func paceFromSchedule(s Scheduler, elapsed time.Duration, hits uint64) (time.Duration, bool) {
	at, ok := s.HitAt(hits)
	if !ok {
		return 0, true
	}
	if at <= elapsed {
		return 0, false
	}
	return at - elapsed, false
}

// ConstantPacer schedules Rate arrivals per second, evenly spaced: arrival n
// (0-based) is due at n/Rate seconds, so after t seconds exactly
// floor(t·Rate)+1 arrivals are due. It never stops by itself; the scenario's
// duration or iteration limit ends it.
type ConstantPacer struct {
	Rate float64 // arrivals per second, > 0
}

// HitAt returns n/Rate.
func (p ConstantPacer) HitAt(n uint64) (time.Duration, bool) {
	if p.Rate <= 0 || math.IsNaN(p.Rate) || math.IsInf(p.Rate, 0) {
		return 0, false
	}
	return secondsToDuration(float64(n) / p.Rate), true
}

// Pace implements Pacer.
func (p ConstantPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	return paceFromSchedule(p, elapsed, hits)
}

func (p ConstantPacer) String() string { return fmt.Sprintf("constant %g/s", p.Rate) }

// Stage is one leg of a ramp: the value moves linearly from the previous
// stage's Target (or the start value) to Target over Duration.
type Stage struct {
	Duration time.Duration `yaml:"duration" json:"duration"`
	Target   float64       `yaml:"target" json:"target"`
}

// RampingPacer schedules arrivals at a rate r(t) that is piecewise linear:
// it starts at Start arrivals/s and moves linearly to each stage's Target
// over that stage's Duration. The number of arrivals due by time t is the
// integral H(t) = ∫₀ᵗ r(u) du; arrival n (0-based) is due at the t where
// H(t) = n. Within a stage starting at T₀ with rate r₀ and slope
// a = (r₁−r₀)/D, H(T₀+x) = H(T₀) + r₀x + ax²/2, so for d = n − H(T₀) the
// due offset is x = 2d / (r₀ + √(r₀² + 2ad)), the numerically stable root
// that also covers a = 0 (x = d/r₀). The pacer stops after the last stage.
type RampingPacer struct {
	Start  float64
	Stages []Stage
}

// HitAt solves H(t) = n stage by stage.
func (p RampingPacer) HitAt(n uint64) (time.Duration, bool) {
	want := float64(n)
	var t0, h0 float64 // seconds, arrivals at the start of the stage
	r0 := p.Start
	for _, st := range p.Stages {
		d := st.Duration.Seconds()
		if d <= 0 {
			r0 = st.Target
			continue
		}
		r1 := st.Target
		h1 := h0 + (r0+r1)/2*d
		if want < h1 {
			rem := want - h0
			if rem <= 0 {
				return secondsToDuration(t0), true
			}
			a := (r1 - r0) / d
			disc := r0*r0 + 2*a*rem
			if disc < 0 {
				disc = 0
			}
			den := r0 + math.Sqrt(disc)
			if den > 0 {
				x := 2 * rem / den
				if x > d {
					x = d
				}
				return secondsToDuration(t0 + x), true
			}
		}
		t0 += d
		h0 = h1
		r0 = r1
	}
	return 0, false
}

// Pace implements Pacer.
func (p RampingPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	return paceFromSchedule(p, elapsed, hits)
}

// Duration is the length of the whole ramp.
func (p RampingPacer) Duration() time.Duration {
	var d time.Duration
	for _, st := range p.Stages {
		d += st.Duration
	}
	return d
}

// Peak is the highest rate the ramp reaches.
func (p RampingPacer) Peak() float64 {
	peak := p.Start
	for _, st := range p.Stages {
		peak = math.Max(peak, st.Target)
	}
	return peak
}

// rampValue is the piecewise-linear value of a ramp (rate or VUs) at elapsed.
func rampValue(start float64, stages []Stage, elapsed time.Duration) float64 {
	v := start
	for _, st := range stages {
		if elapsed < st.Duration {
			return v + (st.Target-v)*float64(elapsed)/float64(st.Duration)
		}
		elapsed -= st.Duration
		v = st.Target
	}
	return v
}

func secondsToDuration(s float64) time.Duration {
	if s >= float64(math.MaxInt64)/float64(time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}
