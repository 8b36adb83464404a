package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/reports"
)

const segmentPlan = `name: segments
graceful_stop: 5s
max_rate: 60
scenarios:
  - {name: signup, flow: signup-password, executor: constant-arrival-rate, rate: 20, duration: 1s, max_in_flight: 30}
  - {name: signin, flow: signin-password, executor: ramping-arrival-rate, start_rate: 5, stages: [{duration: 1s, target: 15}], max_in_flight: 30, setup: {users: 6}}
  - {name: signin-vus, flow: signin-password, executor: constant-vus, vus: 3, duration: 10s, iterations: 10, setup: {users: 3}}
thresholds:
  - failed == 0
  - signup flow p99 < 10s
`

// TestSegmentsMergeToTheWholeRun runs one plan whole and in 3 segments
// against the embedded emulator and merges the segments: every count of
// the merged record is the whole run's, and each merged percentile lies
// between the segments' (a quantile of a union lies between the parts').
func TestSegmentsMergeToTheWholeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the plan 4 times")
	}
	t.Setenv(reports.RecordKeyEnv, "")
	t.Setenv(envCompletionIndex, "")
	t.Setenv(envSegments, "")
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(plan, []byte(segmentPlan), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(out string, args ...string) *reports.Record {
		t.Helper()
		stdout, stderr, err := runCLI(append([]string{"load", "--plan", plan, "--out", out, "--quiet"}, args...)...)
		if err != nil {
			t.Fatalf("load %v: %v\n%s\n%s", args, err, stdout, stderr)
		}
		rec := readRecord(t, out)
		return rec
	}
	whole := run(filepath.Join(dir, "whole.json"))
	var paths []string
	var segs []*reports.Record
	for i := 1; i <= 3; i++ {
		p := filepath.Join(dir, "seg"+string(rune('0'+i))+".json")
		args := []string{"--segment", string(rune('0'+i)) + "/3"}
		if i == 2 {
			// The Indexed Job's way: a 0-based completion index and a count.
			t.Setenv(envCompletionIndex, "1")
			args = []string{"--segments", "3"}
		}
		rec := run(p, args...)
		t.Setenv(envCompletionIndex, "")
		if want := string(rune('0'+i)) + "/3"; rec.Load.Segment != want {
			t.Fatalf("record of segment %s says %q", want, rec.Load.Segment)
		}
		paths = append(paths, p)
		segs = append(segs, rec)
	}
	merged := filepath.Join(dir, "merged.json")
	stdout, _, err := runCLI(append([]string{"report", "merge", "--out", merged}, paths...)...)
	if err != nil {
		t.Fatalf("merge: %v\n%s", err, stdout)
	}
	if !strings.Contains(stdout, "segment 2/3") || !strings.Contains(stdout, "PASS") {
		t.Errorf("merge output lacks the segments or the verdict:\n%s", stdout)
	}
	m := readRecord(t, merged)
	checkMergedMatchesWhole(t, whole, m, segs)
	if w := whole.Load.Scenarios[0]; w.Expected != 20 || w.Iterations != 20 {
		t.Errorf("whole signup: want 20 of 20 iterations, got %d of %d", w.Iterations, w.Expected)
	}
	// One segment short: refused, or stated with --allow-partial.
	_, _, err = runCLI("report", "merge", "--out", filepath.Join(dir, "short.json"), paths[0], paths[2])
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "segments 2/3 missing") {
		t.Errorf("merge without segment 2: want exit 2 naming it, got %v", err)
	}
	stdout, _, err = runCLI("report", "merge", "--allow-partial", "--out", filepath.Join(dir, "partial.json"), paths[0], paths[2])
	if err != nil || !strings.Contains(stdout, "PARTIAL: segments 2/3 missing") {
		t.Errorf("--allow-partial: %v\n%s", err, stdout)
	}
}

// checkMergedMatchesWhole asserts the merged record m counts what the
// whole run counted, scenario by scenario and step by step, and that each
// merged p99 lies within the segments' p99s.
func checkMergedMatchesWhole(t *testing.T, whole, m *reports.Record, segs []*reports.Record) {
	t.Helper()
	if len(m.Load.Scenarios) != len(whole.Load.Scenarios) {
		t.Fatalf("scenarios: want %d, got %d", len(whole.Load.Scenarios), len(m.Load.Scenarios))
	}
	for k, w := range whole.Load.Scenarios {
		g := m.Load.Scenarios[k]
		if g.Name != w.Name || g.Iterations != w.Iterations || g.Expected != w.Expected || g.Failed != w.Failed || g.Dropped != w.Dropped {
			t.Errorf("scenario %s: want iterations %d expected %d failed %d dropped %d, got %s %d %d %d %d",
				w.Name, w.Iterations, w.Expected, w.Failed, w.Dropped, g.Name, g.Iterations, g.Expected, g.Failed, g.Dropped)
		}
		if len(g.Steps) != len(w.Steps) {
			t.Fatalf("scenario %s steps: want %d, got %d", w.Name, len(w.Steps), len(g.Steps))
		}
		for j, ws := range w.Steps {
			gs := g.Steps[j]
			if gs.Step != ws.Step || gs.Count != ws.Count || gs.ResponseTime.Count != ws.ResponseTime.Count {
				t.Errorf("scenario %s step %s: want count %d, got %s %d (histogram %d)", w.Name, ws.Step, ws.Count, gs.Step, gs.Count, gs.ResponseTime.Count)
			}
			lo, hi := segmentP99Range(segs, k, ws.Step)
			// HdrHistogram with 3 significant digits: within 0.1%.
			if p := gs.ResponseTime.P99; float64(p) < float64(lo)*0.999 || float64(p) > float64(hi)*1.001 {
				t.Errorf("scenario %s step %s: merged p99 %dus outside the segments' [%d, %d]", w.Name, ws.Step, p, lo, hi)
			}
		}
	}
}

