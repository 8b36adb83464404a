package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// limitedHarness is an emulator with a bound of maxFlows live flows and
// attempts wrong oob values per code.
func limitedHarness(t *testing.T, maxFlows int64, attempts int) *harness {
	t.Helper()
	return newHarness(t, func(c *backdoor.Config) { c.MaxLiveFlows, c.OTP.MaxAttempts = maxFlows, attempts })
}

func (h *harness) stats() backdoor.Stats {
	h.t.Helper()
	r := h.backdoor(http.MethodGet, backdoor.PathStats, nil)
	var s backdoor.Stats
	if r.status != http.StatusOK || json.Unmarshal(r.raw, &s) != nil {
		h.t.Fatalf("stats: %d %s", r.status, r.raw)
	}
	return s
}

// wantThrottled checks the answer past the bound on live flows.
func wantThrottled(t *testing.T, what string, r resp) {
	t.Helper()
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != flowLimitRetryAfter {
		t.Fatalf("%s: want 429 with Retry-After %s, got %d, Retry-After %q: %s", what, flowLimitRetryAfter, r.status, r.header.Get("Retry-After"), r.raw)
	}
	if r.str("error") != string(nativeauth.ErrTemporarilyUnavailable) || r.code() != nativeauth.CodeThrottled ||
		r.str("trace_id") == "" || r.str("correlation_id") == "" || !strings.HasPrefix(r.str("error_description"), "AADSTS") {
		t.Errorf("%s: body: want the error shape with temporarily_unavailable and %d, got %s", what, nativeauth.CodeThrottled, r.raw)
	}
}

// Past the bound, every start answers 429 like a throttled tenant; flows
// in progress go on, and room comes back when flows finish or expire.
func TestLiveFlowBound(t *testing.T) {
	h := limitedHarness(t, 3, DefaultOTPMaxAttempts)
	const u = "bound@example.com"
	h.createUser(u, goodPass, nil)
	signUp := func(i int) resp {
		return h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", fmt.Sprintf("b%d@example.com", i), "challenge_type", "oob password redirect"))
	}
	first := wantToken(t, "sign-up 1", signUp(1))
	wantToken(t, "sign-up 2", signUp(2))
	inFlight := wantToken(t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", u, "challenge_type", "password redirect")))

	wantThrottled(t, "sign-up past the bound", signUp(4))
	wantThrottled(t, "initiate past the bound", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", u, "challenge_type", "password redirect")))
	wantThrottled(t, "reset past the bound", h.post(nativeauth.EndpointResetStart, vals("client_id", clientID, "username", u, "challenge_type", "oob redirect")))
	// Bad input keeps its own answer: the bound refuses only what would
	// hold state.
	wantError(t, "bad username past the bound", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", "nope", "challenge_type", "oob password redirect")),
		nativeauth.ErrInvalidRequest, "", nativeauth.CodeInvalidUsername)
	if s := h.stats(); s.LiveFlows != 3 || s.MaxLiveFlows != 3 || s.FlowsRefused != 3 {
		t.Errorf("stats: want 3 live of 3, 3 refused, got %+v", s)
	}

	// A flow in progress continues; one that ends frees its room.
	wantToken(t, "sign-up 1 challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", first)))
	ct := wantToken(t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", inFlight)))
	h.verifyTokens(h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", "openid")), true, false, u)
	if s := h.stats(); s.LiveFlows != 2 {
		t.Errorf("live flows after a sign-in ended: want 2, got %d", s.LiveFlows)
	}
	wantToken(t, "sign-up 5, after one ended", signUp(5))
	wantThrottled(t, "sign-up 6", signUp(6))

	// Abandoned flows past their expiry: the refusal asks for a sweep, so
	// room comes back without waiting for the janitor's tick.
	if r := h.backdoor(http.MethodPost, "clock", map[string]string{"advance": (h.e.Config().Continuation.Lifetime.D() + time.Second).String()}); r.status != http.StatusOK {
		t.Fatalf("clock: %d %s", r.status, r.raw)
	}
	wantThrottled(t, "sign-up 7, before the sweep", signUp(7))
	deadline := time.Now().Add(5 * time.Second)
	for h.stats().LiveFlows != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("expired flows not swept after a refusal: %+v", h.stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	wantToken(t, "sign-up 8, after the sweep", signUp(8))

	// Reset zeroes the counts.
	if r := h.backdoor(http.MethodPost, "reset", nil); r.status != http.StatusNoContent {
		t.Fatalf("reset: %d", r.status)
	}
	if s := h.stats(); s.LiveFlows != 0 || s.FlowsRefused != 0 {
		t.Errorf("stats after reset: want zeros, got %+v", s)
	}
}

// The live count follows every way a flow ends: finished, swept, and
// concurrent starts never overshoot the bound.
func TestLiveFlowCountConcurrent(t *testing.T) {
	h := limitedHarness(t, 20, DefaultOTPMaxAttempts)
	const n = 60
	codes := make(chan int, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			r := h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", fmt.Sprintf("c%d@example.com", i), "challenge_type", "oob password redirect"))
			codes <- r.status
		}(i)
	}
	ok, throttled := 0, 0
	for i := 0; i < n; i++ {
		switch <-codes {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			throttled++
		}
	}
	if ok != 20 || throttled != n-20 {
		t.Errorf("concurrent starts at a bound of 20: want 20 accepted and %d refused, got %d and %d", n-20, ok, throttled)
	}
	if got := h.e.data.Load().flows.len(); got != 20 || h.stats().LiveFlows != 20 {
		t.Errorf("flows held %d, counted %d: want 20 and 20", got, h.stats().LiveFlows)
	}
}

// oobFlow is one flow that sends a code, seen from a test: how to start it
// up to the code, how to send a value, how to ask for a new code.
type oobFlow struct {
	name     string
	username string
	start    func(h *harness) string // returns the token to verify with
	verify   func(h *harness, ct, code string) resp
	resend   func(h *harness, ct string) string
}

func oobFlows() []oobFlow {
	return []oobFlow{
		{
			name: "sign-up", username: "guess-signup@example.com",
			start: func(h *harness) string {
				ct := wantToken(h.t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", "guess-signup@example.com", "challenge_type", "oob password redirect",
					"password", goodPass, "attributes", `{"displayName":"Guess"}`)))
				return wantToken(h.t, "challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct)))
			},
			verify: func(h *harness, ct, code string) resp {
				return h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", code))
			},
			resend: func(h *harness, ct string) string {
				return wantToken(h.t, "resend", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct)))
			},
		},
		{
			name: "sign-in", username: "guess-signin@example.com",
			start: func(h *harness) string {
				h.createUser("guess-signin@example.com", "", nil) // no password: signs in with a code
				ct := wantToken(h.t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "guess-signin@example.com", "challenge_type", "oob password redirect")))
				return wantToken(h.t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct)))
			},
			verify: func(h *harness, ct, code string) resp {
				return h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", code, "scope", "openid"))
			},
			resend: func(h *harness, ct string) string {
				return wantToken(h.t, "resend", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct)))
			},
		},
		{
			name: "reset", username: "guess-reset@example.com",
			start: func(h *harness) string {
				h.createUser("guess-reset@example.com", goodPass, nil)
				ct := wantToken(h.t, "start", h.post(nativeauth.EndpointResetStart, vals("client_id", clientID, "username", "guess-reset@example.com", "challenge_type", "oob redirect")))
				return wantToken(h.t, "challenge", h.post(nativeauth.EndpointResetChallenge, vals("client_id", clientID, "continuation_token", ct)))
			},
			verify: func(h *harness, ct, code string) resp {
				return h.post(nativeauth.EndpointResetContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", code))
			},
			resend: func(h *harness, ct string) string {
				return wantToken(h.t, "resend", h.post(nativeauth.EndpointResetChallenge, vals("client_id", clientID, "continuation_token", ct)))
			},
		},
	}
}

