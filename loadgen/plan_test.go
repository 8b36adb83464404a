package loadgen

import (
	"strings"
	"testing"
	"time"
)

const goodPlan = `
name: unit
max_rate: 50
graceful_stop: 2s
abort_on_throttle: {window: 10s, ratio: 0.5}
scenarios:
  - flow: signup-otp
    executor: constant-arrival-rate
    rate: 5
    duration: 10s
  - name: ramp
    flow: signin-password
    executor: ramping-arrival-rate
    start_rate: 1
    stages: [{duration: 5s, target: 10}, {duration: 5s, target: 0}]
    max_in_flight: 20
    setup: {users: 10}
  - flow: sspr
    executor: constant-vus
    vus: 2
    duration: 3s
    think_time: 100ms
    iterations: 10
  - name: vus-ramp
    flow: sspr
    executor: ramping-vus
    stages: [{duration: 2s, target: 3}]
thresholds:
  - signup-otp error_rate < 1%
  - ramp flow p95 < 2s
  - dropped == 0
`

func TestParsePlan(t *testing.T) {
	p, err := ParsePlan([]byte(goodPlan))
	if err != nil {
		t.Fatal(err)
	}
	if p.Scenarios[0].Name != "signup-otp" || p.Scenarios[0].MaxInFlight != defaultInFlight {
		t.Errorf("defaults not filled: %+v", p.Scenarios[0])
	}
	if p.AbortOnThrottle.MinRequests != defaultThrottleMn || len(p.thresholds) != 3 {
		t.Errorf("plan %+v", p)
	}
	if got := p.Scenarios[0].expected(); got != 50 {
		t.Errorf("constant 5/s for 10s: expected %d, want 50", got)
	}
	if got := p.Scenarios[1].expected(); got != 53 { // ∫ = 27.5 + 25 = 52.5
		t.Errorf("ramp 1→10→0 over 10s: expected %d, want 53", got)
	}
	if got := p.Scenarios[2].expected(); got != 10 {
		t.Errorf("vus with iterations 10: expected %d", got)
	}
}

func TestParsePlanErrors(t *testing.T) {
	base := func(sc string) string {
		return "scenarios:\n  - " + strings.ReplaceAll(strings.TrimSpace(sc), "\n", "\n    ") + "\n"
	}
	cases := []struct{ name, yaml, wantErr string }{
		{"empty", "", "empty plan"},
		{"unknown top key", "nope: 1\n" + base("flow: a\nexecutor: constant-vus\nvus: 1\nduration: 1s"), "field nope not found"},
		{"unknown scenario key", base("flow: a\nexecutor: constant-vus\nvus: 1\nduration: 1s\nrps: 3"), "field rps not found"},
		{"no scenarios", "name: x\n", "no scenarios"},
		{"no flow", base("executor: constant-vus\nvus: 1\nduration: 1s"), "flow is required"},
		{"no executor", base("flow: a"), "executor is required"},
		{"bad executor", base("flow: a\nexecutor: shared-iterations"), "unknown executor"},
		{"zero rate", base("flow: a\nexecutor: constant-arrival-rate\nduration: 1s"), "rate 0"},
		{"no duration", base("flow: a\nexecutor: constant-arrival-rate\nrate: 1"), "needs duration or iterations"},
		{"bad duration", base("flow: a\nexecutor: constant-vus\nvus: 1\nduration: soon"), "decode plan"},
		{"negative duration", base("flow: a\nexecutor: constant-vus\nvus: 1\nduration: -1s"), "duration -1s"},
		{"vus on open", base("flow: a\nexecutor: constant-arrival-rate\nrate: 1\nduration: 1s\nvus: 3"), "vus does not apply"},
		{"ramp no stages", base("flow: a\nexecutor: ramping-arrival-rate"), "needs stages"},
		{"ramp with duration", base("flow: a\nexecutor: ramping-arrival-rate\nduration: 1s\nstages: [{duration: 1s, target: 1}]"), "stages set it"},
		{"stage zero", base("flow: a\nexecutor: ramping-vus\nstages: [{duration: 0s, target: 1}]"), "stage 1: duration"},
		{"fractional vus", base("flow: a\nexecutor: ramping-vus\nstages: [{duration: 1s, target: 1.5}]"), "whole number of VUs"},
		{"dup names", "scenarios:\n  - {flow: a, executor: constant-vus, vus: 1, duration: 1s}\n  - {flow: a, executor: constant-vus, vus: 1, duration: 1s}\n", "duplicate name"},
		{"bad name", base("name: Bad Name\nflow: a\nexecutor: constant-vus\nvus: 1\nduration: 1s"), "name \"Bad Name\""},
		{"over max_rate", "max_rate: 10\n" + base("flow: a\nexecutor: constant-arrival-rate\nrate: 11\nduration: 1s"), "exceeds the plan's max_rate"},
		{"ramp over max_rate", "max_rate: 10\n" + base("flow: a\nexecutor: ramping-arrival-rate\nstages: [{duration: 1s, target: 20}]"), "exceeds the plan's max_rate"},
		{"bad threshold", base("flow: a\nexecutor: constant-vus\nvus: 1\nduration: 1s") + "thresholds: [\"a p99 < soon\"]", "want a duration"},
		{"threshold unknown step", "scenarios: [{flow: signin-password, executor: constant-vus, vus: 1, duration: 1s}]\nthresholds: [\"signin-password token.pasword p99 < 1s\"]", "has no step \"token.pasword\""},
		{"threshold unknown scenario", base("flow: a\nexecutor: constant-vus\nvus: 1\nduration: 1s") + "thresholds: [\"b p99 < 1s\"]", "no scenario named"},
		{"throttle ratio", "abort_on_throttle: {window: 1s, ratio: 2}\n" + base("flow: a\nexecutor: constant-vus\nvus: 1\nduration: 1s"), "ratio"},
		{"throttle window", "abort_on_throttle: {window: 1ms, ratio: 0.5}\n" + base("flow: a\nexecutor: constant-vus\nvus: 1\nduration: 1s"), "window"},
		{"two docs", base("flow: a\nexecutor: constant-vus\nvus: 1\nduration: 1s") + "---\nname: b\n", "more than one"},
		{"grace too long", "graceful_stop: 1h\n" + base("flow: a\nexecutor: constant-vus\nvus: 1\nduration: 1s"), "graceful_stop"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePlan([]byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
			}
		})
	}
}

