// Package faults injects faults into the emulator's answers to rehearse load
// and resilience: added latency (fixed or log-normal), 429 with Retry-After,
// 503, and connections closed without an answer.
//
// The fault set is plain data, backdoor.Faults (JSON and YAML); an Injector
// applies the current set to each request and can be given a new set at run
// time without a lock on the request path.
package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Injector applies a fault set to requests. It is safe for concurrent use: the set
// is swapped atomically, and the random source is a counter-based generator
// (SplitMix64) that needs no lock, so a sequence of requests from one
// goroutine is reproducible from the seed.
type Injector struct {
	set     atomic.Pointer[backdoor.Faults]
	seed    uint64
	counter atomic.Uint64

	// sleep and now are replaced by tests so they never really wait.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time

	delayed, throttled, unavailable, dropped, canceled atomic.Int64
}

// Stats counts what an Injector has done since it was made.
type Stats struct {
	Delayed     int64 // requests given added latency
	Throttled   int64 // answered 429
	Unavailable int64 // answered 503
	Dropped     int64 // connections closed without an answer
	Canceled    int64 // requests whose context ended during added latency
}

// NewInjector returns an Injector applying set, drawing from a generator
// seeded with seed. The set is used as given; call Validate first (or use
// Set, which does) when it comes from a user.
func NewInjector(set backdoor.Faults, seed int64) *Injector {
	in := &Injector{seed: uint64(seed), sleep: sleepContext, now: time.Now}
	in.set.Store(&set)
	return in
}

// Set validates s and, when valid, makes it the set for requests that start
// from now on.
func (in *Injector) Set(s backdoor.Faults) error {
	if err := s.Validate(); err != nil {
		return err
	}
	in.set.Store(&s)
	return nil
}

// Get returns the current set. Its map is shared with the Injector: treat it
// as read-only and build a new set to change it.
func (in *Injector) Get() backdoor.Faults { return *in.set.Load() }

// Stats returns the counts so far.
func (in *Injector) Stats() Stats {
	return Stats{
		Delayed:     in.delayed.Load(),
		Throttled:   in.throttled.Load(),
		Unavailable: in.unavailable.Load(),
		Dropped:     in.dropped.Load(),
		Canceled:    in.canceled.Load(),
	}
}

// Wrap applies the endpoint's faults, then calls next unless the fault
// answered or dropped the request.
//
// Latency comes first and honours r.Context(): when the client goes away
// during it, Wrap returns without answering. Then at most one of 429, 503 or
// drop happens, drawn with the spec's rates. A 429 or 503 answers the pages'
// error body with error temporarily_unavailable and a Retry-After header in
// whole seconds. A drop hijacks and closes the connection; where the
// ResponseWriter cannot be hijacked (HTTP/2, a recorder) it aborts the
// handler with http.ErrAbortHandler, which net/http turns into a reset stream
// or closed connection and never logs.
func (in *Injector) Wrap(endpoint string, w http.ResponseWriter, r *http.Request, next func(http.ResponseWriter, *http.Request)) {
	spec, ok := in.set.Load().For(endpoint)
	if !ok || spec.IsZero() {
		next(w, r)
		return
	}
	if d := in.latency(spec); d > 0 {
		in.delayed.Add(1)
		if err := in.sleep(r.Context(), d); err != nil {
			in.canceled.Add(1)
			return
		}
	}
	u := in.uniform()
	switch {
	case u < spec.Rate429:
		in.throttled.Add(1)
		in.answer(w, r, http.StatusTooManyRequests, spec.RetryAfter, nativeauth.CodeThrottled,
			"The server terminated an operation because it encountered a loop while processing a request.")
	case u < spec.Rate429+spec.Rate503:
		in.unavailable.Add(1)
		in.answer(w, r, http.StatusServiceUnavailable, spec.RetryAfter, nativeauth.CodeServiceUnavailable,
			"A transient error has occurred. Please try again.")
	case u < spec.Rate429+spec.Rate503+spec.DropRate:
		in.dropped.Add(1)
		drop(w, endpoint)
	default:
		next(w, r)
	}
}

