package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// conformanceRecord is a small conformance run with every outcome and
// redacted evidence.
func conformanceRecord() *Record {
	r := NewRecord(KindConformance, Tool{Name: "ciamcheck", Version: "v0.9.0", GoVersion: "go1.26"},
		Target{Kind: "emulator", BaseURL: "http://127.0.0.1:4010", Tenant: "contoso", ClientID: "00000000-0000-0000-0000-000000000001", ProfileHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})
	r.StartedAt, r.EndedAt = t0, t0.Add(42*time.Second)
	r.RunID = "conformance-fixture" // the golden files hold the digest
	r.Conformance.LabelFilter = "flow:signup"
	r.Conformance.Focus = []string{"signup"}
	r.Conformance.Entries = []EntryResult{
		{ID: "signup.start.ok", Source: "native-auth-email-password-api.txt#sign-up-start", Outcome: OutcomePassed,
			Sources: []SourceRef{NewSourceRef("", "native-auth-email-password-api", "Sign-up API reference / Sign-up start", "Sign-up start"), {Text: "signup-error-codes § 50181"}},
			Flows:   []string{"signup"}, Endpoint: "signup.start", EntryKind: "success",
			Specs: []string{"sign-up start answers a continuation token"}, Duration: 120 * time.Millisecond,
			Evidence: []Exchange{{Method: "POST", Path: "/contoso.onmicrosoft.com/signup/v1.0/start",
				Form:   map[string]string{"client_id": "00000000-0000-0000-0000-000000000001", "username": "a@b.example", "password": RedactedValue, "challenge_type": "oob password redirect"},
				Status: 200, Headers: map[string]string{"Content-Type": "application/json"},
				Body: `{"continuation_token":"[redacted]"}`, DurationNS: 3 * time.Millisecond}}},
		{ID: "signup.start.error.user_already_exists", Source: "signup-error-codes.txt#user_already_exists", Outcome: OutcomeFailed,
			Reason:   "status: want 400, got 500 <script>alert(1)</script>",
			Duration: 80 * time.Millisecond,
			Evidence: []Exchange{{Method: "POST", Path: "/contoso.onmicrosoft.com/signup/v1.0/start", Status: 500,
				Body: `{"error":"server_error","error_description":"AADSTS500011 & <oops><script>alert('evidence')</script>"}`, DurationNS: 2 * time.Millisecond}}},
		{ID: "signup.challenge.error.expired_token", Source: "native-auth-email-otp-api.txt#expired-token", Outcome: OutcomeSkipped,
			Reason: "needs the emulator clock backdoor"},
	}
	return r
}

// hist records n values spread from lo to lo+spread microseconds.
func hist(t testing.TB, lo, spread, n int64) Histogram {
	t.Helper()
	values := make([]int64, n)
	for i := range values {
		values[i] = lo + (int64(i)*7919)%spread
	}
	return encoded(t, values...)
}

// encoded is the Histogram of values (microseconds).
func encoded(t testing.TB, values ...int64) Histogram {
	t.Helper()
	h := hdrhistogram.New(1, 3_600_000_000, 3)
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// loadRecord is a load run of one scenario with two steps, with real
// histograms; scale multiplies latencies, so two records can be compared.
func loadRecord(t testing.TB, scale int64) *Record {
	t.Helper()
	r := NewRecord(KindLoad, Tool{Name: "ciamcheck", Version: "v0.9.0"},
		Target{Kind: "emulator", BaseURL: "http://127.0.0.1:4010", Tenant: "contoso", ProfileHash: "abc123"})
	r.StartedAt, r.EndedAt = t0, t0.Add(10*time.Second)
	r.RunID = fmt.Sprintf("load-fixture-%d", scale)
	r.Load.Plan = json.RawMessage(`{"scenarios":[{"name":"signup","flow":"signup","executor":"constant-arrival-rate","rate":50}]}`)
	r.Load.Scenarios = []ScenarioResult{{
		Name: "signup", Flow: "signup", Executor: "constant-arrival-rate",
		Iterations: 500, Expected: 502, Failed: 7, Dropped: 2, Throttled: 3, Duration: 10 * time.Second,
		FlowStats: &StepStats{Step: "flow", Count: 500, Outcomes: []OutcomeCount{{HTTPStatus: 200, Count: 493}, {HTTPStatus: 400, Error: "invalid_grant", Suberror: "invalid_oob_value", Count: 7}},
			ServiceTime: hist(t, 9000*scale, 4000*scale, 500), ResponseTime: hist(t, 9500*scale, 4000*scale, 500)},
		Steps: []StepStats{
			{Step: "signup.start", Count: 500, Outcomes: []OutcomeCount{{HTTPStatus: 200, Count: 487}, {HTTPStatus: 400, Error: "attributes_required", Expected: true, Count: 10}, {HTTPStatus: 429, Count: 3}},
				ServiceTime: hist(t, 2000*scale, 1000*scale, 500), ResponseTime: hist(t, 2100*scale, 1000*scale, 500)},
			{Step: "signup.challenge", Count: 497, Outcomes: []OutcomeCount{{HTTPStatus: 200, Count: 490}, {HTTPStatus: 400, Error: "invalid_grant", Suberror: "invalid_oob_value", Count: 7}},
				ServiceTime: hist(t, 3000*scale, 2000*scale, 497), ResponseTime: hist(t, 3100*scale, 2000*scale, 497)},
		},
	}}
	r.Load.Scenarios[0].Intervals = intervals(t0, 10, scale)
	r.Load.PlanThresholds = []string{"signup signup.start p99 < 5ms", "signup error_rate < 1%"}
	r.Load.Thresholds = JudgeLoad(r.Load).Thresholds
	return r
}

// mustMarshal is r as written to a file.
func mustMarshal(t testing.TB, r *Record) []byte {
	t.Helper()
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readBack is r written and read back, with the bytes written.
func readBack(t testing.TB, r *Record) (*Record, []byte) {
	t.Helper()
	b := mustMarshal(t, r)
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return back, b
}

// part is r as report merge reads it: written, read back, with the digest
// of its bytes.
func part(t testing.TB, source string, r *Record) Part {
	t.Helper()
	back, b := readBack(t, r)
	sum := sha256.Sum256(b)
	return Part{Source: source, SHA256: hex.EncodeToString(sum[:]), Record: back}
}

// intervals is a timeline of n one-second intervals from start at 50/s,
// with a slow, failing, throttled patch in the middle; scale multiplies
// latencies as loadRecord's does.
func intervals(start time.Time, n int, scale int64) []Interval {
	out := make([]Interval, n)
	for i := range out {
		slow := int64(1)
		iv := Interval{Start: start.Add(time.Duration(i) * time.Second), Span: time.Second, TargetRate: 50, Iterations: 50}
		if i == n/2 {
			slow, iv.Iterations, iv.Failed, iv.Dropped, iv.Throttled = 3, 43, 7, 2, 3
		}
		iv.Steps = []IntervalStep{
			{Step: FlowStep, Count: iv.Iterations, Errors: iv.Failed, P50: 11000 * scale * slow, P90: 12500 * scale * slow, P99: 13400 * scale * slow, Max: 13500 * scale * slow},
			{Step: "signup.start", Count: iv.Iterations, Throttled: iv.Throttled, P50: 2600 * scale * slow, P90: 3000 * scale * slow, P99: 3090 * scale * slow, Max: 3100 * scale * slow},
		}
		out[i] = iv
	}
	return out
}
