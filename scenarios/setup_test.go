package scenarios_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/scenarios"
)

// throttleFirst answers the first n sign-up starts with status and
// Retry-After itself, and passes everything else to the emulator.
type throttleFirst struct {
	next       http.RoundTripper
	n          int64
	status     int
	retryAfter string
	seen       atomic.Int64
}

func (t *throttleFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/signup/v1.0/start") && t.seen.Add(1) <= t.n {
		h := http.Header{"Content-Type": {"application/json"}}
		if t.retryAfter != "" {
			h.Set("Retry-After", t.retryAfter)
		}
		return &http.Response{StatusCode: t.status, Header: h, Request: r,
			Body: io.NopCloser(strings.NewReader(`{"error":"temporarily_unavailable","error_description":"AADSTS90055: throttled"}`))}, nil
	}
	return t.next.RoundTrip(r)
}

func setupWith(t *testing.T, status int, retryAfter string, n int64, maxRetryAfter time.Duration) (error, int64) {
	t.Helper()
	cfg := newEmulator(t, nil)
	rt := &throttleFirst{next: cfg.Client.HTTPClient.Transport, n: n, status: status, retryAfter: retryAfter}
	cfg.Client.HTTPClient = &http.Client{Transport: rt}
	cfg.Pool = scenarios.NewUserPool()
	cfg.MaxRetryAfter = maxRetryAfter
	cfg.SetupConcurrency = 1
	f, err := scenarios.New(scenarios.FlowSignInPassword, cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = f.(interface {
		Setup(context.Context, int) error
	}).Setup(context.Background(), 2)
	return err, int64(cfg.Pool.Total())
}

// Setup retries sign-ups answered 429 or 503 after the Retry-After asked
// for, and fails with the cause on a Retry-After beyond the cap or after
// too many retries.
func TestSetupRetriesThrottledSignUps(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		retryAfter string
		n          int64
		cap        time.Duration
		err        string
	}{
		{"429 then through", http.StatusTooManyRequests, "1", 2, 5 * time.Second, ""},
		{"503 then through", http.StatusServiceUnavailable, "1", 1, 5 * time.Second, ""},
		{"Retry-After beyond the cap", http.StatusTooManyRequests, "60", 1, 5 * time.Second, "the target asked to wait 1m0s (Retry-After of a 429 answer), longer than max_retry_after 5s"},
		{"throttled for good", http.StatusTooManyRequests, "0", 1000, 5 * time.Second, "answered 429 6 times in a row"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err, users := setupWith(t, c.status, c.retryAfter, c.n, c.cap)
			switch {
			case c.err == "" && (err != nil || users != 2):
				t.Fatalf("setup: %v, %d users; want 2 users", err, users)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("setup: %v; want %q", err, c.err)
			}
		})
	}
}