// ErrorBody is the members every error body of the pages carries (see
// "Error response" in the reference); the emulator's handlers add the
// suberror and the rest to it.
type ErrorBody struct {
	Error            nativeauth.ErrorCode `json:"error"`
	ErrorDescription string               `json:"error_description"`
	ErrorCodes       []int                `json:"error_codes"`
	Timestamp        string               `json:"timestamp"`
	TraceID          string               `json:"trace_id"`
	CorrelationID    string               `json:"correlation_id"`
}

// TimestampLayout is the pages' "yyyy-mm-dd 10:15:00Z".
const TimestampLayout = "2006-01-02 15:04:05Z"

// NewErrorBody is the body of error e with code and message msg. The
// description carries the trace, correlation and time lines the same way
// Entra does, since SDKs and people read them from there.
func NewErrorBody(e nativeauth.ErrorCode, code int, msg string, now time.Time, traceID, correlationID string) ErrorBody {
	ts := now.UTC().Format(TimestampLayout)
	return ErrorBody{
		Error: e,
		ErrorDescription: fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			code, msg, traceID, correlationID, ts),
		ErrorCodes:    []int{code},
		Timestamp:     ts,
		TraceID:       traceID,
		CorrelationID: correlationID,
	}
}

// defaultRetryAfter is sent when the spec leaves retry_after unset: the
// header is what clients back off on, so it is never left out.
const defaultRetryAfter = time.Second

func (in *Injector) answer(w http.ResponseWriter, r *http.Request, status int, retryAfter backdoor.Duration, code int, msg string) {
	h := w.Header()
	// Keep the request's trace ID when the emulator already assigned one.
	traceID := h.Get("x-ms-request-id")
	if traceID == "" {
		traceID = uuid.NewString()
		h.Set("x-ms-request-id", traceID)
	}
	// Likewise the correlation ID: both IDs are on every answer, and the
	// body's correlation_id matches the header.
	correlation := h.Get("client-request-id")
	if correlation == "" {
		if correlation = ClientRequestID(r); correlation == "" {
			correlation = uuid.NewString()
		}
		h.Set("client-request-id", correlation)
	}
	body, err := json.Marshal(NewErrorBody(nativeauth.ErrTemporarilyUnavailable, code, msg, in.now(), traceID, correlation))
	if err != nil {
		// Unreachable with these field types; answer the status regardless.
		slog.Error("faults: marshal error body", "err", err)
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Retry-After", retryAfterSeconds(retryAfter))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// retryAfterSeconds formats Retry-After as delay-seconds (RFC 9110 §10.2.3),
// rounded up so a client never retries before the configured delay.
func retryAfterSeconds(d backdoor.Duration) string {
	if d <= 0 {
		d = backdoor.Duration(defaultRetryAfter)
	}
	secs := (time.Duration(d) + time.Second - 1) / time.Second
	return strconv.FormatInt(int64(secs), 10)
}

// ClientRequestID is the client's client-request-id when it is safe to
// echo: the header, or the query parameter MSAL puts on token calls. The
// emulator's handlers read it here too, so a faulted answer correlates
// like any other.
func ClientRequestID(r *http.Request) string {
	v := r.Header.Get("client-request-id")
	if v == "" {
		v = r.URL.Query().Get("client-request-id")
	}
	if v == "" || len(v) > 128 {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return ""
		}
	}
	return v
}

func drop(w http.ResponseWriter, endpoint string) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if err := conn.Close(); err != nil {
		slog.Debug("faults: close dropped connection", "endpoint", endpoint, "err", err)
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("fault latency %v: %w", d, context.Cause(ctx))
	}
}

// next64 is SplitMix64 over a shared counter: each call takes a distinct
// counter value, so concurrent callers never share a draw and need no lock.
func (in *Injector) next64() uint64 {
	z := in.seed + in.counter.Add(1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform returns a float64 in [0,1).
func (in *Injector) uniform() float64 {
	return float64(in.next64()>>11) / (1 << 53)
}

// latency draws the added latency for one request.
func (in *Injector) latency(s backdoor.FaultSpec) time.Duration {
	if s.LatencyP50 > 0 {
		return s.LatencyAt(in.normal())
	}
	return s.Latency.D()
}

// normal returns a standard normal variate (Box–Muller).
func (in *Injector) normal() float64 {
	u1 := 1 - in.uniform() // (0,1], so the log is finite
	u2 := in.uniform()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}
