package backdoor

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func ms(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }

// checkValidate: err is nil when want is, else an error mentioning every
// string of want.
func checkValidate(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Validate() = nil, want an error mentioning %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %q, want it to mention %q", err, w)
		}
	}
}

func TestFaultSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec FaultSpec
		want []string // substrings of the error; nil means valid
	}{
		{"zero", FaultSpec{}, nil},
		{"fixed latency", FaultSpec{Latency: ms(50)}, nil},
		{"distribution", FaultSpec{LatencyP50: ms(20), LatencyP99: ms(200)}, nil},
		{"degenerate distribution", FaultSpec{LatencyP50: ms(20), LatencyP99: ms(20)}, nil},
		{"all rates summing to one", FaultSpec{Rate429: 0.5, Rate503: 0.25, DropRate: 0.25}, nil},
		{"rate one", FaultSpec{Rate429: 1, RetryAfter: Duration(30 * time.Second)}, nil},
		{"negative latency", FaultSpec{Latency: ms(-1)}, []string{"latency", "negative"}},
		{"negative retry_after", FaultSpec{Rate429: 0.1, RetryAfter: ms(-5)}, []string{"retry_after", "negative"}},
		{"rate above one", FaultSpec{Rate503: 1.5}, []string{"rate_503", "outside [0,1]"}},
		{"negative rate", FaultSpec{DropRate: -0.1}, []string{"drop_rate", "outside [0,1]"}},
		{"NaN rate", FaultSpec{Rate429: math.NaN()}, []string{"rate_429", "outside [0,1]"}},
		{"infinite rate", FaultSpec{Rate429: math.Inf(1)}, []string{"rate_429"}},
		{"sum above one", FaultSpec{Rate429: 0.6, Rate503: 0.3, DropRate: 0.2}, []string{"rate_429+rate_503+drop_rate", "exceeds 1"}},
		{"p99 below p50", FaultSpec{LatencyP50: ms(100), LatencyP99: ms(50)}, []string{"latency_p99", "below latency_p50"}},
		{"p99 without p50", FaultSpec{LatencyP99: ms(100)}, []string{"latency_p50", "positive"}},
		{"p50 without p99", FaultSpec{LatencyP50: ms(100)}, []string{"latency_p99", "below"}},
		{"fixed and distribution", FaultSpec{Latency: ms(5), LatencyP50: ms(10), LatencyP99: ms(20)}, []string{"latency", "not both"}},
		{"latency above limit", FaultSpec{Latency: Duration(time.Hour)}, []string{"latency", "exceeds"}},
		{"p99 above limit", FaultSpec{LatencyP50: ms(1), LatencyP99: Duration(time.Hour)}, []string{"latency_p99", "exceeds"}},
		{"long retry_after is fine", FaultSpec{Rate503: 1, RetryAfter: Duration(time.Hour)}, nil},
		{"two problems at once", FaultSpec{Latency: ms(-1), Rate429: 2}, []string{"latency", "rate_429"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkValidate(t, tc.spec.Validate(), tc.want)
		})
	}
}

func TestFaultsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  Faults
		want []string
	}{
		{"empty", Faults{}, nil},
		{"wildcard and endpoint", Faults{Endpoints: map[string]FaultSpec{
			"*": {Latency: ms(5)}, "/oauth2/v2.0/token": {Rate429: 0.1},
		}}, nil},
		{"names the endpoint and field", Faults{Endpoints: map[string]FaultSpec{
			"/oauth2/v2.0/token": {Rate429: 1.1},
		}}, []string{`endpoint "/oauth2/v2.0/token"`, "rate_429"}},
		{"bad key", Faults{Endpoints: map[string]FaultSpec{"oauth2/v2.0/token": {}}}, []string{`endpoint "oauth2/v2.0/token"`, "key must be"}},
		{"every bad endpoint reported", Faults{Endpoints: map[string]FaultSpec{
			"*":                  {DropRate: 2},
			"/signup/v1.0/start": {LatencyP50: ms(10), LatencyP99: ms(1)},
		}}, []string{`endpoint "*"`, "drop_rate", `endpoint "/signup/v1.0/start"`, "latency_p99"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkValidate(t, tc.set.Validate(), tc.want)
		})
	}
}

