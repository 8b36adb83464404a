package reports

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Part is one record given to Merge, with where it came from.
type Part struct {
	Source string // the path given, shown in errors and listed in the merged record
	SHA256 string // lowercase hex SHA-256 of the record's bytes as read
	Record *Record
}

// ReadPart reads the record at path for Merge: as ReadFile does (a
// tampered record is refused), and with the SHA-256 of its bytes.
func ReadPart(path string) (Part, error) {
	f, err := os.Open(path)
	if err != nil {
		return Part{}, fmt.Errorf("read run record: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, MaxRecordSize+1))
	if err != nil {
		return Part{}, fmt.Errorf("read run record %s: %w", path, err)
	}
	r, err := Unmarshal(raw)
	if err != nil {
		return Part{}, fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(raw)
	return Part{Source: path, SHA256: hex.EncodeToString(sum[:]), Record: r}, nil
}

// Merge combines load records of one plan run on several machines into one
// run: histograms merged exactly (see histogramSum), counters summed, the
// run spanning the earliest start to the latest end and each scenario
// lasting its longest part. It refuses what cannot be one run: a record of
// another kind, plan, profile (hash) or tool version, and the same record
// twice (same bytes or same run ID) or one execution segment twice, and
// segments that overlap or leave some missing (see MergeWith). The merged record lists its inputs with
// their digests, carries the plan's thresholds and each input's measurement
// checks (prefixed with the input), and its thresholds are evaluated on the
// merged data: only those say whether the whole run met them. Abort reasons
// are kept, prefixed likewise. The result is unsealed; Write seals it.
func Merge(parts ...Part) (*Record, error) {
	return MergeWith(MergeOptions{}, parts...)
}

// MergeWith is Merge with options: with AllowPartial, segment records that
// leave segments missing merge, and the merged record's Load.Partial says
// which. Inputs whose execution began more than MaxStartSkew apart merge
// with a warning in Load.MergeWarnings.
func MergeWith(opts MergeOptions, parts ...Part) (*Record, error) {
	if err := checkParts(parts); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	partial, err := checkSegments(parts, opts)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	first := parts[0].Record
	out := NewRecord(KindLoad, first.Tool, first.Target)
	out.StartedAt, out.EndedAt = first.StartedAt, first.EndedAt
	out.Load.Plan = append([]byte(nil), first.Load.Plan...)
	out.Load.PlanThresholds = slices.Clone(loadOf(first).PlanThresholds)
	out.Load.MinApplied = first.Load.MinApplied
	var aborted []string
	var acc scenarioSum
	for i, p := range parts {
		r, where := p.Record, partName(i, p)
		if r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.EndedAt.After(out.EndedAt) {
			out.EndedAt = r.EndedAt
		}
		if r.Load.Aborted != "" {
			aborted = append(aborted, where+": "+r.Load.Aborted)
		}
		out.Load.Stop = graverStop(out.Load.Stop, stopOf(r.Load))
		for _, c := range loadOf(r).Checks {
			c.Expr = where + ": " + c.Expr
			out.Load.Checks = append(out.Load.Checks, c)
		}
		out.Load.MergedFrom = append(out.Load.MergedFrom, MergeInput{Source: p.Source, RunID: r.RunID, SHA256: p.SHA256, Segment: r.Load.Segment})
		for _, s := range r.Load.Scenarios {
			if err := acc.add(s); err != nil {
				return nil, fmt.Errorf("merge: %s: %w", where, err)
			}
		}
	}
	scs, err := acc.results()
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	out.Load.Scenarios = scs
	out.Load.Aborted = strings.Join(aborted, "; ")
	out.Load.Partial = partial
	if w := startSkewWarning(parts); w != "" {
		out.Load.MergeWarnings = append(out.Load.MergeWarnings, w)
	}
	out.Load.Thresholds = JudgeLoad(out.Load).Thresholds
	if err := Validate(out); err != nil {
		return nil, fmt.Errorf("merge: merged record is invalid: %w", err)
	}
	return out, nil
}

// graverStop is the stop of a merged run whose parts stopped as a and b:
// one interrupted part leaves the whole run interrupted; a part that could
// not apply its load leaves the run not applied; a part aborted for
// another reason (before v1.2) fails it, as Judge of that part does.
func graverStop(a, b StopKind) StopKind {
	rank := func(k StopKind) int {
		switch k {
		case "":
			return 0
		case StopInterrupted:
			return 4
		case StopRetryAfter:
			return 3
		case StopThrottled:
			return 2
		}
		return 1
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func partName(i int, p Part) string {
	if p.Source == "" {
		return fmt.Sprintf("input %d", i+1)
	}
	return fmt.Sprintf("input %d (%s)", i+1, p.Source)
}

// loadOf is r's load member as this version reads it (see legacyLoad).
func loadOf(r *Record) *Load {
	if schemaMinor(r.Schema) == 0 {
		return legacyLoad(r.Load)
	}
	return r.Load
}

// checkParts refuses parts that cannot be one run.
func checkParts(parts []Part) error {
	if len(parts) == 0 {
		return errors.New("no records")
	}
	for i, p := range parts {
		r := p.Record
		if r == nil || r.Kind != KindLoad || r.Load == nil {
			return fmt.Errorf("%s is not a load record", partName(i, p))
		}
		if err := Validate(r); err != nil {
			return fmt.Errorf("%s: %w", partName(i, p), err)
		}
	}
	first, name1 := parts[0].Record, partName(0, parts[0])
	plan, err := canonicalAny(first.Load.Plan)
	if err != nil {
		return fmt.Errorf("%s plan: %w", name1, err)
	}
	for i, p := range parts[1:] {
		r, name := p.Record, partName(i+1, p)
		q, err := canonicalAny(r.Load.Plan)
		switch {
		case err != nil:
			return fmt.Errorf("%s plan: %w", name, err)
		case !bytes.Equal(q, plan) || !slices.Equal(loadOf(r).PlanThresholds, loadOf(first).PlanThresholds):
			return fmt.Errorf("%s ran a different plan than %s", name, name1)
		case r.Target.ProfileHash != first.Target.ProfileHash:
			return fmt.Errorf("profile hash: want %q (%s), got %q (%s): the records ran against different target profiles", first.Target.ProfileHash, name1, r.Target.ProfileHash, name)
		case r.Tool.Name != first.Tool.Name || r.Tool.Version != first.Tool.Version:
			return fmt.Errorf("tool: want %s %s (%s), got %s %s (%s): records of different versions may measure differently", first.Tool.Name, first.Tool.Version, name1, r.Tool.Name, r.Tool.Version, name)
		}
	}
	for i, p := range parts {
		for j, q := range parts[:i] {
			switch {
			case p.SHA256 != "" && p.SHA256 == q.SHA256:
				return fmt.Errorf("%s is %s again (same sha256 %s): merging it twice would count its run twice", partName(i, p), partName(j, q), p.SHA256)
			case p.Record.RunID != "" && p.Record.RunID == q.Record.RunID:
				return fmt.Errorf("%s is %s again (same run ID %s): merging it twice would count its run twice", partName(i, p), partName(j, q), p.Record.RunID)
			case p.Record.Load.Segment != "" && p.Record.Load.Segment == q.Record.Load.Segment:
				return fmt.Errorf("%s ran segment %s, as %s did: merging it twice would count its share twice", partName(i, p), p.Record.Load.Segment, partName(j, q))
			}
		}
	}
	return nil
}

// scenarioSum accumulates scenarios by name across records, in the order
// they first appear.
type scenarioSum struct {
	scenarios ordered[scenarioAcc]
}

// ordered holds values by key, in the order their keys first came.
type ordered[V any] struct {
	byKey map[string]*V
	keys  []string
}

// get is the value of key; the first time key comes, a new one made by mk,
// and true.
func (o *ordered[V]) get(key string, mk func() *V) (*V, bool) {
	if v := o.byKey[key]; v != nil {
		return v, false
	}
	if o.byKey == nil {
		o.byKey = map[string]*V{}
	}
	v := mk()
	o.byKey[key] = v
	o.keys = append(o.keys, key)
	return v, true
}

type scenarioAcc struct {
	res       ScenarioResult
	flow      *stepAcc
	steps     ordered[stepAcc]
	intervals [][]Interval // each part's timeline
	// untimed: a part had no timeline (a record before schema v1.2), so
	// a merged one would show only some workers' load.
	untimed bool
}

func (s *scenarioSum) add(sc ScenarioResult) error {
	a, added := s.scenarios.get(sc.Name, func() *scenarioAcc {
		return &scenarioAcc{res: ScenarioResult{Name: sc.Name, Flow: sc.Flow, Executor: sc.Executor}}
	})
	if !added && (a.res.Flow != sc.Flow || a.res.Executor != sc.Executor) {
		return fmt.Errorf("scenario %q runs flow %q with %q, earlier records %q with %q", sc.Name, sc.Flow, sc.Executor, a.res.Flow, a.res.Executor)
	}
	a.res.Iterations += sc.Iterations
	a.res.Expected += sc.Expected
	a.res.Failed += sc.Failed
	a.res.Dropped += sc.Dropped
	a.res.Throttled += sc.Throttled
	a.res.Unavailable += sc.Unavailable
	a.res.Duration = max(a.res.Duration, sc.Duration)
	a.res.Scheduled = max(a.res.Scheduled, sc.Scheduled)
	// The parts ran one schedule at once: the longest pause of any of
	// them is the one the merged run can vouch for.
	a.res.Paused = max(a.res.Paused, sc.Paused)
	if len(sc.Intervals) > 0 {
		a.intervals = append(a.intervals, sc.Intervals)
	} else {
		a.untimed = true
	}
	if sc.FlowStats != nil {
		if a.flow == nil {
			a.flow = &stepAcc{name: sc.FlowStats.Step}
		}
		if err := a.flow.add(*sc.FlowStats); err != nil {
			return fmt.Errorf("scenario %q flow: %w", sc.Name, err)
		}
	}
	for _, st := range sc.Steps {
		sa, _ := a.steps.get(st.Step, func() *stepAcc { return &stepAcc{name: st.Step} })
		if err := sa.add(st); err != nil {
			return fmt.Errorf("scenario %q step %q: %w", sc.Name, st.Step, err)
		}
	}
	return nil
}

func (s *scenarioSum) results() ([]ScenarioResult, error) {
	out := []ScenarioResult{}
	for _, n := range s.scenarios.keys {
		a := s.scenarios.byKey[n]
		if a.flow != nil {
			fs, err := a.flow.result()
			if err != nil {
				return nil, fmt.Errorf("scenario %q flow: %w", n, err)
			}
			a.res.FlowStats = &fs
		}
		if !a.untimed {
			a.res.Intervals = mergeIntervals(a.intervals)
		}
		a.res.Steps = []StepStats{}
		for _, sn := range a.steps.keys {
			st, err := a.steps.byKey[sn].result()
			if err != nil {
				return nil, fmt.Errorf("scenario %q step %q: %w", n, sn, err)
			}
			a.res.Steps = append(a.res.Steps, st)
		}
		out = append(out, a.res)
	}
	return out, nil
}

// stepAcc accumulates one step across records.
type stepAcc struct {
	name              string
	count             int64
	outcomes          []OutcomeCount
	service, response histogramSum
}

func (a *stepAcc) add(st StepStats) error {
	a.count += st.Count
	for _, o := range st.Outcomes {
		found := false
		for i := range a.outcomes {
			x := &a.outcomes[i]
			if x.HTTPStatus == o.HTTPStatus && x.Error == o.Error && x.Suberror == o.Suberror && x.Redirect == o.Redirect &&
				x.Transport == o.Transport && x.TransportClass == o.TransportClass && x.Expected == o.Expected {
				x.Count += o.Count
				if x.Example == "" {
					x.Example = o.Example
				}
				found = true
				break
			}
		}
		if !found {
			a.outcomes = append(a.outcomes, o)
		}
	}
	if err := a.service.add(st.ServiceTime); err != nil {
		return fmt.Errorf("service_time: %w", err)
	}
	if err := a.response.add(st.ResponseTime); err != nil {
		return fmt.Errorf("response_time: %w", err)
	}
	return nil
}

func (a *stepAcc) result() (StepStats, error) {
	st := StepStats{Step: a.name, Count: a.count, Outcomes: a.outcomes}
	if st.Outcomes == nil {
		st.Outcomes = []OutcomeCount{}
	}
	var err error
	if st.ServiceTime, err = a.service.encoded(); err != nil {
		return st, err
	}
	if st.ResponseTime, err = a.response.encoded(); err != nil {
		return st, err
	}
	return st, nil
}

// mergeIntervals merges the timelines of one scenario from several records
// by wall clock. One timeline is kept as it is. Otherwise time is cut into
// buckets as long as the longest of the parts' typical (median) intervals,
// from the earliest start; each interval goes to the bucket holding its
// midpoint. A bucket's counts are the sums of its intervals', its target
// rate and achieved rate those of the arrivals due and iterations done in
// it over its length, each step's Max the highest; its percentiles are the
// highest of its intervals' (an upper bound; see Interval.Merged), since
// the record keeps no interval histograms to merge exactly.
func mergeIntervals(parts [][]Interval) []Interval {
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	var width time.Duration
	var origin time.Time
	for _, p := range parts {
		spans := make([]time.Duration, len(p))
		for i, iv := range p {
			spans[i] = iv.Span
			if origin.IsZero() || iv.Start.Before(origin) {
				origin = iv.Start
			}
		}
		slices.Sort(spans)
		width = max(width, spans[len(spans)/2])
	}
	if width <= 0 {
		width = time.Second
	}
	type bucket struct {
		iv    Interval
		due   float64
		steps ordered[IntervalStep]
	}
	buckets := map[int64]*bucket{}
	for _, p := range parts {
		for _, iv := range p {
			mid := iv.Start.Add(iv.Span / 2).Sub(origin)
			k := int64(mid / width)
			b := buckets[k]
			if b == nil {
				b = &bucket{iv: Interval{Start: origin.Add(time.Duration(k) * width), Span: width}}
				buckets[k] = b
			}
			b.iv.Merged += max(iv.Merged, 1)
			b.due += iv.TargetRate * iv.Span.Seconds()
			b.iv.Iterations += iv.Iterations
			b.iv.Failed += iv.Failed
			b.iv.Dropped += iv.Dropped
			b.iv.Throttled += iv.Throttled
			b.iv.Unavailable += iv.Unavailable
			for _, st := range iv.Steps {
				m, _ := b.steps.get(st.Step, func() *IntervalStep { return &IntervalStep{Step: st.Step} })
				m.Count += st.Count
				m.Errors += st.Errors
				m.Throttled += st.Throttled
				m.P50, m.P90, m.P99, m.Max = max(m.P50, st.P50), max(m.P90, st.P90), max(m.P99, st.P99), max(m.Max, st.Max)
			}
		}
	}
	keys := make([]int64, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Interval, 0, len(keys))
	for _, k := range keys {
		b := buckets[k]
		b.iv.TargetRate = b.due / width.Seconds()
		b.iv.Steps = make([]IntervalStep, 0, len(b.steps.keys))
		for _, n := range b.steps.keys {
			b.iv.Steps = append(b.iv.Steps, *b.steps.byKey[n])
		}
		out = append(out, b.iv)
	}
	return out
}
