package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
			setup = ", setup: {users: 3}"
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

// Ctrl-C (the context) stops the run the graceful way: the record is still
// written, says the run was interrupted, and the exit status is 2: an
// interrupted run could not be judged.
func TestLoadInterruptedStillWritesRecord(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	out := filepath.Join(t.TempDir(), "load.json")
	plan := filepath.Join(t.TempDir(), "long.yaml")
	if err := os.WriteFile(plan, []byte("name: long\ngraceful_stop: 1s\nscenarios:\n  - {flow: signup-password, executor: constant-arrival-rate, rate: 5, duration: 1m, max_in_flight: 20}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := runLoad(ctx, &stdout, &stderr, loadFlags{plan: plan, out: out, interval: time.Second, quiet: true})
	if exitCode(err) != exitCouldNotRun {
		t.Fatalf("err = %v, want exit 2\n%s", err, stdout.String())
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the interrupted run took %s to stop", took)
	}
	rec, rerr := reports.ReadFile(out)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if rec.Load.Stop != reports.StopInterrupted || rec.Load.Aborted == "" || rec.Load.Scenarios[0].Iterations == 0 {
		t.Errorf("record: aborted %q, %d iterations", rec.Load.Aborted, rec.Load.Scenarios[0].Iterations)
	}
}
