package reports

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestJudge(t *testing.T) {
	withLoad := func(edit func(l *Load)) *Record {
		r := loadRecord(t, 1)
		edit(r.Load)
		return r
	}
	passing := conformanceRecord()
	passing.Conformance.Entries = passing.Conformance.Entries[:1]
	cases := []struct {
		name   string
		r      *Record
		status Status
		reason string
	}{
		{"conformance with a failed entry", conformanceRecord(), StatusFailed, "1 of 3 catalog entries failed"},
		{"conformance passed", passing, StatusPassed, ""},
		{"load, one threshold fails", loadRecord(t, 1), StatusFailed, "1 of 2 thresholds failed"},
		{"load, thresholds pass", withLoad(func(l *Load) { l.PlanThresholds = []string{"signup error_rate < 2%", "dropped <= 2"} }), StatusPassed, ""},
		{"load without thresholds", withLoad(func(l *Load) { l.PlanThresholds = nil }), StatusPassed, ""},
		{"aborted", withLoad(func(l *Load) { l.PlanThresholds, l.Aborted = nil, "sustained throttling" }), StatusFailed, "aborted: sustained throttling"},
		{"failed check", withLoad(func(l *Load) {
			l.PlanThresholds, l.Checks = nil, []ThresholdResult{{Expr: "integrity: every flow returned after cancellation", Actual: "1 flows still running"}}
		}), StatusFailed, "1 measurement checks failed"},
		{"passed check", withLoad(func(l *Load) {
			l.PlanThresholds, l.Checks = nil, []ThresholdResult{{Expr: "integrity: values above 60s are clamped to 60s (warning)", Actual: "3 clamped", Passed: true}}
		}), StatusPassed, ""},
		{"threshold of a newer version", withLoad(func(l *Load) { l.PlanThresholds = []string{"signup p99.99x < 1s", "dropped <= 2"} }), StatusNotJudged, "this ciamcheck cannot evaluate the thresholds signup p99.99x < 1s"},
		{"unreadable threshold beside a failing one", withLoad(func(l *Load) { l.PlanThresholds = []string{"apdex > 0.9", "dropped == 0"} }), StatusFailed, "1 of 2 thresholds failed"},
		{"nil", nil, StatusNotJudged, "no record"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Judge(c.r)
			if v.Status != c.status || v.Reason != c.reason {
				t.Fatalf("verdict %s (%q), want %s (%q)", v.Status, v.Reason, c.status, c.reason)
			}
			if v.Status.ExitCode() != int(c.status) || v.Passed() != (c.status == StatusPassed) {
				t.Errorf("exit code %d, passed %v", v.Status.ExitCode(), v.Passed())
			}
		})
	}
}

// A record of schema v1.0 stored its thresholds only as results, with the
// measurement checks among them: they are judged again from their text,
// not taken on trust, and the checks stay checks.
func TestJudgeLegacyRecord(t *testing.T) {
	r := loadRecord(t, 1)
	r.Schema = "ciamcheck.run/v1"
	r.Load.PlanThresholds = nil
	r.Load.Thresholds = []ThresholdResult{
		{Expr: "signup error_rate < 1%", Actual: "0%", Passed: true}, // not what the data says
		{Expr: "integrity: values above 60s are clamped to 60s (warning)", Actual: "1 clamped", Passed: true},
	}
	v := Judge(r)
	if v.Status != StatusFailed || len(v.Thresholds) != 1 || v.Thresholds[0].Passed || v.Thresholds[0].Actual != "1.4% (7/500)" {
		t.Fatalf("verdict %+v", v)
	}
	if len(v.Checks) != 1 || !strings.HasPrefix(v.Checks[0].Expr, "integrity:") {
		t.Errorf("checks %+v", v.Checks)
	}
}

// worker is a load record of one worker's share: n iterations of one step
// over 10 s, n-slow of them at 2 ms and slow at 900 ms.
func worker(t *testing.T, id string, n, slow int64) *Record {
	t.Helper()
	h := hdrhistogram.New(1, 60_000_000, 3)
	if err := h.RecordValues(2_000, n-slow); err != nil {
		t.Fatal(err)
	}
	if err := h.RecordValues(900_000, slow); err != nil {
		t.Fatal(err)
	}
	enc, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	r := loadRecord(t, 1)
	r.RunID = id
	r.Load.Scenarios = []ScenarioResult{{Name: "signin", Flow: "signin", Executor: "constant-arrival-rate", Iterations: n, Duration: 10 * time.Second,
		Steps: []StepStats{{Step: "token", Count: n, Outcomes: []OutcomeCount{{HTTPStatus: 200, Count: n}}, ServiceTime: enc, ResponseTime: enc}}}}
	r.Load.PlanThresholds = []string{
		"signin token p99 < 100ms", // fails on a worker with 1% slow, passes when the others dilute it
		"iterations <= 250",        // passes per worker, fails on the whole run
		"rate >= 35/s",             // fails per worker, passes on the whole run
	}
	r.Load.Thresholds = JudgeLoad(r.Load).Thresholds
	return r
}

