package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestMerge(t *testing.T) {
	a, b := loadRecord(t, 1), loadRecord(t, 2)
	b.StartedAt = a.StartedAt.Add(-5e9)
	// The same plan, written with other spacing and key order.
	b.Load.Plan = json.RawMessage("{\n  \"scenarios\": [{\"rate\":50,\"name\":\"signup\",\"flow\":\"signup\",\"executor\":\"constant-arrival-rate\"}]}")
	a.Load.Segment, b.Load.Segment = "1/2", "2/2"
	pa, pb := part(t, "a.json", a), part(t, "b.json", b)
	m, err := Merge(pa, pb)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Load.Scenarios[0]
	if s.Iterations != 1000 || s.Failed != 14 || s.Dropped != 4 || s.Throttled != 6 || !m.StartedAt.Equal(b.StartedAt) {
		t.Fatalf("counters: %+v", s)
	}
	st := s.Steps[1]
	if st.Count != 994 || st.ResponseTime.Count != 994 || len(st.Outcomes) != 2 || st.Outcomes[1].Count != 14 {
		t.Fatalf("step: %+v", st)
	}
	// Exact: the merged histogram equals one that recorded both runs' values.
	want := hdrhistogram.New(1, 3_600_000_000, 3)
	for _, r := range []*Record{a, b} {
		h, err := DecodeHistogram(r.Load.Scenarios[0].Steps[1].ResponseTime)
		if err != nil {
			t.Fatal(err)
		}
		want.Merge(h)
	}
	got, err := DecodeHistogram(st.ResponseTime)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equals(want) || st.ResponseTime.P99 != want.ValueAtQuantile(99) {
		t.Fatal("merged histogram is not the exact union")
	}
	// The merged record lists its inputs, and is a run of its own.
	wantInputs := []MergeInput{{Source: "a.json", RunID: a.RunID, SHA256: pa.SHA256, Segment: "1/2"}, {Source: "b.json", RunID: b.RunID, SHA256: pb.SHA256, Segment: "2/2"}}
	if len(m.Load.MergedFrom) != 2 || m.Load.MergedFrom[0] != wantInputs[0] || m.Load.MergedFrom[1] != wantInputs[1] {
		t.Errorf("merged_from = %+v, want %+v", m.Load.MergedFrom, wantInputs)
	}
	if len(pa.SHA256) != 64 || pa.SHA256 == pb.SHA256 || m.RunID == "" || m.RunID == a.RunID || m.RunID == b.RunID {
		t.Errorf("digests %q %q, run IDs %q from %q and %q", pa.SHA256, pb.SHA256, m.RunID, a.RunID, b.RunID)
	}
	// The thresholds are carried as text and judged on the merged data.
	if strings.Join(m.Load.PlanThresholds, "|") != strings.Join(a.Load.PlanThresholds, "|") {
		t.Errorf("plan thresholds = %q", m.Load.PlanThresholds)
	}
	if got, want := m.Load.Thresholds, JudgeLoad(m.Load).Thresholds; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("stored thresholds %+v, judged %+v", got, want)
	}
	var buf bytes.Buffer
	if err := Write(&buf, m); err != nil {
		t.Fatalf("merged record does not write: %v", err)
	}
	back, err := Read(&buf)
	if err != nil || len(back.Load.MergedFrom) != 2 {
		t.Fatalf("merged record reads back: %v", err)
	}
}

// TestMergeRefuses: what cannot be one run is refused, with the reason.
func TestMergeRefuses(t *testing.T) {
	a := loadRecord(t, 1)
	pa := part(t, "a.json", a)
	other := func(edit func(r *Record)) Part {
		r := loadRecord(t, 1)
		r.RunID = "other-run"
		edit(r)
		return part(t, "b.json", r)
	}
	sameRun := loadRecord(t, 1) // one run, written again: other bytes
	sameRun.EndedAt = sameRun.EndedAt.Add(time.Second)
	narrow := other(func(r *Record) {
		h := hdrhistogram.New(1, 10_000, 2)
		_ = h.RecordValue(5_000)
		enc, err := EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		st := &r.Load.Scenarios[0].Steps[0]
		st.ServiceTime = enc
		st.Outcomes, st.Count = []OutcomeCount{{HTTPStatus: 200, Count: 1}}, 1
		st.ResponseTime = Histogram{}
	})
	for name, tc := range map[string]struct {
		parts []Part
		want  string
	}{
		"different plan":      {[]Part{pa, other(func(r *Record) { r.Load.Plan = json.RawMessage(`{"scenarios":[]}`) })}, "input 2 (b.json) ran a different plan than input 1 (a.json)"},
		"different threshold": {[]Part{pa, other(func(r *Record) { r.Load.PlanThresholds = []string{"dropped == 0"} })}, "different plan"},
		"different profile":   {[]Part{pa, other(func(r *Record) { r.Target.ProfileHash = "def456" })}, `profile hash: want "abc123" (input 1 (a.json)), got "def456" (input 2 (b.json))`},
		"different tool":      {[]Part{pa, other(func(r *Record) { r.Tool.Version = "v0.9.1" })}, "tool: want ciamcheck v0.9.0 (input 1 (a.json)), got ciamcheck v0.9.1 (input 2 (b.json))"},
		"same file twice":     {[]Part{pa, other(func(*Record) {}), {Source: "copy.json", SHA256: pa.SHA256, Record: pa.Record}}, "input 3 (copy.json) is input 1 (a.json) again (same sha256 " + pa.SHA256},
		"same run twice":      {[]Part{pa, part(t, "again.json", sameRun)}, "input 2 (again.json) is input 1 (a.json) again (same run ID load-fixture-1)"},
		"same segment twice": {[]Part{
			other(func(r *Record) { r.RunID, r.Load.Segment = "s1", "2/4" }),
			other(func(r *Record) { r.RunID, r.Load.Segment = "s2", "2/4" }),
		}, "input 2 (b.json) ran segment 2/4, as input 1 (b.json) did"},
		"histogram geometry": {[]Part{pa, narrow}, "geometry 1..10000 at 2 significant figures differs from 1..3600000000 at 3"},
		"conformance":        {[]Part{pa, part(t, "c.json", conformanceRecord())}, "input 2 (c.json) is not a load record"},
		"none":               {nil, "no records"},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := Merge(tc.parts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error saying %q, got %v", tc.want, err)
			}
			if m != nil {
				t.Error("a refused merge returned a record")
			}
		})
	}
}

