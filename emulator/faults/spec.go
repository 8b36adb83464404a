// Package faults injects faults into the emulator's answers to rehearse load
// and resilience: added latency (fixed or log-normal), 429 with Retry-After,
// 503, and connections closed without an answer.
//
// A Set maps endpoint paths to a Spec and is plain data (JSON and YAML); an
// Injector applies the current Set to each request and can be given a new Set
// at run time without a lock on the request path.
package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as text ("50ms", "1.5s") in JSON and
// YAML, so fault files read the way people think about latency.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the duration as text.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads duration text.
func (d *Duration) UnmarshalText(b []byte) error { return d.parse(string(b)) }

// UnmarshalJSON reads a JSON string of duration text. A bare number is
// refused rather than read as nanoseconds: "latency": 50 almost always means
// 50ms, and guessing would hide the mistake.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"50ms\", got %s", truncate(string(b)))
	}
	return d.parse(s)
}

// MarshalYAML writes the duration as text.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads duration text. "0" is accepted, as time.ParseDuration
// accepts it; other bare numbers fail for the reason given at UnmarshalJSON.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: duration must be a scalar like \"50ms\"", n.Line)
	}
	if err := d.parse(n.Value); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

func (d *Duration) parse(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("parse duration %q: %w", truncate(s), err)
	}
	*d = Duration(v)
	return nil
}

func truncate(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// Spec is the faults applied to one endpoint. Rates are shares of requests in
// [0,1]; at most one of 429, 503 or drop happens to a request, so their sum is
// at most 1. Latency is added before the answer, faulted or not.
type Spec struct {
	Latency    Duration `json:"latency,omitempty" yaml:"latency,omitempty"`         // fixed added latency
	LatencyP50 Duration `json:"latency_p50,omitempty" yaml:"latency_p50,omitempty"` // or a distribution given by p50 and p99 (log-normal fitted to them)
	LatencyP99 Duration `json:"latency_p99,omitempty" yaml:"latency_p99,omitempty"`
	Rate429    float64  `json:"rate_429,omitempty" yaml:"rate_429,omitempty"`       // share of requests answered 429
	RetryAfter Duration `json:"retry_after,omitempty" yaml:"retry_after,omitempty"` // Retry-After on 429/503 (seconds, rounded up; default 1s)
	Rate503    float64  `json:"rate_503,omitempty" yaml:"rate_503,omitempty"`
	DropRate   float64  `json:"drop_rate,omitempty" yaml:"drop_rate,omitempty"` // share of connections closed without an answer (http.Hijacker)
}

// IsZero reports whether the Spec injects nothing.
func (s Spec) IsZero() bool { return s == Spec{} }

// Validate checks one Spec; errors name the field by its JSON/YAML name.
func (s Spec) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    Duration
	}{{"latency", s.Latency}, {"latency_p50", s.LatencyP50}, {"latency_p99", s.LatencyP99}, {"retry_after", s.RetryAfter}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %v is negative", d.name, d.v))
		}
		// A latency beyond every client timeout is a typo, not a rehearsal.
		if d.name != "retry_after" && d.v.D() > maxLatency {
			errs = append(errs, fmt.Errorf("%s: %v exceeds the %v limit", d.name, d.v, maxLatency))
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

// Set is the faults of every endpoint. A key is an endpoint path below the
// tenant base URL ("/oauth2/v2.0/token") or "*" for every endpoint without
// its own key.
type Set struct {
	Endpoints map[string]Spec `json:"endpoints" yaml:"endpoints"`
}

// Wildcard is the Set key that applies to endpoints without their own key.
const Wildcard = "*"

// Validate checks every Spec and key. Errors name the endpoint and field, and
// all problems are reported at once so a fault file is fixed in one go.
func (s Set) Validate() error {
	keys := make([]string, 0, len(s.Endpoints))
	for k := range s.Endpoints {
		keys = append(keys, k)
	}
	sort.Strings(keys) // stable error text
	var errs []error
	for _, k := range keys {
		if k != Wildcard && !strings.HasPrefix(k, "/") {
			errs = append(errs, fmt.Errorf("endpoint %q: key must be a path starting with \"/\" or %q", truncate(k), Wildcard))
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

// For returns the Spec for an endpoint: its own key if present, else the
// wildcard's. The bool is false when neither exists.
func (s Set) For(endpoint string) (Spec, bool) {
	if sp, ok := s.Endpoints[endpoint]; ok {
		return sp, true
	}
	sp, ok := s.Endpoints[Wildcard]
	return sp, ok
}

// z99 is the standard normal quantile at 0.99, used to fit a log-normal to a
// p50 and a p99.
const z99 = 2.3263478740408408

// latency draws the added latency for one request given a standard normal
// variate z: fixed, or log-normal with median p50 and 99th percentile p99
// (mu = ln p50, sigma = ln(p99/p50)/z99).
func (s Spec) latency(z float64) time.Duration {
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
	if limit := float64(maxLatency); v > limit {
		v = limit
	}
	return time.Duration(v)
}

// maxLatency caps a single drawn latency.
const maxLatency = 10 * time.Minute