// TestMergedThresholds: the thresholds of a merged record are judged on the
// merged data, which may pass where a worker failed and fail where every
// worker passed.
func TestMergedThresholds(t *testing.T) {
	a, b := worker(t, "w1", 200, 3), worker(t, "w2", 200, 0)
	for _, w := range []*Record{a, b} {
		v := Judge(w)
		got := []bool{v.Thresholds[0].Passed, v.Thresholds[1].Passed, v.Thresholds[2].Passed}
		want := []bool{w == b, true, false}
		if got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("worker %s: %+v", w.RunID, v.Thresholds)
		}
	}
	m, err := Merge(part(t, "w1.json", a), part(t, "w2.json", b))
	if err != nil {
		t.Fatal(err)
	}
	v := Judge(m)
	for i, want := range []struct {
		passed bool
		actual string
	}{{true, "2ms"}, {false, "400"}, {true, "40/s"}} {
		if got := v.Thresholds[i]; got.Passed != want.passed || got.Actual != want.actual {
			t.Errorf("merged %s: passed %v actual %s, want %v %s", got.Expr, got.Passed, got.Actual, want.passed, want.actual)
		}
	}
	if v.Status != StatusFailed || v.Reason != "1 of 3 thresholds failed" {
		t.Errorf("merged verdict %s (%s)", v.Status, v.Reason)
	}
	// The merged record, written and read back, gives the same verdict.
	var buf bytes.Buffer
	if err := Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var w1, w2 bytes.Buffer
	if err := WriteVerdict(&w1, v); err != nil {
		t.Fatal(err)
	}
	if err := WriteVerdict(&w2, Judge(back)); err != nil {
		t.Fatal(err)
	}
	if w1.String() != w2.String() || !strings.Contains(w1.String(), "FAIL  iterations <= 250  (actual 400)") {
		t.Errorf("verdict of the merged record:\n%s\nafter reading it back:\n%s", w1.String(), w2.String())
	}
}

// TestCouldNotJudge: a run that reached no verdict says so in every
// renderer and is never judged failed or counted as regressions, whatever
// its entries say (a run cut short records failures it never judged).
func TestCouldNotJudge(t *testing.T) {
	for _, interrupted := range []bool{false, true} {
		r := conformanceRecord()
		r.CouldNotJudge = &CouldNotJudge{Cause: "target unreachable: connection refused", Interrupted: interrupted}
		want := "could not run: target unreachable: connection refused"
		if interrupted {
			want = "interrupted: target unreachable: connection refused"
		}
		if v := Judge(r); v.Status != StatusNotJudged || v.Reason != want || v.Status.ExitCode() != 2 {
			t.Fatalf("verdict %+v, want not judged: %s", v, want)
		}
		for name, render := range map[string]func(io.Writer, *Record) error{
			"text": RenderText, "markdown": RenderMarkdown, "html": RenderHTML, "junit": RenderJUnit,
		} {
			var b bytes.Buffer
			if err := render(&b, r); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s report lacks %q", name, want)
			}
		}
		var b bytes.Buffer
		if err := RenderJUnit(&b, r); err != nil || !strings.Contains(b.String(), `tests="1" failures="0" errors="1"`) || strings.Contains(b.String(), "<failure") {
			t.Errorf("junit of a run that could not judge: one error, no failures; got %v\n%s", err, b.String())
		}
		passed := conformanceRecord()
		for _, c := range []Comparison{Compare(passed, r), Compare(r, passed)} {
			if c.Problem == "" || c.Regressed() {
				t.Errorf("comparison with a run that could not judge: problem %q, regressed %v; want a problem, no regression", c.Problem, c.Regressed())
			}
		}
	}
}

// A load run whose every iteration failed is no pass, thresholds or none.
func TestJudgeLoadEveryIterationFailed(t *testing.T) {
	l := &Load{Scenarios: []ScenarioResult{{Name: "signin", Iterations: 10, Failed: 10}, {Name: "signup", Iterations: 10, Failed: 3}}}
	v := JudgeLoad(l)
	if v.Status != StatusFailed || !strings.Contains(v.Reason, "1 measurement checks failed") {
		t.Fatalf("verdict %+v, want failed on the measurement check", v)
	}
	if len(v.Checks) != 1 || v.Checks[0].Expr != "signin: some iteration succeeds" || v.Checks[0].Actual != "every iteration failed (10 of 10)" {
		t.Errorf("checks %+v", v.Checks)
	}
	l.Scenarios[0].Failed = 9
	if v := JudgeLoad(l); v.Status != StatusPassed {
		t.Errorf("one success among ten: %+v, want passed", v)
	}
}
