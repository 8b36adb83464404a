package backdoor

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// FaultSpec is the faults applied to one endpoint. Rates are shares of requests in
// [0,1]; at most one of 429, 503 or drop happens to a request, so their sum is
// at most 1. Latency is added before the answer, faulted or not.
type FaultSpec struct {
	Latency    Duration `json:"latency,omitempty" yaml:"latency,omitempty"`         // fixed added latency
	LatencyP50 Duration `json:"latency_p50,omitempty" yaml:"latency_p50,omitempty"` // or a distribution given by p50 and p99 (log-normal fitted to them)
	LatencyP99 Duration `json:"latency_p99,omitempty" yaml:"latency_p99,omitempty"`
	Rate429    float64  `json:"rate_429,omitempty" yaml:"rate_429,omitempty"`       // share of requests answered 429
	RetryAfter Duration `json:"retry_after,omitempty" yaml:"retry_after,omitempty"` // Retry-After on 429/503 (seconds, rounded up; default 1s)
	Rate503    float64  `json:"rate_503,omitempty" yaml:"rate_503,omitempty"`
	DropRate   float64  `json:"drop_rate,omitempty" yaml:"drop_rate,omitempty"` // share of connections closed without an answer (http.Hijacker)
}

// IsZero reports whether the FaultSpec injects nothing.
func (s FaultSpec) IsZero() bool { return s == FaultSpec{} }

// Validate checks one FaultSpec; errors name the field by its JSON/YAML name.
func (s FaultSpec) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    Duration
	}{{"latency", s.Latency}, {"latency_p50", s.LatencyP50}, {"latency_p99", s.LatencyP99}, {"retry_after", s.RetryAfter}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %v is negative", d.name, d.v))
		}
		// A latency beyond every client timeout is a typo, not a rehearsal.
		if d.name != "retry_after" && d.v.D() > MaxFaultLatency {
			errs = append(errs, fmt.Errorf("%s: %v exceeds the %v limit", d.name, d.v, MaxFaultLatency))
		}
	}
	if s.Latency != 0 && (s.LatencyP50 != 0 || s.LatencyP99 != 0) {
		errs = append(errs, errors.New("latency: set either a fixed latency or latency_p50/latency_p99, not both"))
	}
	if s.LatencyP50 != 0 || s.LatencyP99 != 0 {
		switch {
		case s.LatencyP50 <= 0:
			errs = append(errs, errors.New("latency_p50: must be positive when latency_p99 is set"))
		case s.LatencyP99 < s.LatencyP50:
			errs = append(errs, fmt.Errorf("latency_p99: %v is below latency_p50 %v", s.LatencyP99, s.LatencyP50))
		}
	}
	rates := []struct {
		name string
		v    float64
	}{{"rate_429", s.Rate429}, {"rate_503", s.Rate503}, {"drop_rate", s.DropRate}}
	sum, ok := 0.0, true
	for _, r := range rates {
		// Written so that NaN fails too.
		if !(r.v >= 0 && r.v <= 1) {
			errs = append(errs, fmt.Errorf("%s: %v is outside [0,1]", r.name, r.v))
			ok = false
		}
		sum += r.v
	}
	if ok && sum > 1+1e-9 {
		errs = append(errs, fmt.Errorf("rate_429+rate_503+drop_rate: %v exceeds 1", sum))
	}
	return errors.Join(errs...)
}

// Faults is the fault set: the faults of every endpoint, as GET and PUT
// faults and the config's faults key carry it. A key is an endpoint path below the
// tenant base URL ("/oauth2/v2.0/token") or "*" for every endpoint without
// its own key.
type Faults struct {
	Endpoints map[string]FaultSpec `json:"endpoints" yaml:"endpoints"`
}

// FaultWildcard is the Faults key that applies to endpoints without their own key.
const FaultWildcard = "*"

// Validate checks every FaultSpec and key. Errors name the endpoint and field, and
// all problems are reported at once so a fault file is fixed in one go.
func (s Faults) Validate() error {
	keys := make([]string, 0, len(s.Endpoints))
	for k := range s.Endpoints {
		keys = append(keys, k)
	}
	sort.Strings(keys) // stable error text
	var errs []error
	for _, k := range keys {
		if k != FaultWildcard && !strings.HasPrefix(k, "/") {
			errs = append(errs, fmt.Errorf("endpoint %q: key must be a path starting with \"/\" or %q", truncate(k), FaultWildcard))
			continue
		}
		if err := s.Endpoints[k].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("endpoint %q: %w", k, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid fault set: %w", err)
	}
	return nil
}

// For returns the FaultSpec for an endpoint: its own key if present, else the
// wildcard's. The bool is false when neither exists.
func (s Faults) For(endpoint string) (FaultSpec, bool) {
	if sp, ok := s.Endpoints[endpoint]; ok {
		return sp, true
	}
	sp, ok := s.Endpoints[FaultWildcard]
	return sp, ok
}

// z99 is the standard normal quantile at 0.99, used to fit a log-normal to a
// p50 and a p99.
const z99 = 2.3263478740408408

// LatencyAt is the added latency for one request given a standard normal
// variate z: fixed, or log-normal with median p50 and 99th percentile p99
// (mu = ln p50, sigma = ln(p99/p50)/z99).
func (s FaultSpec) LatencyAt(z float64) time.Duration {
	if s.LatencyP50 <= 0 {
		return s.Latency.D()
	}
	p50 := float64(s.LatencyP50)
	if s.LatencyP99 <= s.LatencyP50 {
		return s.LatencyP50.D()
	}
	sigma := math.Log(float64(s.LatencyP99)/p50) / z99
	v := p50 * math.Exp(sigma*z)
	// The tail is unbounded; cap it so one draw cannot stall a worker for
	// hours (z > 8 is ~1e-15 likely, but a hand-written p99 can be huge).
	if limit := float64(MaxFaultLatency); v > limit {
		v = limit
	}
	return time.Duration(v)
}

// MaxFaultLatency caps a single drawn latency, and any configured one.
const MaxFaultLatency = 10 * time.Minute
