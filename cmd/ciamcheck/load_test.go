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
	"github.com/ciamcheck/ciamcheck/scenarios/plans"
)

// writePlan writes a short plan (a few seconds against the embedded
// emulator) with the given thresholds.
func writePlan(t *testing.T, flows []string, thresholds ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("name: cli-test\ngraceful_stop: 2s\nscenarios:\n")
	for _, f := range flows {
		setup := ""
		if strings.HasPrefix(f, "signin") {
			// Each iteration holds a user: a loaded machine's multi-second
			// flows at 5/s held all of 3, and the next found none free.
			setup = ", setup: {users: 12}"
		}
		b.WriteString("  - {flow: " + f + ", executor: constant-arrival-rate, rate: 5, duration: 2s, max_in_flight: 20" + setup + "}\n")
	}
	if len(thresholds) > 0 {
		b.WriteString("thresholds:\n")
		for _, th := range thresholds {
			b.WriteString("  - " + th + "\n")
		}
	}
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadRun drives a short plan through the CLI against the embedded
// emulator and checks the summary, the record and the .hlog.
func TestLoadRun(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	dir := t.TempDir()
	out, hlog := filepath.Join(dir, "load.json"), filepath.Join(dir, "load.hlog")
	plan := writePlan(t, []string{"signin-password", "signup-password"}, "signin-password error_rate < 1%", "dropped == 0")
	stdout, stderr, err := runCLI("load", "--plan", plan, "--out", out, "--hlog", hlog, "--interval", "500ms")
	if err != nil {
		t.Fatalf("load failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	for _, want := range []string{"signin-password", "token.password", "signup.start", "thresholds", "PASS  dropped == 0", "run record: " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	rec := readRecord(t, out)
	if rec.Kind != reports.KindLoad || rec.Load == nil || rec.Target.Kind != "emulator" || rec.Tool.Name != "ciamcheck" {
		t.Fatalf("record = kind %s target %+v", rec.Kind, rec.Target)
	}
	if rec.EndedAt.Before(rec.StartedAt) {
		t.Errorf("ended %s before started %s", rec.EndedAt, rec.StartedAt)
	}
	if len(rec.Load.Scenarios) != 2 {
		t.Fatalf("scenarios = %d, want 2", len(rec.Load.Scenarios))
	}
	for _, sc := range rec.Load.Scenarios {
		if sc.Iterations == 0 || sc.Failed != 0 || sc.Dropped != 0 || len(sc.Steps) == 0 {
			t.Errorf("scenario %s: %d iterations, %d failed, %d dropped, %d steps", sc.Name, sc.Iterations, sc.Failed, sc.Dropped, len(sc.Steps))
		}
	}
	if len(rec.Load.Thresholds) != 2 {
		t.Errorf("thresholds = %+v", rec.Load.Thresholds)
	}
	raw, err := os.ReadFile(hlog)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "#[StartTime:") || strings.Count(string(raw), "\n") < 4 {
		t.Errorf(".hlog does not look like an HdrHistogram log:\n%s", raw)
	}
	// The record renders through `ciamcheck report`, which judges it as
	// load did.
	rep, _, err := runCLI("report", out)
	if err != nil || !strings.Contains(rep, "token.password") {
		t.Errorf("report of the load record: %v\n%s", err, rep)
	}
	if got, want := verdictOf(t, rep), verdictOf(t, stdout); got != want {
		t.Errorf("report's verdict\n%s\nload's\n%s", got, want)
	}
}

// A breached threshold names itself and exits 1; the record is still
// written so the breach can be inspected.
func TestLoadThresholdBreachExitsOne(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	out := filepath.Join(t.TempDir(), "load.json")
	plan := writePlan(t, []string{"signin-password"}, "signin-password token.password p99 < 1us")
	stdout, _, err := runCLI("load", "--plan", plan, "--out", out, "--quiet")
	if exitCode(err) != 1 {
		t.Fatalf("err = %v, want exit code 1\n%s", err, stdout)
	}
	if !strings.Contains(stdout, "FAIL") || !strings.Contains(stdout, "token.password p99 < 1us") {
		t.Errorf("breach not named:\n%s", stdout)
	}
	rec := readRecord(t, out)
	if len(rec.Load.Thresholds) != 1 || rec.Load.Thresholds[0].Passed {
		t.Errorf("recorded thresholds = %+v", rec.Load.Thresholds)
	}
	// report judges the record the same way: the same verdict, exit 1.
	rep, _, err := runCLI("report", out)
	if exitCode(err) != 1 {
		t.Errorf("report: exit %d (%v), want 1", exitCode(err), err)
	}
	if got, want := verdictOf(t, rep), verdictOf(t, stdout); got != want {
		t.Errorf("report's verdict\n%s\nload's\n%s", got, want)
	}
}

func TestLoadRefusesBadInput(t *testing.T) {
	tenantProfile, err := filepath.Abs("../../profile/testdata/tenant-full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	badYAML := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("name: x\nscenarios:\n  - {flow: signin-password, executor: warp-speed}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown plan", []string{"--plan", "no-such-plan"}, "neither a file nor a built-in plan"},
		{"invalid plan", []string{"--plan", badYAML}, "warp-speed"},
		{"flow of the other method", []string{"--plan", writePlan(t, []string{"signin-otp"})}, `needs a tenant whose sign-up method is "otp"`},
		{"unknown flow", []string{"--plan", writePlan(t, []string{"signin-magic"})}, "signin-magic"},
		{"poll interval on a tenant", []string{"--target", tenantProfile, "--poll-interval", "10ms"}, "emulator targets only"},
		{"missing users file", []string{"--users", filepath.Join(t.TempDir(), "none.csv")}, "none.csv"},
		{"missing profile", []string{"--target", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(append([]string{"load", "--quiet"}, tc.args...)...)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (exit %d), want exit 2 mentioning %q", err, exitCode(err), tc.want)
			}
		})
	}
}

func TestLoadListPlans(t *testing.T) {
	out, _, err := runCLI("load", "--list-plans")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range plans.Names() {
		if !strings.Contains(out, name+" ") {
			t.Errorf("--list-plans lacks %s:\n%s", name, out)
		}
	}
}

// Users from a file fill the pool; setup only tops it up.
func TestLoadUsersFile(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(users, []byte("username,password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := writePlan(t, []string{"signin-password"}, "failed == 0")
	stdout, stderr, err := runCLI("load", "--plan", plan, "--users", users, "--quiet")
	if err != nil {
		t.Fatalf("load: %v\n%s\n%s", err, stdout, stderr)
	}
	if !strings.Contains(stderr, "0 users from") {
		t.Errorf("stderr = %q", stderr)
	}
}

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

// Ctrl-C (the context) stops the run the graceful way and soon: the record
// is still written and says the run was interrupted, and the exit status is
// 2, not 1, even with a threshold that would fail: an interrupted run could
// not be judged. Every report format says why.
func TestLoadInterruptedIsNotJudged(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	dir := writeFiles(t, map[string]string{
		"long.yaml": "name: long\ngraceful_stop: 1s\nscenarios:\n  - {flow: signup-password, executor: constant-arrival-rate, rate: 5, duration: 1m, max_in_flight: 20}\n" +
			"thresholds:\n  - signup-password flow p99 < 1us\n",
	})
	out := filepath.Join(dir, "load.json")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	time.AfterFunc(time.Second, func() { cancel(errors.New("interrupt signal received")) })
	var o, e bytes.Buffer
	root := newRootCmd()
	root.SetOut(&o)
	root.SetErr(&e)
	root.SetArgs([]string{"load", "--plan", filepath.Join(dir, "long.yaml"), "--out", out, "--quiet"})
	start := time.Now()
	err := root.ExecuteContext(ctx)
	if exitCode(err) != exitCouldNotRun {
		t.Fatalf("exit %d (%v), want 2\n%s\n%s", exitCode(err), err, o.String(), e.String())
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the interrupted run took %s to stop", took)
	}
	if !strings.Contains(o.String(), "result: NOT JUDGED (interrupted: interrupt signal received (also, on the load that was applied: 1 of 1 thresholds") {
		t.Errorf("summary:\n%s", o.String())
	}
	rec := readRecord(t, out)
	if rec.Load.Stop != reports.StopInterrupted || rec.Load.Aborted == "" || rec.Load.Scenarios[0].Iterations == 0 {
		t.Errorf("record: stop %q, aborted %q, %d iterations", rec.Load.Stop, rec.Load.Aborted, rec.Load.Scenarios[0].Iterations)
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
