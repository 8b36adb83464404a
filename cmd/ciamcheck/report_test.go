package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ciamcheck/ciamcheck/reports"
)

var reportT0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func conformanceRun(outcome reports.Outcome) *reports.Record {
	r := reports.NewRecord(reports.KindConformance, reports.Tool{Name: "ciamcheck", Version: "test"}, reports.Target{Kind: "emulator", BaseURL: "http://127.0.0.1:1"})
	r.StartedAt, r.EndedAt = reportT0, reportT0.Add(time.Minute)
	reason := ""
	if outcome != reports.OutcomePassed {
		reason = "status: want 400, got 200"
	}
	r.Conformance.Entries = []reports.EntryResult{
		{ID: "signup.start.ok", Source: "native-auth-email-password-api.txt", Outcome: reports.OutcomePassed, Duration: time.Second,
			Evidence: []reports.Exchange{{Method: "POST", Path: "/signup/v1.0/start", Form: map[string]string{"password": "[redacted]"}, Status: 200, Body: `{"continuation_token":"[redacted]"}`}}},
		{ID: "signup.start.weak_password", Source: "signup-error-codes.txt", Outcome: outcome, Reason: reason},
		{ID: "signup.challenge.expired", Outcome: reports.OutcomeSkipped, Reason: "needs the emulator clock"},
	}
	return r
}

func loadRun(t *testing.T, latencyUS int64) *reports.Record {
	t.Helper()
	h := hdrhistogram.New(1, 3_600_000_000, 3)
	for i := int64(0); i < 200; i++ {
		if err := h.RecordValue(latencyUS + i*latencyUS/100); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := reports.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	r := reports.NewRecord(reports.KindLoad, reports.Tool{Name: "ciamcheck", Version: "test"}, reports.Target{Kind: "emulator"})
	r.StartedAt, r.EndedAt = reportT0, reportT0.Add(10*time.Second)
	r.Load.Plan = json.RawMessage(`{"scenarios":[{"name":"signin"}]}`)
	r.Load.Scenarios = []reports.ScenarioResult{{Name: "signin", Flow: "signin", Executor: "constant-vus", Iterations: 200, Duration: 10 * time.Second,
		Steps: []reports.StepStats{{Step: "signin.token", Count: 200, Outcomes: []reports.OutcomeCount{{HTTPStatus: 200, Count: 200}}, ServiceTime: enc, ResponseTime: enc}}}}
	return r
}

func writeRun(t *testing.T, name string, r *reports.Record) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := reports.WriteFile(p, r); err != nil {
		t.Fatal(err)
	}
	return p
}

// readRecord is the run record at path.
func readRecord(t *testing.T, path string) *reports.Record {
	t.Helper()
	rec, err := reports.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func runCLI(args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	root := newRootCmd()
	root.SetOut(&o)
	root.SetErr(&e)
	root.SetArgs(args)
	err = root.Execute()
	return o.String(), e.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return exitCouldNotRun
	}
	return exitPassed
}

