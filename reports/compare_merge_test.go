package reports

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestCompareConformance(t *testing.T) {
	old := conformanceRecord()
	old.Conformance.Entries = append(old.Conformance.Entries,
		EntryResult{ID: "gone", Outcome: OutcomePassed},
		EntryResult{ID: "was.failing", Outcome: OutcomeFailed, Reason: "x"},
		EntryResult{ID: "was.skipped", Outcome: OutcomeSkipped, Reason: "y"})
	nw := conformanceRecord()
	nw.Conformance.Entries[0].Outcome, nw.Conformance.Entries[0].Reason = OutcomeFailed, "status: want 200, got 400"
	nw.Conformance.Entries[1].Outcome = OutcomeSkipped
	nw.Conformance.Entries = append(nw.Conformance.Entries,
		EntryResult{ID: "new", Outcome: OutcomePassed},
		EntryResult{ID: "was.failing", Outcome: OutcomePassed},
		EntryResult{ID: "was.skipped", Outcome: OutcomePassed})
	c := Compare(old, nw)
	ids := func(l []EntryChange) string {
		var s []string
		for _, e := range l {
			s = append(s, e.ID)
		}
		return strings.Join(s, ",")
	}
	for name, tc := range map[string]struct{ got, want string }{
		"regressions":       {ids(c.Regressions), "signup.start.ok"},
		"fixed":             {ids(c.Fixed), "was.failing"},
		"newly skipped":     {ids(c.NewlySkipped), "signup.start.error.user_already_exists"},
		"no longer skipped": {ids(c.NoLongerSkipped), "was.skipped"},
		"added":             {ids(c.Added), "new"},
		"removed":           {ids(c.Removed), "gone"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", name, tc.got, tc.want)
		}
	}
	if !c.Regressed() {
		t.Error("Regressed() = false")
	}
	if Compare(old, old).Regressed() {
		t.Error("a record regressed against itself")
	}
	var buf bytes.Buffer
	if err := RenderComparisonMarkdown(&buf, c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "**REGRESSED**") || !strings.Contains(buf.String(), "| `signup.start.ok` | passed | failed | status: want 200, got 400 |") {
		t.Errorf("markdown comparison:\n%s", buf.String())
	}
	if c := Compare(old, loadRecord(t, 1)); c.Problem == "" {
		t.Error("comparing a conformance with a load record should be a problem")
	}
}

func TestCompareLoad(t *testing.T) {
	base := loadRecord(t, 1)
	tests := []struct {
		name      string
		new       *Record
		tol       Tolerance
		regressed bool
		want      string
	}{
		{"same run", loadRecord(t, 1), DefaultTolerance, false, ""},
		{"twice as slow", loadRecord(t, 2), DefaultTolerance, true, "p50 "},
		{"twice as slow, tolerance 150%", loadRecord(t, 2), Tolerance{Latency: 1.5, ErrorRate: 0.01}, false, ""},
		{"more errors", func() *Record {
			r := loadRecord(t, 1)
			o := r.Load.Scenarios[0].Steps[0].Outcomes
			o[0].Count, o[2].Count = 470, 20 // o[1] is the expected answer
			return r
		}(), DefaultTolerance, true, "error rate 0.60% → 4.00%"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := CompareWithTolerance(base, tc.new, tc.tol)
			if c.Problem != "" {
				t.Fatal(c.Problem)
			}
			if c.Regressed() != tc.regressed {
				t.Fatalf("Regressed() = %v, steps %+v", c.Regressed(), c.Steps)
			}
			var buf bytes.Buffer
			if err := RenderComparisonText(&buf, c); err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && !strings.Contains(buf.String(), tc.want) {
				t.Fatalf("comparison lacks %q:\n%s", tc.want, buf.String())
			}
		})
	}
}