// segmentP99Range is the lowest and highest p99 of step in scenario k over
// the segments that ran it.
func segmentP99Range(segs []*reports.Record, k int, step string) (lo, hi int64) {
	lo, hi = int64(1<<62), int64(0)
	for _, s := range segs {
		for _, st := range s.Load.Scenarios[k].Steps {
			if st.Step == step && st.ResponseTime.Count > 0 {
				lo, hi = min(lo, st.ResponseTime.P99), max(hi, st.ResponseTime.P99)
			}
		}
	}
	return lo, hi
}

func TestSegmentOf(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	tests := []struct {
		name    string
		f       loadFlags
		env     map[string]string
		want    reports.Segment
		wantErr string
	}{
		{"none", loadFlags{}, nil, reports.Segment{}, ""},
		{"index without count is the whole plan", loadFlags{}, map[string]string{envCompletionIndex: "2"}, reports.Segment{}, ""},
		{"flag", loadFlags{segment: "2/4"}, map[string]string{envCompletionIndex: "0", envSegments: "8"}, reports.Segment{Index: 2, Count: 4}, ""},
		{"job env", loadFlags{}, map[string]string{envCompletionIndex: "3", envSegments: "4"}, reports.Segment{Index: 4, Count: 4}, ""},
		{"job and --segments", loadFlags{segments: 4}, map[string]string{envCompletionIndex: "0"}, reports.Segment{Index: 1, Count: 4}, ""},
		{"index past count", loadFlags{segments: 4}, map[string]string{envCompletionIndex: "4"}, reports.Segment{}, "want 1 <= i <= n"},
		{"count without index", loadFlags{segments: 4}, nil, reports.Segment{}, "no --segment and no $JOB_COMPLETION_INDEX"},
		{"bad count", loadFlags{}, map[string]string{envSegments: "four", envCompletionIndex: "0"}, reports.Segment{}, "want the number of segments"},
		{"bad flag", loadFlags{segment: "4"}, nil, reports.Segment{}, "want i/n"},
	}
	for _, tt := range tests {
		got, err := segmentOf(tt.f, env(tt.env))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: want error %q, got %v", tt.name, tt.wantErr, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: want %+v, got %+v, %v", tt.name, tt.want, got, err)
		}
	}
}

func TestLoadStartAt(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	plan := writePlan(t, []string{"signup-password"})
	for _, tt := range []struct{ at, want string }{
		{time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "in the past"},
		{time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339), "ahead"},
		{"tomorrow", "RFC 3339"},
	} {
		_, _, err := runCLI("load", "--plan", plan, "--quiet", "--start-at", tt.at)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("--start-at %s: want exit 2 saying %q, got %v", tt.at, tt.want, err)
		}
	}
	out := filepath.Join(t.TempDir(), "load.json")
	at := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	if _, _, err := runCLI("load", "--plan", plan, "--quiet", "--out", out, "--start-at", at.UTC().Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	rec := readRecord(t, out)
	if !rec.Load.StartAt.Equal(at) || rec.Load.BeganAt.Before(at) || rec.Load.BeganAt.Sub(at) > 500*time.Millisecond {
		t.Errorf("start_at %s began_at %s: want start_at %s and a start within 500ms after it", rec.Load.StartAt, rec.Load.BeganAt, at)
	}
}

// TestRecordStdoutCollectMerge is the Kubernetes path: each worker frames
// its record into its log; the logs, as kubectl logs --prefix gives them,
// give the records back byte for byte, and they merge.
func TestRecordStdoutCollectMerge(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	t.Setenv(envCompletionIndex, "")
	t.Setenv(envSegments, "")
	plan := writePlan(t, []string{"signup-password"}, "signup-password iterations == 10")
	dir := t.TempDir()
	var logs strings.Builder
	for i, seg := range []string{"1/2", "2/2"} {
		stdout, stderr, err := runCLI("load", "--plan", plan, "--quiet", "--record-stdout", "--segment", seg)
		if err != nil {
			t.Fatalf("segment %s: %v\n%s", seg, err, stderr)
		}
		for _, l := range strings.SplitAfter(stdout, "\n") {
			if l != "" {
				logs.WriteString("[pod/ciamcheck-load-" + string(rune('0'+i)) + "-x/load] " + l)
			}
		}
	}
	logPath := filepath.Join(dir, "pods.log")
	if err := os.WriteFile(logPath, []byte(logs.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCLI("report", "collect", "--dir", filepath.Join(dir, "results"), logPath)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	paths := strings.Fields(stdout)
	if len(paths) != 2 || !strings.HasSuffix(paths[0], "segment-1-of-2.json") || !strings.HasSuffix(paths[1], "segment-2-of-2.json") {
		t.Fatalf("collect wrote %q", paths)
	}
	out, _, err := runCLI(append([]string{"report", "merge", "--out", filepath.Join(dir, "merged.json")}, paths...)...)
	if err != nil || !strings.Contains(out, "PASS  signup-password iterations == 10") {
		t.Fatalf("merge of collected records: %v\n%s", err, out)
	}
	// A cut log is refused, never half-read.
	cut := logs.String()[:len(logs.String())-200]
	if err := os.WriteFile(logPath, []byte(cut), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI("report", "collect", "--dir", filepath.Join(dir, "again"), logPath); exitCode(err) != 2 {
		t.Errorf("collect of a cut log: want exit 2, got %v", err)
	}
}