func TestReportFormats(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	conf := writeRun(t, "conf.json", conformanceRun(reports.OutcomeFailed))
	load := writeRun(t, "load.json", loadRun(t, 1000))
	// The conformance record has a failed entry: every format renders it,
	// and report exits 1, the record's verdict.
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"report", conf}, 1, []string{"3 entries: 1 passed, 1 failed, 1 skipped", "signup.start.weak_password", "needs the emulator clock", "digest only — not evidence"}},
		{[]string{"report", conf, "--format", "markdown"}, 1, []string{"### Failed", "| `signup.start.weak_password` |"}},
		{[]string{"report", conf, "--format", "html"}, 1, []string{"<!DOCTYPE html>", "<details>"}},
		{[]string{"report", conf, "--format", "junit"}, 1, []string{`<testsuites name="ciamcheck" tests="3" failures="1" errors="0" skipped="1"`, `<skipped message="needs the emulator clock">`}},
		{[]string{"report", conf, "--format", "json"}, 1, []string{`"schema": "` + reports.SchemaVersion + `"`, `"run_id"`, `"integrity"`}},
		{[]string{"report", load}, 0, []string{"signin.token", "p99", "result: PASS"}},
		{[]string{"report", load, "--format", "junit"}, 0, []string{`<testsuite name="ciamcheck load"`, `<testcase name="load applied"`, `<testcase name="measurement checks"`}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[2:], " "), func(t *testing.T) {
			out, _, err := runCLI(tc.args...)
			if exitCode(err) != tc.code {
				t.Fatalf("exit %d (%v), want %d", exitCode(err), err, tc.code)
			}
			if tc.code == 1 && !strings.Contains(err.Error(), "FAIL (1 of 3 catalog entries failed)") {
				t.Errorf("error %q does not give the verdict", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestReportOutFile(t *testing.T) {
	conf := writeRun(t, "conf.json", conformanceRun(reports.OutcomePassed))
	out := filepath.Join(t.TempDir(), "r.html")
	stdout, _, err := runCLI("report", conf, "--format", "html", "--out", out)
	if err != nil || stdout != "" {
		t.Fatalf("err %v, stdout %q", err, stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(b, []byte("signup.start.ok")) {
		t.Fatalf("report file: %v", err)
	}
}

func TestReportBadRecords(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	dir := t.TempDir()
	good := writeRun(t, "good.json", conformanceRun(reports.OutcomeFailed))
	b, _ := os.ReadFile(good)
	tampered := filepath.Join(dir, "tampered.json")
	os.WriteFile(tampered, bytes.Replace(b, []byte(`"outcome": "failed"`), []byte(`"outcome": "passed"`), 1), 0o644)
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte("not json"), 0o644)
	v2 := filepath.Join(dir, "v2.json")
	os.WriteFile(v2, bytes.Replace(b, []byte("ciamcheck.run/v1"), []byte("ciamcheck.run/v2"), 1), 0o644)
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"tampered":                 {[]string{"report", tampered}, exitBadRecord, "tampered"},
		"garbage":                  {[]string{"report", garbage}, exitBadRecord, "not a JSON object"},
		"missing":                  {[]string{"report", filepath.Join(dir, "nope.json")}, exitBadRecord, "no such file"},
		"v2":                       {[]string{"report", v2}, exitBadRecord, "major version 2"},
		"bad format":               {[]string{"report", good, "--format", "pdf"}, exitCouldNotRun, "--format"},
		"fail-on-regression alone": {[]string{"report", good, "--fail-on-regression"}, exitCouldNotRun, "needs --compare"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := runCLI(tc.args...)
			if exitCode(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want exit %d with %q, got %d: %v", tc.code, tc.want, exitCode(err), err)
			}
		})
	}
}

func TestReportCompare(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	prev := writeRun(t, "prev.json", conformanceRun(reports.OutcomePassed))
	now := writeRun(t, "now.json", conformanceRun(reports.OutcomeFailed))
	out, _, err := runCLI("report", now, "--compare", prev, "--fail-on-regression")
	if exitCode(err) != exitRegression {
		t.Fatalf("want exit 1, got %v", err)
	}
	if !strings.Contains(out, "REGRESSED") || !strings.Contains(out, "signup.start.weak_password: passed → failed") {
		t.Fatalf("comparison missing:\n%s", out)
	}
	if _, _, err := runCLI("report", prev, "--compare", now, "--fail-on-regression"); err != nil {
		t.Fatalf("a fix is not a regression: %v", err)
	}
	// Load: twice as slow regresses, unless the tolerance allows it.
	fast := writeRun(t, "fast.json", loadRun(t, 2000))
	slow := writeRun(t, "slow.json", loadRun(t, 4000))
	if _, _, err := runCLI("report", slow, "--compare", fast, "--fail-on-regression"); exitCode(err) != exitRegression {
		t.Fatalf("slow vs fast: %v", err)
	}
	if _, _, err := runCLI("report", slow, "--compare", fast, "--fail-on-regression", "--latency-tolerance", "1.5"); err != nil {
		t.Fatalf("within tolerance: %v", err)
	}
	// An increase under --min-latency is not a regression, whatever its
	// percentage; all tolerances at zero flag any increase.
	if _, _, err := runCLI("report", slow, "--compare", fast, "--fail-on-regression", "--min-latency", "1s"); err != nil {
		t.Fatalf("under --min-latency: %v", err)
	}
	slightly := writeRun(t, "slightly.json", loadRun(t, 2100))
	if _, _, err := runCLI("report", slightly, "--compare", fast, "--fail-on-regression"); err != nil {
		t.Fatalf("+5%% within the default tolerance: %v", err)
	}
	// With every tolerance at zero any change beyond the noise regresses:
	// +5% of 200 values spread over 2 ms is within it, +50% is not.
	zero := []string{"--fail-on-regression", "--latency-tolerance", "0", "--error-tolerance", "0", "--min-latency", "0"}
	if _, _, err := runCLI(append([]string{"report", slightly, "--compare", fast}, zero...)...); err != nil {
		t.Fatalf("zero tolerances, +5%% (noise at 200 values): %v", err)
	}
	half := writeRun(t, "half.json", loadRun(t, 3000))
	if _, _, err := runCLI(append([]string{"report", half, "--compare", fast}, zero...)...); exitCode(err) != exitRegression {
		t.Fatalf("zero tolerances, +50%%: %v", err)
	}
	if _, _, err := runCLI("report", half, "--compare", fast, "--confidence", "1.5"); err == nil || !strings.Contains(err.Error(), "--confidence") {
		t.Fatalf("confidence out of range: %v", err)
	}
	if _, _, err := runCLI("report", slow, "--compare", fast, "--latency-tolerance", "-1"); err == nil || !strings.Contains(err.Error(), "--latency-tolerance") {
		t.Fatalf("negative tolerance: %v", err)
	}
	// HTML carries the comparison in the page; JUnit has no place for it.
	html, stderr, err := runCLI("report", slow, "--compare", fast, "--format", "html")
	if err != nil || stderr != "" || !strings.Contains(html, "Changes since the previous run") || !strings.Contains(html, "REGRESSED") {
		t.Fatalf("html compare: %v, stderr %q", err, stderr)
	}
	_, stderr, err = runCLI("report", now, "--compare", prev, "--format", "junit")
	if exitCode(err) != 1 || !strings.Contains(stderr, "REGRESSED") {
		t.Fatalf("junit compare: %v, stderr %q", err, stderr)
	}
	if _, _, err := runCLI("report", slow, "--compare", prev); exitCode(err) != exitBadRecord {
		t.Fatalf("load vs conformance: %v", err)
	}
}

// TestReportLoadSummary: the end-of-run summary of a load record, per
// scenario and step, with both latencies and the errors by error/suberror.
func TestReportLoadSummary(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	r := loadRun(t, 1000)
	st := &r.Load.Scenarios[0].Steps[0]
	st.Outcomes = []reports.OutcomeCount{{HTTPStatus: 200, Count: 190}, {HTTPStatus: 400, Error: "invalid_grant", Suberror: "password_too_weak", Count: 10}}
	out, _, err := runCLI("report", writeRun(t, "load.json", r))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"scenario signin (flow signin, constant-vus, 10s)", "step  count  rate/s", "p50", "p90", "p99", "p99.9", "max",
		"10 (5.00%)", "response", "service", "signin.token  400  invalid_grant  password_too_weak  × 10", "result: PASS"} {
		if !strings.Contains(out, w) {
			t.Errorf("summary lacks %q:\n%s", w, out)
		}
	}
}

func TestReportMerge(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	a := writeRun(t, "a.json", loadRun(t, 1000))
	b := writeRun(t, "b.json", loadRun(t, 3000))
	out := filepath.Join(t.TempDir(), "merged.json")
	stdout, _, err := runCLI("report", "merge", a, b, "--out", out)
	if err != nil || !strings.Contains(stdout, "merged 2 records") || !strings.Contains(stdout, "1. "+a+"  sha256 ") || !strings.Contains(stdout, "result: PASS") {
		t.Fatalf("merge: %v %q", err, stdout)
	}
	m := readRecord(t, out)
	st := m.Load.Scenarios[0].Steps[0]
	if st.Count != 400 || st.ResponseTime.Count != 400 || st.ResponseTime.Max < 5900 {
		t.Fatalf("merged step: %+v", st)
	}
	if len(m.Load.MergedFrom) != 2 || m.Load.MergedFrom[0].Source != a || m.Load.MergedFrom[1].Source != b {
		t.Fatalf("merged_from = %+v", m.Load.MergedFrom)
	}
	if _, _, err := runCLI("report", "merge", a); err == nil || !strings.Contains(err.Error(), "out") {
		t.Fatalf("--out is required: %v", err)
	}
}

// workerRun is one worker's share of a plan with three thresholds: each
// worker ran 200 iterations in 10 s; the slow one has 3 values of 900 ms.
func workerRun(t *testing.T, slow bool) *reports.Record {
	t.Helper()
	r := loadRun(t, 1000)
	if slow {
		h := hdrhistogram.New(1, 3_600_000_000, 3)
		if err := h.RecordValues(2_000, 197); err != nil {
			t.Fatal(err)
		}
		if err := h.RecordValues(900_000, 3); err != nil {
			t.Fatal(err)
		}
		enc, err := reports.EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		st := &r.Load.Scenarios[0].Steps[0]
		st.ServiceTime, st.ResponseTime = enc, enc
	}
	r.Load.PlanThresholds = []string{"signin signin.token p99 < 100ms", "iterations <= 250", "rate >= 35/s"}
	r.Load.Thresholds = reports.JudgeLoad(r.Load).Thresholds
	return r
}

// verdictOf is the verdict block a command printed: from the thresholds
// to the result line.
func verdictOf(t *testing.T, out string) string {
	t.Helper()
	i, j := strings.Index(out, "\nthresholds\n"), strings.Index(out, "\nresult: ")
	if i < 0 || j < i {
		t.Fatalf("no verdict in:\n%s", out)
	}
	end := strings.IndexByte(out[j+1:], '\n')
	return out[i : j+1+end]
}

// TestReportMergeJudgesTheWholeRun: the thresholds of merged records are
// judged on the merged data, through report merge and report alike, with
// the exit status of the contract.
func TestReportMergeJudgesTheWholeRun(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	dir := t.TempDir()
	slow, fast := writeRun(t, "slow.json", workerRun(t, true)), writeRun(t, "fast.json", workerRun(t, false))
	// Per worker: the rate fails on both, the slow one's p99 fails too.
	for _, w := range []string{slow, fast} {
		out, _, err := runCLI("report", w)
		if exitCode(err) != 1 || !strings.Contains(out, "FAIL  rate >= 35/s  (actual 20/s)") || !strings.Contains(out, "PASS  iterations <= 250") {
			t.Fatalf("worker %s: exit %d\n%s", w, exitCode(err), out)
		}
		if p99Failed := strings.Contains(out, "FAIL  signin signin.token p99 < 100ms  (actual 900.1ms)"); p99Failed != (w == slow) {
			t.Fatalf("worker %s: p99 failed %v\n%s", w, p99Failed, out)
		}
	}
	merged := filepath.Join(dir, "merged.json")
	out, _, err := runCLI("report", "merge", slow, fast, "--out", merged)
	if exitCode(err) != 1 {
		t.Fatalf("merge: exit %d (%v), want 1\n%s", exitCode(err), err, out)
	}
	for _, want := range []string{"PASS  signin signin.token p99 < 100ms  (actual 2.981ms)", "FAIL  iterations <= 250  (actual 400)", "PASS  rate >= 35/s  (actual 40/s)", "result: FAIL (1 of 3 thresholds failed)"} {
		if !strings.Contains(out, want) {
			t.Errorf("merge output lacks %q:\n%s", want, out)
		}
	}
	rep, _, err := runCLI("report", merged)
	if exitCode(err) != 1 {
		t.Fatalf("report of the merged record: exit %d, want 1", exitCode(err))
	}
	if got, want := verdictOf(t, rep), verdictOf(t, out); got != want {
		t.Errorf("report gives\n%s\nreport merge gave\n%s", got, want)
	}
	// A merge whose thresholds all pass exits 0, and so does its report.
	passing := func(name string) string {
		r := workerRun(t, false)
		r.Load.PlanThresholds = []string{"rate >= 35/s", "signin signin.token p99 < 100ms"}
		return writeRun(t, name, r)
	}
	merged2 := filepath.Join(dir, "merged2.json")
	if out, _, err := runCLI("report", "merge", passing("p1.json"), passing("p2.json"), "--out", merged2); err != nil || !strings.Contains(out, "result: PASS") {
		t.Fatalf("passing merge: %v\n%s", err, out)
	}
	if _, _, err := runCLI("report", merged2); err != nil {
		t.Fatalf("report of the passing merge: %v", err)
	}
}

// TestReportMergeRefuses: records that cannot be one run exit 2, naming why.
func TestReportMergeRefuses(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	a := writeRun(t, "a.json", loadRun(t, 1000))
	edited := func(edit func(r *reports.Record)) string {
		r := loadRun(t, 1000)
		edit(r)
		return writeRun(t, "b.json", r)
	}
	copyOfA := filepath.Join(t.TempDir(), "copy.json")
	raw, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyOfA, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "tampered.json")
	if err := os.WriteFile(tampered, bytes.Replace(raw, []byte(`"iterations": 200`), []byte(`"iterations": 100`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		inputs []string
		want   string
	}{
		"different plan":    {[]string{a, edited(func(r *reports.Record) { r.Load.Plan = json.RawMessage(`{"scenarios":[]}`) })}, "ran a different plan"},
		"different profile": {[]string{a, edited(func(r *reports.Record) { r.Target.ProfileHash = "other" })}, "profile hash"},
		"different version": {[]string{a, edited(func(r *reports.Record) { r.Tool.Version = "v2" })}, "tool: want ciamcheck test"},
		"same file twice":   {[]string{a, a}, "is input 1 (" + a + ") again (same sha256"},
		"a copy":            {[]string{a, copyOfA}, "again (same sha256"},
		"conformance":       {[]string{a, writeRun(t, "c.json", conformanceRun(reports.OutcomePassed))}, "not a load record"},
		"tampered":          {[]string{a, tampered}, "tampered"},
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "merged.json")
			_, _, err := runCLI(append(append([]string{"report", "merge"}, tc.inputs...), "--out", out)...)
			if exitCode(err) != exitBadRecord || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want exit 2 saying %q, got %d: %v", tc.want, exitCode(err), err)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused merge wrote a record")
			}
		})
	}
}

func TestReportHelp(t *testing.T) {
	out, _, err := runCLI("report", "--help")
	if err != nil || !strings.Contains(out, "--fail-on-regression") || !strings.Contains(out, "ciamcheck report merge") {
		t.Fatalf("help: %v\n%s", err, out)
	}
}
