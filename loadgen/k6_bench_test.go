package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/scenarios"
)

// Multi-step flows side by side with k6: sign-in with a password (four
// requests a flow) at one arrival rate, open model, against the canned API
// in a process of its own, so that each tool's CPU is its own: ciamcheck's
// is this process's, k6's that of its child process. The goal is
// at least twice k6's flows per second for the same CPU.
const (
	flowCmpDuration = 5 * time.Second
	flowCmpInFlight = 2000 // max_in_flight for ciamcheck, maxVUs for k6
	flowCmpUsers    = 2000 // users in the pool; at least one per flow in flight
)

// flowRun is one tool's run of the flow comparison.
type flowRun struct {
	started, completed, dropped int64
	p99                         time.Duration // iteration (flow) duration
	cpu                         time.Duration // user+system CPU of the tool's process
}

func (r flowRun) perCore() float64 {
	if r.cpu <= 0 {
		return 0
	}
	return float64(r.completed) / r.cpu.Seconds()
}

func (r flowRun) String() string {
	return fmt.Sprintf("%d started, %d completed, %d dropped, flow p99 %s, CPU %s: %.0f flows/s per core",
		r.started, r.completed, r.dropped, r.p99.Round(10*time.Microsecond), r.cpu.Round(time.Millisecond), r.perCore())
}

func runCiamcheckSignIn(serverURL string, rate int) (flowRun, error) {
	p, err := ParsePlan(fmt.Appendf(nil, `
scenarios:
  - {flow: %s, executor: constant-arrival-rate, rate: %d, duration: %s, max_in_flight: %d}`,
		scenarios.FlowSignInPassword, rate, flowCmpDuration, flowCmpInFlight))
	if err != nil {
		return flowRun{}, err
	}
	flow, err := cannedSignIn(serverURL, flowCmpUsers)
	if err != nil {
		return flowRun{}, err
	}
	cpu0 := cpuTime()
	l, err := Run(context.Background(), p, func(string) (scenarios.Flow, error) { return flow, nil }, Options{TargetURL: serverURL})
	if err != nil {
		return flowRun{}, err
	}
	sc := l.Scenarios[0]
	return flowRun{started: sc.Iterations, completed: sc.Iterations - sc.Failed, dropped: sc.Dropped,
		p99: time.Duration(sc.FlowStats.ResponseTime.P99) * time.Microsecond, cpu: cpuTime() - cpu0}, nil
}

func runK6SignIn(k6, serverURL string, rate int, dir string) (flowRun, error) {
	summary := filepath.Join(dir, "k6-summary.json")
	cmd := exec.Command(k6, "run", "--quiet",
		"-e", "BASE_URL="+cannedBaseURL(serverURL), "-e", "CLIENT_ID="+cannedClientID,
		"-e", "PASSWORD="+cannedPassword.Reveal(), "-e", fmt.Sprintf("USERS=%d", flowCmpUsers),
		"-e", fmt.Sprintf("RATE=%d", rate), "-e", "DURATION="+flowCmpDuration.String(),
		"-e", fmt.Sprintf("MAX_VUS=%d", flowCmpInFlight), "-e", "SUMMARY_FILE="+summary,
		k6Script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return flowRun{}, fmt.Errorf("%s: %w\n%s", cmd, err, out.Bytes())
	}
	data, err := os.ReadFile(summary)
	if err != nil {
		return flowRun{}, err
	}
	s, err := parseK6Summary(data)
	if err != nil {
		return flowRun{}, err
	}
	return flowRun{started: s.Iterations, completed: s.Completed, dropped: s.Dropped, p99: s.P99,
		cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, nil
}

// BenchmarkK6Comparison runs sign-in with a password for 5 s at
// CIAMCHECK_BENCH_FLOW_RATE flows/s (default 1,000) with ciamcheck, then,
// when k6 is on PATH, with k6 and testdata/k6/signin-password.js, and
// reports for each: flows started, completed and dropped, the flow p99,
// the CPU of the tool's process and completed flows per second of CPU
// (flows/s per core); and the ratio ciamcheck/k6 of the last. Without k6
// the k6 half is skipped, saying so:
//
//	go test -run '^$' -bench K6Comparison -benchtime 1x ./loadgen/
func BenchmarkK6Comparison(b *testing.B) {
	rate := 1000
	if n, err := strconv.Atoi(os.Getenv("CIAMCHECK_BENCH_FLOW_RATE")); err == nil && n > 0 {
		rate = n
	}
	serverURL := startCannedServer(b)
	// Skipped benchmarks say why only under -v: the ciamcheck half says it
	// too.
	k6, k6Missing := exec.LookPath("k6")
	var c flowRun
	b.Run(fmt.Sprintf("ciamcheck/rate=%d", rate), func(b *testing.B) {
		var err error
		if c, err = runCiamcheckSignIn(serverURL, rate); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(c.perCore(), "flows/s/core")
		b.ReportMetric(float64(c.completed)/flowCmpDuration.Seconds(), "flows/s")
		b.ReportMetric(float64(c.dropped), "dropped")
		b.ReportMetric(float64(c.p99.Microseconds()), "flow-p99-µs")
		b.Logf("ciamcheck, sign-in with a password at %d/s for %s: %s", rate, flowCmpDuration, c)
		if k6Missing != nil {
			b.Logf("k6 was not found on PATH (%v): no ratio; the k6 half is skipped", k6Missing)
		}
	})
	b.Run(fmt.Sprintf("k6/rate=%d", rate), func(b *testing.B) {
		if k6Missing != nil {
			b.Skipf("k6 half skipped: no k6 on PATH (%v); ciamcheck's figures stand alone", k6Missing)
		}
		k, err := runK6SignIn(k6, serverURL, rate, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(k.perCore(), "flows/s/core")
		b.ReportMetric(float64(k.completed)/flowCmpDuration.Seconds(), "flows/s")
		b.ReportMetric(float64(k.dropped), "dropped")
		b.ReportMetric(float64(k.p99.Microseconds()), "flow-p99-µs")
		ratio := 0.0
		if k.perCore() > 0 {
			ratio = c.perCore() / k.perCore()
		}
		b.ReportMetric(ratio, "ciamcheck/k6-flows/s/core")
		b.Logf("k6, the same: %s\nciamcheck/k6 flows/s per core: %.2f (goal ≥ 2)", k, ratio)
	})
}