// TestCompareLoadFewSamples: with few values a p99 is the slowest sample,
// so it is reported as not judged rather than flagged.
func TestCompareLoadFewSamples(t *testing.T) {
	few := func(slowest int64) *Record {
		r := loadRecord(t, 1)
		s := &r.Load.Scenarios[0]
		s.FlowStats = nil
		s.Steps = s.Steps[:1]
		st := &s.Steps[0]
		st.Count, st.Outcomes = 30, []OutcomeCount{{HTTPStatus: 200, Count: 30}}
		values := []int64{slowest}
		for i := int64(0); i < 29; i++ {
			values = append(values, 2000+10*i)
		}
		st.ServiceTime = encoded(t, values...)
		st.ResponseTime = st.ServiceTime
		return r
	}
	old, cur := few(5000), few(50_000) // one slow outlier
	c := Compare(old, cur)
	if c.Regressed() {
		t.Fatalf("an outlier in 30 values regressed: %+v", c.Steps)
	}
	if len(c.Steps) != 1 || len(c.Steps[0].Unjudged) != 1 || c.Steps[0].Unjudged[0] != "p99 not judged: 30 and 30 values are too few to bracket it" {
		t.Fatalf("unjudged: %+v", c.Steps)
	}
	var buf bytes.Buffer
	if err := RenderComparisonText(&buf, c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"no regression", "p99 not judged", "at 99% confidence"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("comparison lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestOutcomeFailure(t *testing.T) {
	cases := []struct {
		o    OutcomeCount
		want bool
	}{
		{OutcomeCount{HTTPStatus: 200}, false},
		{OutcomeCount{HTTPStatus: 400, Error: "invalid_grant", Suberror: "invalid_oob_value"}, true},
		{OutcomeCount{HTTPStatus: 429}, true},
		{OutcomeCount{HTTPStatus: 500}, true},
		{OutcomeCount{Transport: true}, true},
		{OutcomeCount{HTTPStatus: 200, Redirect: true}, true},
		// A 200 the flow could not use (synthetic label) is a failure.
		{OutcomeCount{HTTPStatus: 200, Error: "ciamcheck:unexpected"}, true},
		// A documented turn the flow asked for is not.
		{OutcomeCount{HTTPStatus: 400, Error: "credential_required", Expected: true}, false},
	}
	for _, c := range cases {
		if got := c.o.Failure(); got != c.want {
			t.Errorf("%+v.Failure() = %v, want %v", c.o, got, c.want)
		}
	}
}

// An expected answer is listed in a step's outcomes but counted neither in
// its errors nor in the error rate Compare judges; merging keeps expected
// and failed outcomes of the same status and error apart.
func TestExpectedOutcomesAreNotErrors(t *testing.T) {
	r := loadRecord(t, 1)
	v, err := buildView(r)
	if err != nil {
		t.Fatal(err)
	}
	var st stepView
	for _, s := range v.Load.Scenarios[0].Steps {
		if s.Step == "signup.start" {
			st = s
		}
	}
	if st.Step != "signup.start" || st.Errors != 3 {
		t.Fatalf("%s errors = %d, want 3 (the 429s, not the 10 expected)", st.Step, st.Errors)
	}
	var labels []string
	for _, o := range st.Outcomes {
		labels = append(labels, o.StatusLabel())
	}
	if !slices.Contains(labels, "400 (expected)") || !slices.Contains(labels, "429") {
		t.Errorf("outcomes %v, want the expected 400 and the 429", labels)
	}
	if n := failures(r.Load.Scenarios[0].Steps[0]); n != 3 {
		t.Errorf("failures %d, want 3 (the 429s, not the expected 400s)", n)
	}

	a, b := loadRecord(t, 1), loadRecord(t, 1)
	b.RunID = "another-run"
	b.Load.Scenarios[0].Steps[0].Outcomes = []OutcomeCount{{HTTPStatus: 200, Count: 487}, {HTTPStatus: 400, Error: "attributes_required", Count: 10}, {HTTPStatus: 429, Count: 3}}
	m, err := Merge(part(t, "a.json", a), part(t, "b.json", b))
	if err != nil {
		t.Fatal(err)
	}
	var expected, failed int64
	for _, o := range m.Load.Scenarios[0].Steps[0].Outcomes {
		if o.Error == "attributes_required" {
			if o.Expected {
				expected += o.Count
			} else {
				failed += o.Count
			}
		}
	}
	if expected != 10 || failed != 10 {
		t.Errorf("merged attributes_required: expected %d failed %d, want 10 and 10", expected, failed)
	}
}
