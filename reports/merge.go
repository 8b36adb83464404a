package reports

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Merge combines load records of the same plan run on several machines into
// one: histograms merged exactly (an error if any value would be dropped),
// counters summed, the run spanning the earliest start to the latest end and
// each scenario lasting its longest part. Tool and target come from the
// first record. Thresholds are dropped: each machine evaluated them on its
// share, and only the merged histograms say whether the whole run met them,
// so the gate must evaluate them again. Abort reasons are kept, prefixed
// with the record's position. Records of another kind or plan are refused.
// The result is unsealed; Write seals it.
func Merge(records ...*Record) (*Record, error) {
	if len(records) == 0 {
		return nil, errors.New("merge: no records")
	}
	for i, r := range records {
		if r == nil || r.Kind != KindLoad || r.Load == nil {
			return nil, fmt.Errorf("merge: record %d is not a load record", i+1)
		}
		if err := Validate(r); err != nil {
			return nil, fmt.Errorf("merge: record %d: %w", i+1, err)
		}
	}
	first := records[0]
	plan, err := canonicalAny(first.Load.Plan)
	if err != nil {
		return nil, fmt.Errorf("merge: record 1 plan: %w", err)
	}
	for i, r := range records[1:] {
		p, err := canonicalAny(r.Load.Plan)
		if err != nil {
			return nil, fmt.Errorf("merge: record %d plan: %w", i+2, err)
		}
		if !bytes.Equal(p, plan) {
			return nil, fmt.Errorf("merge: record %d ran a different plan than record 1", i+2)
		}
	}

	out := NewRecord(KindLoad, first.Tool, first.Target)
	out.StartedAt, out.EndedAt = first.StartedAt, first.EndedAt
	out.Load.Plan = append([]byte(nil), first.Load.Plan...)
	var aborted []string
	type acc struct {
		res   ScenarioResult
		steps map[string]*stepAcc
		order []string
		flow  *stepAcc
	}
	byName := map[string]*acc{}
	var names []string
	for i, r := range records {
		if r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.EndedAt.After(out.EndedAt) {
			out.EndedAt = r.EndedAt
		}
		if r.Load.Aborted != "" {
			aborted = append(aborted, fmt.Sprintf("record %d: %s", i+1, r.Load.Aborted))
		}
		for _, s := range r.Load.Scenarios {
			a := byName[s.Name]
			if a == nil {
				a = &acc{res: ScenarioResult{Name: s.Name, Flow: s.Flow, Executor: s.Executor}, steps: map[string]*stepAcc{}}
				byName[s.Name] = a
				names = append(names, s.Name)
			} else if a.res.Flow != s.Flow || a.res.Executor != s.Executor {
				return nil, fmt.Errorf("merge: record %d scenario %q runs flow %q with %q, earlier records %q with %q", i+1, s.Name, s.Flow, s.Executor, a.res.Flow, a.res.Executor)
			}
			a.res.Iterations += s.Iterations
			a.res.Expected += s.Expected
			a.res.Failed += s.Failed
			a.res.Dropped += s.Dropped
			a.res.Throttled += s.Throttled
			a.res.Duration = max(a.res.Duration, s.Duration)
			if s.FlowStats != nil {
				if a.flow == nil {
					a.flow = &stepAcc{name: s.FlowStats.Step}
				}
				if err := a.flow.add(*s.FlowStats); err != nil {
					return nil, fmt.Errorf("merge: record %d scenario %q flow: %w", i+1, s.Name, err)
				}
			}
			for _, st := range s.Steps {
				sa := a.steps[st.Step]
				if sa == nil {
					sa = &stepAcc{name: st.Step}
					a.steps[st.Step] = sa
					a.order = append(a.order, st.Step)
				}
				if err := sa.add(st); err != nil {
					return nil, fmt.Errorf("merge: record %d scenario %q step %q: %w", i+1, s.Name, st.Step, err)
				}
			}
		}
	}
	for _, n := range names {
		a := byName[n]
		if a.flow != nil {
			fs, err := a.flow.result()
			if err != nil {
				return nil, fmt.Errorf("merge: scenario %q flow: %w", n, err)
			}
			a.res.FlowStats = &fs
		}
		a.res.Steps = []StepStats{}
		for _, sn := range a.order {
			st, err := a.steps[sn].result()
			if err != nil {
				return nil, fmt.Errorf("merge: scenario %q step %q: %w", n, sn, err)
			}
			a.res.Steps = append(a.res.Steps, st)
		}
		out.Load.Scenarios = append(out.Load.Scenarios, a.res)
	}
	out.Load.Aborted = strings.Join(aborted, "; ")
	if err := Validate(out); err != nil {
		return nil, fmt.Errorf("merge: merged record is invalid: %w", err)
	}
	return out, nil
}

