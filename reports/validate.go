package reports

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// NewRecord starts a record of kind for tool against target, with the schema
// set, a new random run ID, StartedAt now (UTC) and an empty Conformance or
// Load body to fill. Set EndedAt when the run ends.
func NewRecord(kind Kind, tool Tool, target Target) *Record {
	r := &Record{
		Schema:    SchemaVersion,
		Kind:      kind,
		RunID:     rand.Text(),
		Tool:      tool,
		Target:    target,
		StartedAt: time.Now().UTC(),
	}
	switch kind {
	case KindConformance:
		r.Conformance = &Conformance{Entries: []EntryResult{}}
	case KindLoad:
		r.Load = &Load{Scenarios: []ScenarioResult{}}
	}
	return r
}

// Validate checks what every reader relies on:
//   - the schema is of this package's major version, the kind is known and
//     exactly the matching body (conformance or load) is present;
//   - tool name and start time are set and the run does not end before it
//     starts;
//   - conformance: every entry has a unique ID, an outcome from the enum, a
//     reason when failed or skipped, and no negative duration;
//   - load: the plan, if any, is JSON; scenario names are unique and steps
//     unique within a scenario; counters are not negative, failed does not
//     exceed iterations; a step's outcome counts sum to its count; each
//     histogram decodes, holds the count it claims, and counts no more than
//     its step ran; intervals have no negative span, count or rate, and
//     their percentiles are ordered (p50 ≤ p90 ≤ p99 ≤ max).
//
// All problems are reported, joined.
func Validate(r *Record) error {
	if r == nil {
		return errors.New("nil record")
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := checkSchema(r.Schema); err != nil {
		errs = append(errs, err)
	}
	switch r.Kind {
	case KindConformance:
		if r.Conformance == nil {
			bad("conformance record has no conformance member")
		}
		if r.Load != nil {
			bad("conformance record has a load member")
		}
	case KindLoad:
		if r.Load == nil {
			bad("load record has no load member")
		}
		if r.Conformance != nil {
			bad("load record has a conformance member")
		}
	default:
		bad("kind %q is neither %q nor %q", r.Kind, KindConformance, KindLoad)
	}
	if r.Tool.Name == "" {
		bad("tool.name is empty")
	}
	if r.StartedAt.IsZero() {
		bad("started_at is not set")
	}
	if !r.EndedAt.IsZero() && r.EndedAt.Before(r.StartedAt) {
		bad("ended_at %s is before started_at %s", r.EndedAt.Format(time.RFC3339), r.StartedAt.Format(time.RFC3339))
	}
	if r.Conformance != nil {
		validateConformance(r.Conformance, bad)
	}
	if r.Load != nil {
		validateLoad(r.Load, bad)
	}
	return errors.Join(errs...)
}

func validateConformance(c *Conformance, bad func(string, ...any)) {
	seen := make(map[string]bool, len(c.Entries))
	for i, e := range c.Entries {
		if e.ID == "" {
			bad("entries[%d]: empty id", i)
		} else if seen[e.ID] {
			bad("entries[%d]: duplicate id %q", i, e.ID)
		}
		seen[e.ID] = true
		switch e.Outcome {
		case OutcomePassed:
		case OutcomeFailed, OutcomeSkipped:
			if e.Reason == "" {
				bad("entries[%d] %q: %s without a reason", i, e.ID, e.Outcome)
			}
		default:
			bad("entries[%d] %q: outcome %q is not passed, failed or skipped", i, e.ID, e.Outcome)
		}
		if e.Duration < 0 {
			bad("entries[%d] %q: negative duration", i, e.ID)
		}
	}
}

func validateLoad(l *Load, bad func(string, ...any)) {
	if len(l.Plan) > 0 && !json.Valid(l.Plan) {
		bad("plan is not JSON")
	}
	for i, in := range l.MergedFrom {
		if in.Source == "" {
			bad("merged_from[%d]: empty source", i)
		}
		if b, err := hex.DecodeString(in.SHA256); err != nil || len(b) != sha256.Size || strings.ToLower(in.SHA256) != in.SHA256 {
			bad("merged_from[%d] %q: sha256 %q is not 64 lowercase hex digits", i, in.Source, in.SHA256)
		}
	}
	if !(l.MinApplied >= 0 && l.MinApplied <= 1) {
		bad("min_applied %v: want a share in [0, 1]", l.MinApplied)
	}
	names := make(map[string]bool, len(l.Scenarios))
	for i, s := range l.Scenarios {
		where := fmt.Sprintf("scenarios[%d] %q", i, s.Name)
		if s.Name == "" {
			bad("scenarios[%d]: empty name", i)
		} else if names[s.Name] {
			bad("%s: duplicate name", where)
		}
		names[s.Name] = true
		if s.Iterations < 0 || s.Expected < 0 || s.Failed < 0 || s.Dropped < 0 || s.Throttled < 0 || s.Unavailable < 0 ||
			s.Duration < 0 || s.Scheduled < 0 || s.Paused < 0 {
			bad("%s: negative counter or duration", where)
		}
		if s.Failed > s.Iterations {
			bad("%s: %d failed of %d iterations", where, s.Failed, s.Iterations)
		}
		if s.FlowStats != nil {
			validateStep(where+" flow_stats", *s.FlowStats, bad)
		}
		steps := make(map[string]bool, len(s.Steps))
		for j, st := range s.Steps {
			w := fmt.Sprintf("%s steps[%d] %q", where, j, st.Step)
			if st.Step == "" {
				bad("%s: empty step name", w)
			} else if steps[st.Step] {
				bad("%s: duplicate step", w)
			}
			steps[st.Step] = true
			validateStep(w, st, bad)
		}
		for j, iv := range s.Intervals {
			validateInterval(fmt.Sprintf("%s intervals[%d]", where, j), iv, bad)
		}
	}
}

func validateInterval(where string, iv Interval, bad func(string, ...any)) {
	if iv.Span < 0 || iv.Iterations < 0 || iv.Failed < 0 || iv.Dropped < 0 || iv.Throttled < 0 || iv.Unavailable < 0 || iv.Merged < 0 {
		bad("%s: negative span or counter", where)
	}
	if !(iv.TargetRate >= 0) || math.IsInf(iv.TargetRate, 0) {
		bad("%s: target rate %v: want a finite number ≥ 0", where, iv.TargetRate)
	}
	for k, st := range iv.Steps {
		if st.Count < 0 || st.Errors < 0 || st.Throttled < 0 {
			bad("%s steps[%d] %q: negative counter", where, k, st.Step)
		}
		if st.P50 < 0 || st.P50 > st.P90 || st.P90 > st.P99 || st.P99 > st.Max {
			bad("%s steps[%d] %q: percentiles out of order (p50 %d, p90 %d, p99 %d, max %d µs)", where, k, st.Step, st.P50, st.P90, st.P99, st.Max)
		}
	}
}

func validateStep(where string, st StepStats, bad func(string, ...any)) {
	if st.Count < 0 {
		bad("%s: negative count", where)
	}
	var sum int64
	for _, o := range st.Outcomes {
		if o.Count < 0 {
			bad("%s: negative outcome count", where)
		}
		sum += o.Count
	}
	if sum != st.Count {
		bad("%s: outcomes sum to %d, count is %d", where, sum, st.Count)
	}
	for _, nh := range []struct {
		name string
		h    Histogram
	}{{"service_time", st.ServiceTime}, {"response_time", st.ResponseTime}} {
		name, h := nh.name, nh.h
		if h.Count > st.Count {
			bad("%s %s: %d values for %d runs", where, name, h.Count, st.Count)
		}
		if _, err := DecodeHistogram(h); err != nil {
			bad("%s %s: %v", where, name, err)
		}
	}
}
