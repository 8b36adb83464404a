package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ciamcheck/ciamcheck/reports"
)

// writeFiles writes name → content into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// checkCILog fails on a line wider than reports.LineWidth or an escape
// sequence: output that does not fit a CI log.
func checkCILog(t *testing.T, name, out string) {
	t.Helper()
	for i, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > reports.LineWidth {
			t.Errorf("%s line %d is %d columns: %q", name, i+1, n, line)
		}
		if strings.Contains(line, "\x1b") {
			t.Errorf("%s line %d holds an escape sequence: %q", name, i+1, line)
		}
	}
}

// The case: the emulator answers a share of initiates 429 with
// Retry-After: 1h, and a plan without thresholds. The run ends at the first
// such answer and cannot be judged (exit 2) — not PASS; the record, report
// and JUnit say why.
func TestLoadRetryAfterBeyondCapIsNotJudged(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	dir := writeFiles(t, map[string]string{
		"tenant.yaml":  "faults:\n  endpoints:\n    /oauth2/v2.0/initiate: {rate_429: 0.2, retry_after: 1h}\n",
		"profile.yaml": "kind: emulator\nemulator_config: tenant.yaml\n",
		"plan.yaml": "name: repro\ngraceful_stop: 2s\nscenarios:\n" +
			"  - {name: signin-password-with-a-rather-long-scenario-name-for-the-summary, flow: signin-password, executor: constant-arrival-rate, rate: 20, duration: 3s, setup: {users: 5}}\n",
	})
	out := filepath.Join(dir, "load.json")
	stdout, stderr, err := runCLI("load", "--target", filepath.Join(dir, "profile.yaml"), "--plan", filepath.Join(dir, "plan.yaml"), "--out", out, "--progress-every", "1s")
	if exitCode(err) != exitCouldNotRun {
		t.Fatalf("exit %d (%v), want 2\nstdout:\n%s\nstderr:\n%s", exitCode(err), err, stdout, stderr)
	}
	for _, want := range []string{
		"result: NOT JUDGED (load not applied: the target asked to wait 1h0m0s (Retry-After of a 429 answer to",
		"max_retry_after 30s;",
		"load applied\n  FAIL",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	checkCILog(t, "stdout", stdout)
	rec := readRecord(t, out)
	if rec.Load.Stop != reports.StopRetryAfter || rec.Load.MinApplied != reports.DefaultMinApplied {
		t.Errorf("record: stop %q, min_applied %v", rec.Load.Stop, rec.Load.MinApplied)
	}
	junit, _, err := runCLI("report", out, "--format", "junit")
	if exitCode(err) != exitCouldNotRun || !strings.Contains(junit, `<testcase name="load applied"`) || !strings.Contains(junit, `<error message="could not judge: load not applied: the target asked to wait 1h0m0s`) {
		t.Errorf("report --format junit: exit %d\n%s", exitCode(err), junit)
	}
}

// A run stopped by a signal says "interrupted" and exits 2, not 1, even
// with a threshold that would fail.
func TestLoadInterruptedIsNotJudged(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	out := filepath.Join(t.TempDir(), "load.json")
	plan := writePlan(t, []string{"signup-password"}, "signup-password flow p99 < 1us")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(time.Second, func() { cancel(errors.New("interrupt signal received")) })
	var o, e bytes.Buffer
	root := newRootCmd()
	root.SetOut(&o)
	root.SetErr(&e)
	root.SetArgs([]string{"load", "--plan", plan, "--out", out, "--quiet"})
	err := root.ExecuteContext(ctx)
	if exitCode(err) != exitCouldNotRun {
		t.Fatalf("exit %d (%v), want 2\n%s\n%s", exitCode(err), err, o.String(), e.String())
	}
	if !strings.Contains(o.String(), "result: NOT JUDGED (interrupted: interrupt signal received (also, on the load that was applied: 1 of 1 thresholds") {
		t.Errorf("summary:\n%s", o.String())
	}
	rec := readRecord(t, out)
	if rec.Load.Stop != reports.StopInterrupted {
		t.Errorf("record stop %q (%s)", rec.Load.Stop, rec.Load.Aborted)
	}
	for _, format := range []string{"text", "markdown", "html", "junit"} {
		rep, _, err := runCLI("report", out, "--format", format)
		if exitCode(err) != exitCouldNotRun || !strings.Contains(rep, "interrupted: interrupt signal received") {
			t.Errorf("report --format %s: exit %d, interrupted not said:\n%s", format, exitCode(err), rep)
		}
	}
}

// Connections closed without an answer (the emulator's drop fault): the
// record and the summary name the transport failures' class, with an
// example message. (A closed port is refused by the preflight before the
// load; loadgen's tests provoke that class.)
func TestLoadTransportClass(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	dir := writeFiles(t, map[string]string{
		"tenant.yaml":  "faults:\n  endpoints:\n    /oauth2/v2.0/token: {drop_rate: 1}\n",
		"profile.yaml": "kind: emulator\nemulator_config: tenant.yaml\n",
		"plan.yaml":    "name: drop\ngraceful_stop: 2s\nscenarios:\n  - {flow: signup-password, executor: constant-arrival-rate, rate: 10, duration: 1s}\n",
	})
	out := filepath.Join(dir, "load.json")
	stdout, stderr, err := runCLI("load", "--target", filepath.Join(dir, "profile.yaml"), "--plan", filepath.Join(dir, "plan.yaml"), "--out", out, "--quiet")
	if exitCode(err) == exitCouldNotRun {
		t.Fatalf("load could not run: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "token.continuation: transport reset×10\n      e.g. nativeauth: POST /oauth2/v2.0/token: Post ") {
		t.Errorf("summary (err %v):\n%s\n%s", err, stdout, stderr)
	}
	checkCILog(t, "stdout", stdout)
	rec := readRecord(t, out)
	var found bool
	for _, st := range rec.Load.Scenarios[0].Steps {
		for _, o := range st.Outcomes {
			if o.Transport {
				found = true
				if st.Step != "token.continuation" || o.TransportClass != "reset" || o.Count != 10 || !strings.Contains(o.Example, "/oauth2/v2.0/token") {
					t.Errorf("step %s outcome %+v", st.Step, o)
				}
			}
		}
	}
	if !found {
		t.Errorf("no transport outcome in the record")
	}
}