// stepAcc accumulates one step across records.
type stepAcc struct {
	name     string
	count    int64
	outcomes []OutcomeCount
	service  *hdrhistogram.Histogram
	response *hdrhistogram.Histogram
}

func (a *stepAcc) add(st StepStats) error {
	a.count += st.Count
	for _, o := range st.Outcomes {
		found := false
		for i := range a.outcomes {
			x := &a.outcomes[i]
			if x.HTTPStatus == o.HTTPStatus && x.Error == o.Error && x.Suberror == o.Suberror && x.Redirect == o.Redirect && x.Transport == o.Transport && x.Expected == o.Expected {
				x.Count += o.Count
				found = true
				break
			}
		}
		if !found {
			a.outcomes = append(a.outcomes, o)
		}
	}
	var err error
	if a.service, err = mergeInto(a.service, st.ServiceTime); err != nil {
		return fmt.Errorf("service_time: %w", err)
	}
	if a.response, err = mergeInto(a.response, st.ResponseTime); err != nil {
		return fmt.Errorf("response_time: %w", err)
	}
	return nil
}

func mergeInto(dst *hdrhistogram.Histogram, h Histogram) (*hdrhistogram.Histogram, error) {
	src, err := DecodeHistogram(h)
	if err != nil {
		return nil, err
	}
	if dst == nil {
		return src, nil
	}
	if src.LowestTrackableValue() < dst.LowestTrackableValue() || src.HighestTrackableValue() > dst.HighestTrackableValue() || src.SignificantFigures() > dst.SignificantFigures() {
		// Widen rather than drop: machines may record with different ranges.
		wide := hdrhistogram.New(min(src.LowestTrackableValue(), dst.LowestTrackableValue()),
			max(src.HighestTrackableValue(), dst.HighestTrackableValue()), int(max(src.SignificantFigures(), dst.SignificantFigures())))
		if dropped := wide.Merge(dst); dropped != 0 {
			return nil, fmt.Errorf("widening histogram dropped %d values", dropped)
		}
		dst = wide
	}
	if dropped := dst.Merge(src); dropped != 0 {
		return nil, fmt.Errorf("merging histograms dropped %d values (ranges differ: %d..%d vs %d..%d)", dropped,
			dst.LowestTrackableValue(), dst.HighestTrackableValue(), src.LowestTrackableValue(), src.HighestTrackableValue())
	}
	return dst, nil
}

func (a *stepAcc) result() (StepStats, error) {
	st := StepStats{Step: a.name, Count: a.count, Outcomes: a.outcomes}
	if st.Outcomes == nil {
		st.Outcomes = []OutcomeCount{}
	}
	var err error
	if st.ServiceTime, err = encodeOrEmpty(a.service); err != nil {
		return st, err
	}
	if st.ResponseTime, err = encodeOrEmpty(a.response); err != nil {
		return st, err
	}
	return st, nil
}

// encodeOrEmpty keeps an empty histogram empty in the record, as the
// load generator may have written it.
func encodeOrEmpty(h *hdrhistogram.Histogram) (Histogram, error) {
	if h == nil || h.TotalCount() == 0 {
		return Histogram{}, nil
	}
	return EncodeHistogram(h)
}