func TestIterationsOnlyIsBoundedInTime(t *testing.T) {
	p, err := ParsePlan([]byte(strings.TrimSpace(`
scenarios:
  - {flow: a, executor: constant-arrival-rate, rate: 10, iterations: 20}`)))
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Scenarios[0].Duration; d != 3*time.Second {
		t.Errorf("duration %s, want 3s (20 at 10/s plus a second)", d)
	}
}

func FuzzParsePlan(f *testing.F) {
	f.Add([]byte(goodPlan))
	f.Add([]byte("scenarios: [{flow: a, executor: constant-vus, vus: 1, duration: 1s}]"))
	f.Add([]byte("scenarios: [{flow: a, executor: ramping-arrival-rate, stages: [{duration: 1s, target: 5}]}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePlan(b)
		if err != nil {
			return
		}
		for i := range p.Scenarios {
			sc := &p.Scenarios[i]
			if sc.length() <= 0 || sc.length() > 2*maxPlanDuration {
				t.Fatalf("valid plan with unbounded scenario length %s", sc.length())
			}
			if sc.isOpen() && sc.MaxInFlight <= 0 {
				t.Fatal("open scenario without max_in_flight")
			}
		}
	})
}

// TestDefaultThrottlePolicy: a plan that says nothing about throttling
// still aborts on sustained 429s (safety toward real tenants), over a
// window a third of its length (1s to 30s), so a short run can abort too;
// an explicit window longer than the plan could never fill and is refused.
func TestDefaultThrottlePolicy(t *testing.T) {
	for _, c := range []struct {
		duration string
		window   time.Duration
	}{{"500ms", 500 * time.Millisecond}, {"1s", time.Second}, {"15s", 5 * time.Second}, {"2h", defaultThrottleWindow}} {
		p, err := ParsePlan([]byte("scenarios: [{flow: a, executor: constant-vus, vus: 1, duration: " + c.duration + "}]"))
		if err != nil {
			t.Fatal(err)
		}
		got := p.AbortOnThrottle
		if got == nil || got.Window != c.window || got.Ratio != defaultThrottleRatio || got.MinRequests != defaultThrottleMn {
			t.Errorf("%s: default abort_on_throttle = %+v, want window %s", c.duration, got, c.window)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: validating again: %v", c.duration, err)
		}
	}
	_, err := ParsePlan([]byte("abort_on_throttle: {window: 30s, ratio: 0.5}\nscenarios: [{flow: a, executor: constant-vus, vus: 1, duration: 15s}]"))
	if err == nil || !strings.Contains(err.Error(), "abort_on_throttle.window 30s is longer than the plan's 15s") {
		t.Errorf("window longer than the plan: %v", err)
	}
}

// min_applied reads as a percentage or a fraction, defaults to 95%, and
// max_retry_after defaults to 30s; both are bounded.
func TestPlanAppliedSettings(t *testing.T) {
	const sc = "\nscenarios: [{flow: a, executor: constant-vus, vus: 1, duration: 1s}]"
	for _, c := range []struct {
		yaml       string
		minApplied Share
		maxRA      time.Duration
		err        string
	}{
		{"", 0.95, 30 * time.Second, ""},
		{"min_applied: 80%\nmax_retry_after: 2m", 0.8, 2 * time.Minute, ""},
		{"min_applied: 0.5", 0.5, 30 * time.Second, ""},
		{"min_applied: 120%", 0, 0, "min_applied 1.2: want a share from 0% to 100%"},
		{"min_applied: lots", 0, 0, `"lots": want a percentage`},
		{"max_retry_after: 2h", 0, 0, "max_retry_after 2h0m0s: want 0..1h0m0s"},
	} {
		p, err := ParsePlan([]byte(c.yaml + sc))
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.yaml, err, c.err)
			}
		case err != nil:
			t.Errorf("%q: %v", c.yaml, err)
		case p.MinApplied != c.minApplied || p.MaxRetryAfter != c.maxRA:
			t.Errorf("%q: min_applied %v max_retry_after %s, want %v %s", c.yaml, p.MinApplied, p.MaxRetryAfter, c.minApplied, c.maxRA)
		}
	}
}

// Step names are checked against the flows this package knows; a flow it
// does not know (a test's) takes any step, and "flow" is always a step.
func TestThresholdStepsOfKnownFlows(t *testing.T) {
	for _, th := range []string{"signin-password token.password p99 < 1s", "signin-password flow p99 < 1s", "signin-password token.refresh count > 0"} {
		if _, err := ParsePlan([]byte("scenarios: [{flow: signin-password, executor: constant-vus, vus: 1, duration: 1s}]\nthresholds: [\"" + th + "\"]")); err != nil {
			t.Errorf("%s: %v", th, err)
		}
	}
	if _, err := ParsePlan([]byte("scenarios: [{flow: custom, executor: constant-vus, vus: 1, duration: 1s}]\nthresholds: [\"custom any.step p99 < 1s\"]")); err != nil {
		t.Errorf("unknown flow: %v", err)
	}
}
