package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestJudgeLoadApplied: a run that did not apply its load, or was
// interrupted, is not judged whatever its thresholds say; the cause is the
// reason.
func TestJudgeLoadApplied(t *testing.T) {
	open := func(edit func(s *ScenarioResult, l *Load)) *Load {
		l := loadRecord(t, 1).Load
		l.PlanThresholds = []string{"signup error_rate < 2%"} // passes
		l.MinApplied = DefaultMinApplied
		s := &l.Scenarios[0]
		s.Iterations, s.Expected, s.Failed, s.Dropped, s.Throttled = 500, 500, 7, 0, 0
		edit(s, l)
		return l
	}
	closed := func(edit func(s *ScenarioResult)) *Load {
		return open(func(s *ScenarioResult, l *Load) {
			s.Executor, s.Expected, s.Scheduled, s.Duration = "constant-vus", 0, 10*time.Second, 10*time.Second
			edit(s)
		})
	}
	cases := []struct {
		name   string
		l      *Load
		status Status
		reason string // substring
	}{
		{"open, all sent", open(func(*ScenarioResult, *Load) {}), StatusPassed, ""},
		{"open, 95% sent", open(func(s *ScenarioResult, _ *Load) { s.Iterations, s.Throttled = 475, 25 }), StatusPassed, ""},
		{"the issue's run", open(func(s *ScenarioResult, _ *Load) { s.Iterations, s.Failed, s.Expected, s.Throttled = 9, 0, 150, 141 }), StatusNotJudged,
			"load not applied: signup: the schedule called for 150 arrivals, 9 were sent (141 held back by Retry-After of 429 answers) (6% applied, min_applied 95%)"},
		{"503s held back", open(func(s *ScenarioResult, _ *Load) { s.Iterations, s.Unavailable = 400, 100 }), StatusNotJudged,
			"100 held back by Retry-After of 503 answers"},
		{"dropped and never started", open(func(s *ScenarioResult, _ *Load) { s.Iterations, s.Dropped = 300, 100 }), StatusNotJudged,
			"300 were sent (100 dropped (max_in_flight reached, or every user of the pool in use), 100 arrivals never started: the run stopped early)"},
		{"not applied and a threshold failed", open(func(s *ScenarioResult, l *Load) {
			s.Iterations, s.Throttled = 100, 400
			l.PlanThresholds = []string{"signup error_rate < 1%"}
		}), StatusNotJudged, "(also, on the load that was applied: 1 of 1 thresholds failed)"},
		{"lower bound set by the plan", open(func(s *ScenarioResult, l *Load) { s.Iterations, s.Failed, s.Throttled, l.MinApplied = 100, 0, 400, 0.2 }), StatusPassed, ""},
		{"record before v1.2: no bound", open(func(s *ScenarioResult, l *Load) { s.Iterations, s.Failed, s.Throttled, l.MinApplied = 100, 0, 400, 0 }), StatusPassed, ""},
		{"interrupted", open(func(s *ScenarioResult, l *Load) {
			s.Iterations = 100
			l.Stop, l.Aborted = StopInterrupted, "interrupted: interrupt signal received"
			l.PlanThresholds = []string{"signup error_rate < 1%"}
		}), StatusNotJudged, "interrupted: interrupt signal received (also"},
		{"interrupted, record v1.1", open(func(_ *ScenarioResult, l *Load) { l.MinApplied, l.Aborted = 0, "interrupted: context canceled" }), StatusNotJudged,
			"interrupted: context canceled"},
		{"Retry-After beyond the cap", open(func(s *ScenarioResult, l *Load) {
			s.Iterations = 3
			l.Stop, l.Aborted = StopRetryAfter, "the target asked to wait 1h0m0s"
		}), StatusNotJudged, "load not applied: the target asked to wait 1h0m0s; signup: the schedule called for 500 arrivals, 3 were sent"},
		{"sustained throttling", open(func(_ *ScenarioResult, l *Load) { l.Stop, l.Aborted = StopThrottled, "sustained throttling" }), StatusNotJudged,
			"load not applied: sustained throttling"},
		{"closed, ran its time", closed(func(*ScenarioResult) {}), StatusPassed, ""},
		{"closed, paused", closed(func(s *ScenarioResult) { s.Paused = 4 * time.Second }), StatusNotJudged,
			"signup: the VUs ran 6s of the 10s scheduled (4s held back by Retry-After) (60% applied"},
		{"closed, stopped early", closed(func(s *ScenarioResult) { s.Duration = 5 * time.Second }), StatusNotJudged, "(5s never run: the run stopped early)"},
		{"closed, iteration limit reached", closed(func(s *ScenarioResult) { s.Expected, s.Duration = 500, time.Second }), StatusPassed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := JudgeLoad(c.l)
			if v.Status != c.status || !strings.Contains(v.Reason, c.reason) || (c.reason == "") != (v.Reason == "") {
				t.Fatalf("verdict %s (%q), want %s (%q)", v.Status, v.Reason, c.status, c.reason)
			}
			if c.l.MinApplied > 0 && len(v.Applied) != 1 {
				t.Errorf("applied rows: %+v, want one", v.Applied)
			}
		})
	}
}

