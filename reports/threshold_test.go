package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseThreshold(t *testing.T) {
	cases := []struct {
		in      string
		want    Threshold
		wantErr string
	}{
		{in: "signin-password token.password p99 < 400ms", want: Threshold{Scenario: "signin-password", Step: "token.password", Metric: "latency", Aggregate: "percentile", Percentile: 99, Op: "<", Value: 400_000}},
		{in: "signup-otp error_rate < 1%", want: Threshold{Scenario: "signup-otp", Metric: "error_rate", Op: "<", Value: 0.01}},
		{in: "dropped == 0", want: Threshold{Metric: "dropped", Op: "=="}},
		{in: "signup-otp flow p95 < 2s", want: Threshold{Scenario: "signup-otp", Step: "flow", Metric: "latency", Aggregate: "percentile", Percentile: 95, Op: "<", Value: 2e6}},
		{in: "rate >= 45/s", want: Threshold{Metric: "rate", Op: ">=", Value: 45}},
		{in: "  sspr   service_p99.9 <=  1.5s ", want: Threshold{Scenario: "sspr", Metric: "latency", Aggregate: "percentile", Percentile: 99.9, Service: true, Op: "<=", Value: 1.5e6}},
		{in: "sspr max != 0s", want: Threshold{Scenario: "sspr", Metric: "latency", Aggregate: "max", Op: "!="}},
		{in: "error_rate <= 0.05", want: Threshold{Metric: "error_rate", Op: "<=", Value: 0.05}},
		{in: "a b.c count > 10", want: Threshold{Scenario: "a", Step: "b.c", Metric: "count", Op: ">", Value: 10}},
		{in: "", wantErr: "want [scenario [step]] metric op value"},
		{in: "p99 <", wantErr: "want [scenario"},
		{in: "a b c p99 < 1s", wantErr: "want [scenario"},
		{in: "p99 =< 1s", wantErr: "operator"},
		{in: "p99 < 400", wantErr: "want a duration"},
		{in: "p0 < 1s", wantErr: "percentile"},
		{in: "p101 < 1s", wantErr: "percentile"},
		{in: "pxx < 1s", wantErr: "unknown metric"},
		{in: "latency < 1s", wantErr: "unknown metric"},
		{in: "error_rate < 150%", wantErr: "percentage"},
		{in: "error_rate < 2", wantErr: "fraction"},
		{in: "rate >= fast", wantErr: "want a rate"},
		{in: "a step rate >= 1/s", wantErr: "not a step"},
		{in: "a step dropped == 0", wantErr: "not a step"},
		{in: "dropped == -1", wantErr: "whole number"},
		{in: "dropped == 1.5", wantErr: "whole number"},
		{in: "a\"b p99 < 1s", wantErr: "invalid characters"},
		{in: "p99 < -1s", wantErr: "duration"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseThreshold(c.in)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.want.Expr = strings.Join(strings.Fields(c.in), " ")
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"signin-password token.password p99 < 400ms", "dropped == 0", "rate >= 45/s", "x error_rate < 1%", "p99.9 < 1s", "a b service_max > 0s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			return
		}
		// Whatever parses must evaluate without panicking, and re-parse to
		// the same threshold from its normalised expression.
		again, err := ParseThreshold(th.Expr)
		if err != nil || again != th {
			t.Fatalf("re-parse of %q: %+v, %v (was %+v)", th.Expr, again, err, th)
		}
		_ = th.Evaluate(sampleLoad(t))
	})
}

// sampleLoad builds a record with known histograms.
func sampleLoad(t testing.TB) *Load {
	t.Helper()
	var flow, step []int64
	for i := int64(1); i <= 100; i++ {
		flow = append(flow, i*10_000) // 10ms..1s
		step = append(step, i*1_000)  // 1ms..100ms
	}
	fe, se := encoded(t, flow...), encoded(t, step...)
	return &Load{Scenarios: []ScenarioResult{{
		Name: "signin-password", Flow: "signin-password", Executor: "constant-arrival-rate",
		Iterations: 100, Expected: 102, Failed: 2, Dropped: 2, Duration: 2 * time.Second,
		FlowStats: &StepStats{Step: "flow", Count: 100, ResponseTime: fe, ServiceTime: fe},
		Steps: []StepStats{{Step: "token.password", Count: 100, ResponseTime: se, ServiceTime: se,
			Outcomes: []OutcomeCount{{HTTPStatus: 200, Count: 87}, {HTTPStatus: 400, Error: "credential_required", Expected: true, Count: 10}, {HTTPStatus: 400, Error: "invalid_grant", Count: 3}}}},
	}}}
}

func TestThresholdEvaluate(t *testing.T) {
	l := sampleLoad(t)
	cases := []struct {
		expr   string
		pass   bool
		actual string
	}{
		{"signin-password token.password p99 < 400ms", true, "99"},
		{"signin-password token.password p99 < 50ms", false, "99"},
		{"signin-password p50 <= 501ms", true, "500"},
		{"signin-password flow max >= 1s", true, "1s"},
		{"signin-password error_rate < 1%", false, "2%"},
		{"signin-password token.password error_rate <= 3%", true, "3%"},
		{"dropped == 0", false, "2"},
		{"failed == 2", true, "2"},
		{"rate >= 45/s", true, "50/s"},
		{"rate >= 51/s", false, "50/s"},
		{"signin-password token.password count == 100", true, "100"},
		{"signin-password nosuch.step p99 < 1s", false, "no samples"},
		{"other p99 < 1s", false, "no scenario"},
	}
	for _, c := range cases {
		th, err := ParseThreshold(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := th.Evaluate(l)
		if got.Passed != c.pass || !strings.Contains(got.Actual, c.actual) || got.Expr != c.expr {
			t.Errorf("%s: got %+v, want passed=%v actual~%q", c.expr, got, c.pass, c.actual)
		}
	}
}

// The summary lists a flow's documented turns apart from its errors: the
// step's errors cell counts only the failures.
func TestSummaryExpectedAnswers(t *testing.T) {
	var out bytes.Buffer
	l := sampleLoad(t)
	if err := WriteLoadSummary(&out, l, JudgeLoad(l)); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	errs, expected, ok := strings.Cut(s, "expected answers (documented turns of the flow, not errors):\n")
	if !ok {
		t.Fatalf("summary has no expected answers:\n%s", s)
	}
	if !strings.Contains(errs, "  errors:\n    token.password: 400 invalid_grant×3\n") || strings.Contains(errs, "credential_required") {
		t.Errorf("errors list wrong:\n%s", s)
	}
	if !strings.HasPrefix(expected, "    token.password: 400 credential_required×10\n") {
		t.Errorf("expected answers wrong:\n%s", s)
	}
	for _, line := range strings.Split(s, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[0] == "token.password" && f[3] != "3" {
			t.Errorf("errors cell of token.password: want 3, got %s in %q", f[3], line)
		}
	}
}
