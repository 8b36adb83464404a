package loadgen

import (
	"time"

	"github.com/ciamcheck/ciamcheck/reports"
)

// segmentPacer is one segment's share of a schedule: arrival k of the
// segment is arrival k·n + (i−1) of the whole, so the segments of a plan
// interleave into exactly the whole schedule and each keeps its timing.
type segmentPacer struct {
	whole Scheduler
	seg   reports.Segment
}

// HitAt returns when the segment's arrival n is due in the whole schedule.
func (p segmentPacer) HitAt(n uint64) (at time.Duration, ok bool) {
	return p.whole.HitAt(n*uint64(p.seg.Count) + uint64(p.seg.Index-1))
}

// Pace implements Pacer.
func (p segmentPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	return paceFromSchedule(p, elapsed, hits)
}

// segment returns the scenario as segment seg runs it: the interleaved
// share of the open-model schedule; VUs, ramp targets, iteration limit,
// max_in_flight and setup users split with Segment.Share, remainders to the
// first segments, so the shares of all segments add up to the plan's. The
// whole scenario (the receiver) must be validated; the result is not
// validated again (a segment may run 0 VUs of a small scenario).
func (sc *ScenarioConfig) segment(seg reports.Segment) *ScenarioConfig {
	if seg.Whole() {
		return sc
	}
	out := *sc
	out.whole, out.seg = sc, seg
	share := func(v int) int { return int(seg.Share(int64(v))) }
	out.Iterations = seg.Share(sc.Iterations)
	if sc.isOpen() {
		out.MaxInFlight = max(1, share(sc.MaxInFlight))
	} else {
		out.VUs = share(sc.VUs)
		out.StartVUs = share(sc.StartVUs)
		out.Stages = make([]Stage, len(sc.Stages))
		for i, st := range sc.Stages {
			out.Stages[i] = Stage{Duration: st.Duration, Target: float64(share(int(st.Target)))}
		}
	}
	if sc.Setup != nil {
		out.Setup = &SetupConfig{Users: share(sc.Setup.Users)}
	}
	return &out
}