// The summary and the verdict keep to LineWidth columns, whatever the
// length of names, reasons and transport messages.
func TestSummaryFitsLineWidth(t *testing.T) {
	r := loadRecord(t, 1)
	l := r.Load
	long := strings.Repeat("a-very-long-scenario-name", 3)[:64]
	l.Scenarios[0].Name = long
	l.Scenarios[0].Flow = "signup-password-continue"
	l.Scenarios[0].Iterations, l.Scenarios[0].Expected, l.Scenarios[0].Throttled = 40, 150000, 110000
	l.Scenarios[0].Steps[0].Outcomes = append(l.Scenarios[0].Steps[0].Outcomes[:2],
		OutcomeCount{Transport: true, TransportClass: "refused", Count: 3,
			Example: `Post "http://127.0.0.1:1/contoso.onmicrosoft.com/signup/v1.0/start": dial tcp 127.0.0.1:1: connect: connection refused ` + strings.Repeat("x", 80)})
	l.PlanThresholds = []string{long + " signup.challenge p99 < 1us", long + " error_rate < 1%"}
	l.MinApplied = 0.95
	var out bytes.Buffer
	if err := WriteLoadSummary(&out, l, JudgeLoad(l)); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for i, line := range strings.Split(s, "\n") {
		if n := utf8.RuneCountInString(line); n > LineWidth {
			t.Errorf("line %d is %d columns: %q", i+1, n, line)
		}
		if strings.Contains(line, "\x1b") {
			t.Errorf("line %d holds an escape sequence: %q", i+1, line)
		}
	}
	for _, want := range []string{"signup.start: transport refused×3", "      e.g. Post \"http://127.0.0.1:1/", "load applied", "result: NOT JUDGED", "unavailable 0"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

func TestWrapText(t *testing.T) {
	cases := []struct {
		s, first, rest string
		width          int
		want           string
	}{
		{"fits  as is", "", "  ", 20, "fits  as is\n"},
		{"one two three four", "> ", "  ", 10, "> one two\n  three\n  four\n"},
		{"abcdefghijkl", "", "", 5, "abcde\nfghij\nkl\n"},
		{"", "x", "", 5, "x\n"},
	}
	for _, c := range cases {
		if got := wrapText(c.s, c.width, c.first, c.rest); got != c.want {
			t.Errorf("wrapText(%q, %d) = %q, want %q", c.s, c.width, got, c.want)
		}
	}
}

// A load record renders as JUnit: "load applied", one case per threshold
// with "metric: want op value, got actual", and the measurement checks;
// the run's time is the record's.
func TestRenderLoadJUnit(t *testing.T) {
	r := loadRecord(t, 1)
	r.Load.MinApplied = 0.95
	r.Load.Checks = []ThresholdResult{{Expr: "integrity: no histogram values lost", Actual: "2 dropped by merge, 0 refused"}}
	doc := renderJUnitDoc(t, r)
	if len(doc.Suites) != 1 {
		t.Fatalf("suites: %+v", doc)
	}
	run := doc.Suites[0]
	if doc.Tests != 4 || doc.Failures != 2 || doc.Errors != 0 || run.Time != "10.000" || doc.Time != "10.000" {
		t.Fatalf("counts: tests %d failures %d errors %d time %s/%s", doc.Tests, doc.Failures, doc.Errors, doc.Time, run.Time)
	}
	names := []string{"load applied", "signup signup.start p99 < 5ms", "signup error_rate < 1%", "measurement checks"}
	for i, c := range run.Cases {
		if c.Name != names[i] {
			t.Errorf("case %d: %q, want %q", i, c.Name, names[i])
		}
	}
	if c := run.Cases[0]; c.Error != nil || c.Failure != nil || c.Time != "10.000" || !strings.Contains(c.SystemOut, "PASS  signup load applied >= 95%") {
		t.Errorf("load applied: %+v", c)
	}
	if c := run.Cases[1]; c.Failure != nil {
		t.Errorf("passed threshold: %+v", c)
	}
	if f := run.Cases[2].Failure; f == nil || f.Message != "error_rate: want < 1%, got 1.4% (7/500)" {
		t.Errorf("failed threshold: %+v", f)
	}
	if f := run.Cases[3].Failure; f == nil || f.Message != "no histogram values lost: got 2 dropped by merge, 0 refused" {
		t.Errorf("failed check: %+v", f)
	}

	r = loadRecord(t, 1)
	r.Load.MinApplied = 0.95
	r.Load.Stop, r.Load.Aborted = StopInterrupted, "interrupted: interrupt signal received"
	doc = renderJUnitDoc(t, r)
	if e := doc.Suites[0].Cases[0].Error; doc.Errors != 1 || e == nil || !strings.HasPrefix(e.Message, "could not judge: interrupted: interrupt signal received") {
		t.Errorf("interrupted: errors %d, %+v", doc.Errors, e)
	}
}

// Merge keeps transport classes apart, with an example each, and the
// counters and stops of v1.2.
func TestMergeV12Fields(t *testing.T) {
	a, b := loadRecord(t, 1), loadRecord(t, 1)
	b.RunID = "other"
	for i, r := range []*Record{a, b} {
		r.Load.MinApplied = 0.9
		s := &r.Load.Scenarios[0]
		s.Unavailable, s.Scheduled, s.Paused = int64(i+1), 10*time.Second, time.Duration(i+1)*time.Second
		st := &s.Steps[0]
		st.Outcomes[0].Count -= 2
		st.Outcomes = append(st.Outcomes, OutcomeCount{Transport: true, TransportClass: "refused", Example: "refused " + r.RunID, Count: 1},
			OutcomeCount{Transport: true, TransportClass: []string{"dns", "timeout"}[i], Example: "other " + r.RunID, Count: 1})
	}
	b.Load.Stop, b.Load.Aborted = StopInterrupted, "interrupted: interrupt signal received"
	m, err := Merge(part(t, "a.json", a), part(t, "b.json", b))
	if err != nil {
		t.Fatal(err)
	}
	s := m.Load.Scenarios[0]
	if s.Unavailable != 3 || s.Scheduled != 10*time.Second || s.Paused != 2*time.Second || m.Load.MinApplied != 0.9 || m.Load.Stop != StopInterrupted {
		t.Errorf("merged: unavailable %d scheduled %s paused %s min_applied %v stop %q", s.Unavailable, s.Scheduled, s.Paused, m.Load.MinApplied, m.Load.Stop)
	}
	got := map[string]OutcomeCount{}
	for _, o := range s.Steps[0].Outcomes {
		if o.Transport {
			got[o.TransportClass] = o
		}
	}
	if len(got) != 3 || got["refused"].Count != 2 || got["refused"].Example != "refused load-fixture-1" || got["dns"].Count != 1 || got["timeout"].Count != 1 {
		t.Errorf("transport outcomes: %+v", got)
	}
	if v := Judge(m); v.Status != StatusNotJudged || !strings.HasPrefix(v.Reason, "interrupted") {
		t.Errorf("verdict of the merge: %s %q", v.Status, v.Reason)
	}
}

// Every renderer says a run was interrupted, shows the load applied with
// its bound, and names a transport failure's class with its example.
func TestRenderersShowV12(t *testing.T) {
	r := loadRecord(t, 1)
	r.Load.MinApplied = 0.95
	r.Load.Stop, r.Load.Aborted = StopInterrupted, "interrupted: interrupt signal received"
	st := &r.Load.Scenarios[0].Steps[0]
	st.Outcomes[0].Count -= 4
	st.Outcomes = append(st.Outcomes, OutcomeCount{Transport: true, TransportClass: "refused", Example: "dial tcp 127.0.0.1:1: connect: connection refused", Count: 4})
	for name, render := range map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return RenderText(b, r) },
		"markdown": func(b *bytes.Buffer) error { return RenderMarkdown(b, r) },
		"html":     func(b *bytes.Buffer) error { return RenderHTML(b, r) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, want := range []string{"NOT JUDGED", "interrupted: interrupt signal received", "load applied &gt;= 95%", "transport error (refused)", "connect: connection refused"} {
			if name != "html" {
				want = strings.ReplaceAll(want, "&gt;", ">")
			}
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
}

// A load record that did not apply its load is never compared into
// regressions, whichever side it is on.
func TestCompareNotAppliedLoad(t *testing.T) {
	applied, short := loadRecord(t, 1), loadRecord(t, 3)
	short.Load.Stop, short.Load.Aborted = StopInterrupted, "interrupted: interrupt signal received"
	if c := Compare(applied, short); !strings.Contains(c.Problem, "the new run reached no verdict (interrupted: interrupt signal received)") || c.Regressed() {
		t.Errorf("new not applied: problem %q, regressed %v", c.Problem, c.Regressed())
	}
	if c := Compare(short, applied); !strings.Contains(c.Problem, "the previous run reached no verdict") {
		t.Errorf("previous not applied: problem %q", c.Problem)
	}
	if c := Compare(applied, loadRecord(t, 3)); c.Problem != "" || !c.Regressed() {
		t.Errorf("both applied, 3× slower: problem %q, regressed %v", c.Problem, c.Regressed())
	}
}