// wrongCode is a value of the right length that is not code.
func wrongCode(code string, i int) string {
	w := fmt.Sprintf("%0*d", len(code), i)
	if w == code {
		w = fmt.Sprintf("%0*d", len(code), i+1)
	}
	return w
}

// After otp.max_attempts wrong values the code stops working, the right
// one included (invalid_grant + invalid_oob_value, the answer every SDK
// offers a resend for), until a new challenge sends a new code.
func TestPasscodeAttemptLimit(t *testing.T) {
	const limit = 4
	for _, fl := range oobFlows() {
		t.Run(fl.name, func(t *testing.T) {
			h := limitedHarness(t, DefaultMaxLiveFlows, limit)
			ct := fl.start(h)
			code := h.lastCode(fl.username)
			for i := 1; i < limit; i++ {
				r := fl.verify(h, ct, wrongCode(code, i))
				wantError(t, fmt.Sprintf("wrong value %d", i), r, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, nativeauth.CodeOTPInvalid)
				if strings.Contains(r.str("error_description"), "Too many") {
					t.Errorf("wrong value %d of %d: already says too many", i, limit)
				}
			}
			r := fl.verify(h, ct, wrongCode(code, limit))
			wantError(t, "last wrong value", r, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, nativeauth.CodeOTPInvalid)
			if !strings.Contains(r.str("error_description"), "Too many invalid one-time passcode attempts") {
				t.Errorf("wrong value %d of %d: want the description to say too many, got %q", limit, limit, r.str("error_description"))
			}
			for i := 0; i < 3; i++ {
				r = fl.verify(h, ct, code)
				wantError(t, "the right code past the limit", r, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, nativeauth.CodeOTPInvalid)
			}
			if s := h.stats(); s.PasscodeLockouts != 1 || s.OTPMaxAttempts != limit {
				t.Errorf("stats: want 1 lockout at a limit of %d, got %+v", limit, s)
			}
			// A new challenge sends a new code and the count starts again.
			ct = fl.resend(h, ct)
			code2 := h.lastCode(fl.username)
			for i := 1; i < limit; i++ {
				wantError(t, "wrong value after resend", fl.verify(h, ct, wrongCode(code2, i)), nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, nativeauth.CodeOTPInvalid)
			}
			if r := fl.verify(h, ct, code2); r.status != http.StatusOK {
				t.Fatalf("the new code after %d wrong values: want 200, got %d %s", limit-1, r.status, r.raw)
			}
		})
	}
}

// The measurement: many wrong values, then the right one, on one
// continuation token. With the default limit the right one is refused.
func TestPasscodeGuessingDefaultLimit(t *testing.T) {
	h := newHarness(t, nil)
	fl := oobFlows()[0]
	ct := fl.start(h)
	code := h.lastCode(fl.username)
	for i := 1; i <= 3*DefaultOTPMaxAttempts; i++ {
		fl.verify(h, ct, wrongCode(code, i))
	}
	wantError(t, "right code after guessing", fl.verify(h, ct, code), nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, nativeauth.CodeOTPInvalid)
}