func TestFaultsFor(t *testing.T) {
	token := FaultSpec{Rate429: 0.5}
	star := FaultSpec{Latency: ms(10)}
	both := Faults{Endpoints: map[string]FaultSpec{"/oauth2/v2.0/token": token, "*": star}}
	exactOnly := Faults{Endpoints: map[string]FaultSpec{"/oauth2/v2.0/token": token}}
	for _, tc := range []struct {
		name     string
		set      Faults
		endpoint string
		want     FaultSpec
		ok       bool
	}{
		{"exact wins over wildcard", both, "/oauth2/v2.0/token", token, true},
		{"wildcard for others", both, "/signup/v1.0/start", star, true},
		{"no wildcard, other endpoint", exactOnly, "/signup/v1.0/start", FaultSpec{}, false},
		{"nil map", Faults{}, "/oauth2/v2.0/token", FaultSpec{}, false},
		{"match is exact, not prefix", exactOnly, "/oauth2/v2.0/token/x", FaultSpec{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.set.For(tc.endpoint)
			if got != tc.want || ok != tc.ok {
				t.Errorf("For(%q) = %+v, %v; want %+v, %v", tc.endpoint, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Duration
		wantErr bool
	}{
		{`"50ms"`, ms(50), false},
		{`"1.5s"`, Duration(1500 * time.Millisecond), false},
		{`" 2m "`, Duration(2 * time.Minute), false},
		{`"0"`, 0, false},
		{`50`, 0, true},
		{`"fast"`, 0, true},
		{`null`, 0, true},
		{`{}`, 0, true},
	} {
		var d Duration
		err := json.Unmarshal([]byte(tc.in), &d)
		if (err != nil) != tc.wantErr || (!tc.wantErr && d != tc.want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v, error %v", tc.in, d, err, tc.want, tc.wantErr)
		}
	}
	b, err := json.Marshal(FaultSpec{Latency: ms(50), RetryAfter: Duration(2 * time.Second), Rate429: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"latency":"50ms","rate_429":0.1,"retry_after":"2s"}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
}

func TestFaultsYAMLRoundTrip(t *testing.T) {
	src := `
endpoints:
  "*":
    latency_p50: 20ms
    latency_p99: 250ms
  /oauth2/v2.0/token:
    latency: 0
    rate_429: 0.05
    retry_after: 1500ms
    rate_503: 0.01
    drop_rate: 0.001
`
	var s Faults
	if err := yaml.Unmarshal([]byte(src), &s); err != nil {
		t.Fatalf("yaml.Unmarshal: %v", err)
	}
	want := Faults{Endpoints: map[string]FaultSpec{
		"*":                  {LatencyP50: ms(20), LatencyP99: ms(250)},
		"/oauth2/v2.0/token": {Rate429: 0.05, RetryAfter: ms(1500), Rate503: 0.01, DropRate: 0.001},
	}}
	if len(s.Endpoints) != len(want.Endpoints) {
		t.Fatalf("decoded %+v, want %+v", s, want)
	}
	for k, v := range want.Endpoints {
		if s.Endpoints[k] != v {
			t.Errorf("endpoint %q = %+v, want %+v", k, s.Endpoints[k], v)
		}
	}
	out, err := yaml.Marshal(s)
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	var again Faults
	if err := yaml.Unmarshal(out, &again); err != nil {
		t.Fatalf("re-read %s: %v", out, err)
	}
	for k, v := range want.Endpoints {
		if again.Endpoints[k] != v {
			t.Errorf("round trip endpoint %q = %+v, want %+v", k, again.Endpoints[k], v)
		}
	}
	for _, bad := range []string{"latency: 50", "latency: fast", "latency: [1]"} {
		var sp FaultSpec
		if err := yaml.Unmarshal([]byte(bad), &sp); err == nil {
			t.Errorf("yaml %q decoded to %+v, want an error", bad, sp)
		}
	}
}

// FuzzFaultsJSON feeds arbitrary JSON to the Faults decoder and Validate: neither
// may panic, and a Faults that validates must be usable by For and latency.
func FuzzFaultsJSON(f *testing.F) {
	f.Add([]byte(`{"endpoints":{"*":{"latency":"50ms","rate_429":0.1}}}`))
	f.Add([]byte(`{"endpoints":{"/oauth2/v2.0/token":{"latency_p50":"1ms","latency_p99":"10m","drop_rate":1}}}`))
	f.Add([]byte(`{"endpoints":{"x":{"rate_503":-1,"retry_after":"-1s"}}}`))
	f.Add([]byte(`{"endpoints":null}`))
	f.Add([]byte(`{"endpoints":{"*":{"latency":50}}}`))
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodedFaults(t, json.Unmarshal, b) })
}

// checkDecodedFaults decodes b with unmarshal: a Faults that validates must
// be usable by For and LatencyAt.
func checkDecodedFaults(t *testing.T, unmarshal func([]byte, any) error, b []byte) {
	t.Helper()
	var s Faults
	if err := unmarshal(b, &s); err != nil {
		return
	}
	if err := s.Validate(); err != nil {
		return
	}
	for k := range s.Endpoints {
		sp, ok := s.For(k)
		if !ok {
			t.Fatalf("For(%q) missed a key of the set", k)
		}
		for _, z := range []float64{-40, 0, 40} {
			if d := sp.LatencyAt(z); d < 0 || d > MaxFaultLatency {
				t.Fatalf("latency(%v) = %v for valid spec %+v", z, d, sp)
			}
		}
	}
}

// FuzzFaultsYAML is FuzzFaultsJSON for fault files written in YAML.
func FuzzFaultsYAML(f *testing.F) {
	f.Add([]byte("endpoints:\n  \"*\":\n    latency: 50ms\n    rate_429: 0.1\n"))
	f.Add([]byte("endpoints:\n  /oauth2/v2.0/token: {latency_p50: 1ms, latency_p99: 2s, retry_after: 3s}\n"))
	f.Add([]byte("endpoints:\n  x: {latency: [1, 2]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodedFaults(t, yaml.Unmarshal, b) })
}
