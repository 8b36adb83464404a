package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// benchHistogram is a latency histogram with n values spread log-uniformly
// from 100 µs to 10 s, so it fills many buckets as a real run does.
func benchHistogram(b testing.TB, seed uint64, n int) *hdrhistogram.Histogram {
	b.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	h := hdrhistogram.New(1, 60_000_000, 3)
	for range n {
		v := int64(100 * math.Pow(10, rng.Float64()*5))
		if err := h.RecordValue(v); err != nil {
			b.Fatal(err)
		}
	}
	return h
}

// bigConformanceRecord has n entries, each with a spec text and four
// exchanges of evidence shaped like the suites' (form, headers, JSON body).
func bigConformanceRecord(n int) *Record {
	r := conformanceRecord()
	r.Conformance.Entries = make([]EntryResult, n)
	for i := range r.Conformance.Entries {
		e := EntryResult{
			ID:       fmt.Sprintf("signup.continue.error.invalid_grant.case_%03d", i),
			Source:   "native-auth-email-password-api § Sign-up API reference / Step 3: Submit the one-time passcode / Error response",
			Outcome:  OutcomePassed,
			Specs:    []string{fmt.Sprintf("catalog /signup/v1.0/continue [catalog:case_%03d] answers invalid_grant for a wrong code", i)},
			Duration: time.Duration(5+i%40) * time.Millisecond,
		}
		switch i % 25 {
		case 7:
			e.Outcome, e.Reason = OutcomeFailed, "suberror: want invalid_oob_value, got \"\"\n  at suites/conformance/table.go:212"
		case 13:
			e.Outcome, e.Reason = OutcomeSkipped, "needs the emulator clock backdoor"
		}
		for j := range 4 {
			e.Evidence = append(e.Evidence, Exchange{
				Method: "POST", Path: fmt.Sprintf("/contoso.onmicrosoft.com/signup/v1.0/step%d", j),
				Form: map[string]string{
					"client_id": "00000000-0000-4000-8000-00000000c1a0", "continuation_token": RedactedValue,
					"grant_type": "oob", "oob": RedactedValue, "username": fmt.Sprintf("ciam+%d-%d@example.com", i, j),
				},
				Status: 400,
				Headers: map[string]string{
					"Content-Type": "application/json; charset=utf-8", "X-Ms-Request-Id": "e5aac4bd-c0cc-4975-8fbb-36ea970ed4b2",
				},
				Body: `{"error":"invalid_grant","error_description":"AADSTS50181: Unable to validate the one-time passcode.",` +
					`"error_codes":[50181],"suberror":"invalid_oob_value","timestamp":"2025-03-14 09:26:53Z",` +
					`"trace_id":"0cc67b80-ea5d-4fa3-859c-3bf18960bfb8","correlation_id":"fe767579-39d3-4164-914a-8cb1595fc966"}`,
				DurationNS: time.Duration(300+j*100) * time.Microsecond,
			})
		}
		r.Conformance.Entries[i] = e
	}
	return r
}

// bigLoadRecord has 3 scenarios of 10 steps (flow included), each step with
// service and response histograms of perStep values: 30 steps, 60 histograms.
func bigLoadRecord(b testing.TB, perStep int, seed uint64) *Record {
	b.Helper()
	r := loadRecord(b, 1)
	r.Load.Plan = json.RawMessage(`{"name":"bench","scenarios":[{"name":"s0"},{"name":"s1"},{"name":"s2"}]}`)
	r.Load.Scenarios = nil
	for s := range 3 {
		sc := ScenarioResult{Name: fmt.Sprintf("s%d", s), Flow: "signup-otp", Executor: "constant-arrival-rate",
			Iterations: int64(perStep), Duration: time.Minute}
		for st := range 10 {
			enc := func(k uint64) Histogram {
				h, err := EncodeHistogram(benchHistogram(b, seed+uint64(s*100+st*10)+k, perStep))
				if err != nil {
					b.Fatal(err)
				}
				return h
			}
			step := StepStats{Step: fmt.Sprintf("step.%d", st), Count: int64(perStep),
				Outcomes:    []OutcomeCount{{HTTPStatus: 200, Count: int64(perStep) - 3}, {HTTPStatus: 400, Error: "invalid_grant", Suberror: "invalid_oob_value", Count: 3}},
				ServiceTime: enc(1), ResponseTime: enc(2)}
			if st == 0 {
				step.Step = "flow"
				sc.FlowStats = &step
				continue
			}
			sc.Steps = append(sc.Steps, step)
		}
		r.Load.Scenarios = append(r.Load.Scenarios, sc)
	}
	return r
}

func BenchmarkEncodeHistogram(b *testing.B) {
	h := benchHistogram(b, 1, 100_000)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		enc, err := EncodeHistogram(h)
		if err != nil {
			b.Fatal(err)
		}
		size = len(enc.Encoded)
	}
	b.ReportMetric(float64(size), "encoded-bytes")
}

func BenchmarkDecodeHistogram(b *testing.B) {
	enc, err := EncodeHistogram(benchHistogram(b, 1, 100_000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeHistogram(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func benchWriteRead(b *testing.B, r *Record) {
	b.Setenv(RecordKeyEnv, "")
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, r); err != nil {
			b.Fatal(err)
		}
		if _, err := Read(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteReadConformance: 150 entries with four exchanges each,
// sealed (Write validates, scans for secrets, digests) and read back
// (decode, validate, re-digest).
func BenchmarkWriteReadConformance(b *testing.B) { benchWriteRead(b, bigConformanceRecord(150)) }

// BenchmarkWriteReadLoad: 30 steps with 60 histograms of 10,000 values.
func BenchmarkWriteReadLoad(b *testing.B) { benchWriteRead(b, bigLoadRecord(b, 10_000, 1)) }

func BenchmarkCompareLoad(b *testing.B) {
	old, cur := bigLoadRecord(b, 10_000, 1), bigLoadRecord(b, 10_000, 7)
	b.ReportAllocs()
	for b.Loop() {
		if c := Compare(old, cur); c.Problem != "" {
			b.Fatal(c.Problem)
		}
	}
}

func BenchmarkCompareConformance(b *testing.B) {
	old, cur := bigConformanceRecord(150), bigConformanceRecord(150)
	cur.Conformance.Entries[3].Outcome, cur.Conformance.Entries[3].Reason = OutcomeFailed, "x"
	b.ReportAllocs()
	for b.Loop() {
		if c := Compare(old, cur); len(c.Regressions) != 1 {
			b.Fatalf("regressions: %+v", c.Regressions)
		}
	}
}

func BenchmarkRenderHTMLConformance(b *testing.B) {
	r := bigConformanceRecord(150)
	b.Setenv(RecordKeyEnv, "")
	if err := Seal(r); err != nil {
		b.Fatal(err)
	}
	benchRender(b, r, RenderHTML)
}

func BenchmarkRenderHTMLLoad(b *testing.B) {
	benchRender(b, bigLoadRecord(b, 10_000, 1), RenderHTML)
}

func BenchmarkRenderTextLoad(b *testing.B) {
	benchRender(b, bigLoadRecord(b, 10_000, 1), RenderText)
}

func benchRender(b *testing.B, r *Record, render func(io.Writer, *Record) error) {
	var cw countWriter
	if err := render(&cw, r); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(cw))
	b.ReportAllocs()
	for b.Loop() {
		if err := render(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