// TestMergeKeepsChecksAndAborts: each input's measurement checks and abort
// reason reach the merged record, saying which input they came from, and
// fail its verdict.
func TestMergeKeepsChecksAndAborts(t *testing.T) {
	a, b := loadRecord(t, 1), loadRecord(t, 2)
	a.Load.Checks = []ThresholdResult{{Expr: "integrity: no histogram values lost", Actual: "2 dropped by merge, 0 refused"}}
	b.Load.Aborted = "sustained throttling"
	m, err := Merge(part(t, "a.json", a), part(t, "b.json", b))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Load.Checks) != 1 || m.Load.Checks[0].Expr != "input 1 (a.json): integrity: no histogram values lost" || m.Load.Checks[0].Passed {
		t.Errorf("checks = %+v", m.Load.Checks)
	}
	if m.Load.Aborted != "input 2 (b.json): sustained throttling" {
		t.Errorf("aborted = %q", m.Load.Aborted)
	}
	if v := Judge(m); v.Status != StatusFailed || !strings.Contains(v.Reason, "aborted") || !strings.Contains(v.Reason, "1 measurement checks failed") {
		t.Errorf("verdict = %+v", v)
	}
}

// TestMergeIntervals: timelines of two workers, one started 300ms after the
// other, merge into one-second buckets by wall clock: counts and rates
// summed, Max exact, percentiles the upper bound and marked merged.
func TestMergeIntervals(t *testing.T) {
	a, b := loadRecord(t, 1), loadRecord(t, 2)
	b.Load.Scenarios[0].Intervals = intervals(t0.Add(300*time.Millisecond), 10, 2)
	a.Load.Segment, b.Load.Segment = "1/2", "2/2"
	m, err := Merge(part(t, "a.json", a), part(t, "b.json", b))
	if err != nil {
		t.Fatal(err)
	}
	got := m.Load.Scenarios[0].Intervals
	if len(got) != 10 {
		t.Fatalf("merged intervals: want 10, got %d", len(got))
	}
	var iters int64
	for i, iv := range got {
		iters += iv.Iterations
		if want := t0.Add(time.Duration(i) * time.Second); !iv.Start.Equal(want) || iv.Span != time.Second {
			t.Errorf("intervals[%d]: want start %v span 1s, got %v %v", i, want, iv.Start, iv.Span)
		}
		if iv.Merged != 2 {
			t.Errorf("intervals[%d] merged: want 2, got %d", i, iv.Merged)
		}
		if iv.TargetRate != 100 {
			t.Errorf("intervals[%d] target rate: want 100/s (two workers at 50/s), got %v", i, iv.TargetRate)
		}
	}
	if iters != 2*(9*50+43) {
		t.Errorf("iterations over merged intervals: want %d, got %d", 2*(9*50+43), iters)
	}
	mid := got[5]
	if mid.Failed != 14 || mid.Dropped != 4 || mid.Throttled != 6 {
		t.Errorf("slow interval counters: want failed 14, dropped 4, throttled 6, got %d, %d, %d", mid.Failed, mid.Dropped, mid.Throttled)
	}
	if fl := mid.Steps[0]; fl.Step != FlowStep || fl.P99 != 13400*2*3 || fl.Max != 13500*2*3 || fl.Count != 86 {
		t.Errorf("slow interval flow: want p99 %d max %d count 86, got %+v", 13400*2*3, 13500*2*3, fl)
	}
	// A record without a timeline leaves the merged run without one: the
	// others' would understate its rates.
	b.Load.Scenarios[0].Intervals = nil
	if m, err := Merge(part(t, "a.json", a), part(t, "b.json", b)); err != nil || len(m.Load.Scenarios[0].Intervals) != 0 {
		t.Errorf("merged with an untimed record: want no timeline, got %d intervals (%v)", len(m.Load.Scenarios[0].Intervals), err)
	}
	// One record alone keeps its timeline as written (a lone segment of a
	// split plan merges only when partial merges are allowed).
	one, err := MergeWith(MergeOptions{AllowPartial: true}, part(t, "a.json", a))
	if err != nil {
		t.Fatal(err)
	}
	if g := one.Load.Scenarios[0].Intervals; len(g) != 10 || g[3].Merged != 0 || g[3].Steps[1].P50 != 2600 {
		t.Errorf("single record's intervals changed: %+v", g[3])
	}
}
