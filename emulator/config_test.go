package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	if err := validateConfig(c); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if c.Tenant != "contoso" || c.SignUpMethod != nativeauth.SignUpMethodPassword || !c.SSPR.Enabled || len(c.Users) != 0 ||
		c.OTP.CodeLength != 8 || c.Continuation.Lifetime.D() != 10*time.Minute || c.SSPR.PollInterval != 2 || c.OTP.Interval != 300 ||
		c.MaxLiveFlows != 100_000 || c.OTP.MaxAttempts != 10 {
		t.Errorf("default config differs from the contract: %+v", c)
	}
}

func TestLoadConfigExample(t *testing.T) {
	c, err := LoadConfig("testdata/tenant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Tenant != "fabrikam" || len(c.Users) != 1 || c.PasswordPolicy.BannedWords[1] != "fabrikam" || len(c.Faults.Endpoints) != 1 {
		t.Errorf("example not loaded as written: %+v", c)
	}
	h := newHarness(t, func(cfg *backdoor.Config) { *cfg = c; cfg.Faults.Endpoints = nil })
	h.base = h.srv.URL + "/fabrikam.onmicrosoft.com"
	h.signInPassword("seeded@example.com", "Seeded#Pass1")
}

func TestParseConfig(t *testing.T) {
	cases := []struct {
		name, yaml string
		errHas     string
	}{
		{"empty file is defaults", ``, ""},
		{"partial", "signup_method: otp\n", ""},
		{"json is yaml", `{"tenant":"woodgrove"}`, ""},
		{"unknown key", "tenant: x\nflavour: mint\n", "flavour"},
		{"unknown nested key", "otp:\n  digits: 6\n", "digits"},
		{"bad method", "signup_method: sms\n", "signup_method"},
		{"bad tenant", "tenant: Not Valid\n", "tenant"},
		{"bad tenant id", "tenant_id: nope\n", "tenant_id"},
		{"bad duration", "otp:\n  lifetime: soon\n", "duration"},
		{"bad regex", "attributes:\n  - {name: a, regex: '('}\n", "regex"},
		{"bad input type", "attributes:\n  - {name: a, input_type: Textbox}\n", "input_type"},
		{"multi-select input type", "attributes:\n  - {name: hobbies, input_type: CheckboxMultiSelect}\n", ""},
		{"duplicate attribute", "attributes:\n  - {name: a}\n  - {name: a}\n", "twice"},
		{"bad policy", "password_policy:\n  min_length: 10\n  max_length: 5\n", "max_length"},
		{"bad classes", "password_policy:\n  min_character_classes: 5\n", "classes"},
		{"poll without end", "sspr:\n  poll_sequence: [in_progress]\n", "end with"},
		{"poll bad status", "sspr:\n  poll_sequence: [done]\n", "poll status"},
		{"poll final in middle", "sspr:\n  poll_sequence: [succeeded, in_progress, failed]\n", "only come last"},
		{"bad code length", "otp:\n  code_length: 2\n", "code_length"},
		{"no apps", "apps: []\n", "apps"},
		{"duplicate app", "apps:\n  - {client_id: 00000000-0000-4000-8000-00000000c1a0}\n  - {client_id: 00000000-0000-4000-8000-00000000C1A0}\n", "twice"},
		{"bad seed user", "users:\n  - {username: nobody}\n", "users[0]"},
		{"bad base url", "base_url: ftp://x\n", "base_url"},
		{"not yaml", "{{{", "decode"},
		{"small key for harness load tests", "tokens:\n  key_bits: 1024\n", ""},
		{"key too small", "tokens:\n  key_bits: 512\n", "key_bits"},
		{"attempts zero", "otp:\n  max_attempts: 0\n", "otp.max_attempts"},
		{"attempts past a byte", "otp:\n  max_attempts: 256\n", "otp.max_attempts"},
		{"attempts one", "otp:\n  max_attempts: 1\n", ""},
		{"no live flows", "max_live_flows: 0\n", "max_live_flows"},
		{"negative live flows", "max_live_flows: -5\n", "max_live_flows"},
		{"a million live flows", "max_live_flows: 1000000\n", ""},
		{"odd key size", "tokens:\n  key_bits: 2000\n", "key_bits"},
		{"no refresh tokens", "tokens:\n  max_refresh_tokens: 0\n", "tokens.max_refresh_tokens: want 1..100000000, got 0"},
		{"refresh tokens past the ceiling", "tokens:\n  max_refresh_tokens: 100000001\n", "tokens.max_refresh_tokens: want 1..100000000, got 100000001"},
		{"one refresh token", "tokens:\n  max_refresh_tokens: 1\n", ""},
		{"refresh tokens not a number", "tokens:\n  max_refresh_tokens: lots\n", "decode"},
		{"outbox per user zero", "outbox:\n  per_user: 0\n", "outbox.per_user: want 1..1000, got 0"},
		{"outbox per user too many", "outbox:\n  per_user: 1001\n", "outbox.per_user: want 1..1000, got 1001"},
		{"outbox negative", "outbox:\n  max_messages: -1\n", "outbox.max_messages: want 1..100000000, got -1"},
		{"outbox unknown key", "outbox:\n  per_account: 5\n", "per_account"},
		{"outbox bounds", "outbox:\n  per_user: 1\n  max_messages: 1\n", ""},
		{"both outbox bounds bad", "outbox:\n  per_user: 0\n  max_messages: 0\n", "outbox.max_messages: want 1..100000000, got 0"},
	}
	for _, c := range cases {
		_, err := ParseConfig([]byte(c.yaml))
		switch {
		case c.errHas == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.errHas != "" && (err == nil || !strings.Contains(err.Error(), c.errHas)):
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.errHas)
		}
	}
}

// The signing key has the configured size, 2048 bits unless told.
func TestTokenKeyBits(t *testing.T) {
	for _, bits := range []int{0, 1024} {
		cfg := DefaultConfig()
		cfg.Tokens.KeyBits = bits
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := bits
		if want == 0 {
			want = 2048
		}
		if got := e.key.N.BitLen(); got != want {
			t.Errorf("key_bits %d: key has %d bits, want %d", bits, got, want)
		}
		e.Close()
	}
}

func TestBackdoor(t *testing.T) {
	h := newHarness(t, nil)
	// Outbox: empty list, not 404.
	r := h.backdoor(http.MethodGet, "outbox?username=none@example.com", nil)
	if msgs, ok := r.body["messages"].([]any); r.status != 200 || !ok || len(msgs) != 0 || r.str("username") != "none@example.com" {
		t.Errorf("empty outbox: %d %s", r.status, r.raw)
	}
	if r := h.backdoor(http.MethodGet, "outbox", nil); r.status != 400 {
		t.Errorf("outbox without username: %d", r.status)
	}
	// Users: create, duplicate, read, unknown.
	h.createUser("eve@example.com", goodPass, map[string]string{"displayName": "Eve"})
	if r := h.backdoor(http.MethodPost, "users", map[string]any{"username": "EVE@example.com"}); r.status != http.StatusConflict {
		t.Errorf("duplicate user: %d %s", r.status, r.raw)
	}
	if r := h.backdoor(http.MethodPost, "users", map[string]any{"username": "bad"}); r.status != 400 {
		t.Errorf("bad username: %d", r.status)
	}
	if r := h.backdoor(http.MethodPost, "users", map[string]any{"username": "x@example.com", "pasword": "typo"}); r.status != 400 {
		t.Errorf("unknown field: %d", r.status)
	}
	r = h.backdoor(http.MethodGet, "users/eve@example.com", nil)
	if r.status != 200 || r.str("object_id") == "" || strings.Contains(string(r.raw), goodPass) || strings.Contains(string(r.raw), "password") {
		t.Errorf("get user: %d %s", r.status, r.raw)
	}
	if r := h.backdoor(http.MethodGet, "users/ghost@example.com", nil); r.status != 404 {
		t.Errorf("unknown user: %d", r.status)
	}
	// Clock.
	r = h.backdoor(http.MethodGet, "clock", nil)
	if r.status != 200 || r.str("offset") != "0s" {
		t.Errorf("clock: %s", r.raw)
	}
	if r := h.backdoor(http.MethodPost, "clock", map[string]string{"advance": "-1m"}); r.status != 400 {
		t.Errorf("negative advance: %d", r.status)
	}
	if r := h.backdoor(http.MethodPost, "clock", map[string]string{"advance": "1h2m"}); r.status != 200 || r.str("offset") != "1h2m0s" {
		t.Errorf("advance: %s", r.raw)
	}
	// Config: read, invalid write, valid write.
	r = h.backdoor(http.MethodGet, "config", nil)
	if r.status != 200 || r.str("tenant") != "contoso" {
		t.Errorf("config: %s", r.raw)
	}
	if r := h.backdoor(http.MethodPut, "config", map[string]any{"signup_method": "carrier-pigeon"}); r.status != 400 || !strings.Contains(r.str("error_description"), "signup_method") {
		t.Errorf("invalid config: %d %s", r.status, r.raw)
	}
	if r := h.backdoor(http.MethodPut, "config", map[string]any{"sspr": map[string]any{"enabled": false, "poll_interval": 2, "poll_sequence": []string{"succeeded"}}}); r.status != 200 {
		t.Fatalf("put config: %d %s", r.status, r.raw)
	}
	wantError(t, "sspr disabled", h.post(nativeauth.EndpointResetStart, vals("client_id", clientID, "username", "eve@example.com", "challenge_type", "oob redirect")), nativeauth.ErrInvalidRequest, "", codeSSPRDisabled)
	// Faults: read and write.
	if r := h.backdoor(http.MethodPut, "faults", map[string]any{"endpoints": map[string]any{"*": map[string]any{"latency": "1ms"}}}); r.status != 200 {
		t.Errorf("put faults: %d %s", r.status, r.raw)
	}
	if r := h.backdoor(http.MethodGet, "faults", nil); r.status != 200 || !strings.Contains(string(r.raw), `"*"`) {
		t.Errorf("get faults: %s", r.raw)
	}
	if r := h.backdoor(http.MethodDelete, "faults", nil); r.status != 405 {
		t.Errorf("delete faults: %d", r.status)
	}
	// Reset: users, clock, config and faults back to the start.
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/emulator/v1/reset", nil)
	if r := h.do(req); r.status != http.StatusNoContent {
		t.Fatalf("reset: %d", r.status)
	}
	if r := h.backdoor(http.MethodGet, "users/eve@example.com", nil); r.status != 404 {
		t.Errorf("user survived reset")
	}
	if r := h.backdoor(http.MethodGet, "clock", nil); r.str("offset") != "0s" {
		t.Errorf("clock offset survived reset: %s", r.raw)
	}
	if !h.e.Config().SSPR.Enabled {
		t.Error("config change survived reset")
	}
	if r := h.backdoor(http.MethodGet, "faults", nil); strings.Contains(string(r.raw), `"*"`) {
		t.Errorf("faults survived reset: %s", r.raw)
	}
}

func TestBackdoorDisabled(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) { c.Backdoor.Disabled = true })
	if r := h.backdoor(http.MethodGet, "clock", nil); r.status != 404 {
		t.Errorf("disabled backdoor answered %d", r.status)
	}
}

func TestResetKillsTokens(t *testing.T) {
	h := newHarness(t, nil)
	ct := wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", "r@example.com", "challenge_type", "oob password redirect")))
	h.e.Reset()
	wantError(t, "after reset", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct)), nativeauth.ErrInvalidGrant, "", nativeauth.CodeInvalidContinuation)
}

func TestSweepReclaimsExpiredState(t *testing.T) {
	h := newHarness(t, nil)
	for i := 0; i < 50; i++ {
		wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", "s"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.com", "challenge_type", "oob password redirect")))
	}
	if n := h.e.data.Load().flows.len(); n != 50 {
		t.Fatalf("%d flows, want 50", n)
	}
	if f, _ := h.e.sweep(); f != 0 {
		t.Errorf("swept %d live flows", f)
	}
	h.e.clock.Advance(11 * time.Minute)
	if f, _ := h.e.sweep(); f != 50 {
		t.Errorf("swept %d expired flows, want 50", f)
	}
	if n := h.e.data.Load().flows.len(); n != 0 {
		t.Errorf("%d flows left", n)
	}
	if n := h.e.data.Load().liveFlows.Load(); n != 0 {
		t.Errorf("live flow count %d after the sweep, want 0", n)
	}
}

func TestFaultsApplyToTenantEndpointsOnly(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) {
		c.Faults.Endpoints = map[string]backdoor.FaultSpec{string(nativeauth.EndpointToken): {Rate503: 1}}
	})
	r := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "grant_type", "password", "scope", "openid"))
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("token with rate_503=1: %d %s", r.status, r.raw)
	}
	wantError(t, "initiate untouched", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "ghost@example.com", "challenge_type", "password redirect")), nativeauth.ErrUserNotFound, "", 0)
	// Every endpoint, but never the backdoor.
	if r := h.backdoor(http.MethodPut, "faults", map[string]any{"endpoints": map[string]any{"*": map[string]any{"rate_429": 1}}}); r.status != 200 {
		t.Fatalf("put faults: %d %s", r.status, r.raw)
	}
	if r := h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID)); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("signup start with rate_429=1: %d %v", r.status, r.header)
	}
	if r := h.backdoor(http.MethodGet, "clock", nil); r.status != 200 {
		t.Errorf("backdoor faulted: %d", r.status)
	}
	if r := h.backdoor(http.MethodPut, "faults", map[string]any{"endpoints": map[string]any{"*": map[string]any{"rate_429": 2}}}); r.status != 400 {
		t.Errorf("invalid faults accepted: %d", r.status)
	}
}

// TestConcurrentFlowsWithSweeps runs flows in parallel while the janitor's
// sweep runs continuously: under -race this checks locking, and the test
// finishing checks that sweep and handlers cannot deadlock.
func TestConcurrentFlowsWithSweeps(t *testing.T) {
	h := newHarness(t, nil)
	h.createUser("par@example.com", goodPass, nil)
	stopSweeping := h.sweepContinuously()
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 15; i++ {
				init := direct(t, h.e, nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "par@example.com", "challenge_type", "password redirect"))
				ct := ctOf(init)
				if ct == "" {
					errs <- fmt.Errorf("flow %d: initiate %v", i, init)
					return
				}
				ch := direct(t, h.e, nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct))
				ct = ctOf(ch)
				if ct == "" {
					errs <- fmt.Errorf("flow %d: challenge %v", i, ch)
					return
				}
				r := direct(t, h.e, nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", clientID+"/.default"))
				if r["access_token"] == nil {
					errs <- fmt.Errorf("flow %d: %v", i, r)
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	stopSweeping()
	if n := h.e.data.Load().flows.len(); n != 0 {
		t.Errorf("%d finished flows still stored", n)
	}
}

// TestClockAdvanceNeverWraps: advances that would overflow the offset are
// refused; before, two advances of 2562047h wrapped the int64 offset and
// moved the clock back, reviving expired codes and tokens.
func TestClockAdvanceNeverWraps(t *testing.T) {
	h := newHarness(t, nil)
	for i := 0; i < 3; i++ {
		r := h.backdoor(http.MethodPost, "clock", map[string]string{"advance": "2562047h"})
		if r.status != http.StatusBadRequest {
			t.Fatalf("advance 2562047h #%d: %d %s", i, r.status, r.raw)
		}
	}
	if r := h.backdoor(http.MethodPost, "clock", map[string]string{"advance": maxClockOffset.String()}); r.status != http.StatusOK {
		t.Fatalf("advance to the bound: %d %s", r.status, r.raw)
	}
	if r := h.backdoor(http.MethodPost, "clock", map[string]string{"advance": "1ms"}); r.status != http.StatusBadRequest {
		t.Fatalf("advance past the bound: %d %s", r.status, r.raw)
	}
	if got := h.e.clock.Offset(); got != maxClockOffset {
		t.Errorf("offset %v after a refused advance, want %v", got, maxClockOffset)
	}
	if !h.e.Now().After(time.Now().Add(maxClockOffset - time.Hour)) {
		t.Errorf("clock %v went backwards", h.e.Now())
	}
}

// TestPutConfigKeepsKeyBits: the signing key is made at start, so a PUT
// config that changes tokens.key_bits is refused instead of being shown
// by GET config while tokens stay signed with the old key.
func TestPutConfigKeepsKeyBits(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) { c.Tokens.KeyBits = 1024 })
	cfg := h.e.Config()
	cfg.Tokens.KeyBits = 3072
	if r := h.backdoor(http.MethodPut, "config", cfg); r.status != http.StatusBadRequest || !strings.Contains(r.str("error_description"), "key_bits") {
		t.Errorf("PUT config with new key_bits: %d %s", r.status, r.raw)
	}
	if got := h.e.Config().Tokens.KeyBits; got != 1024 {
		t.Errorf("key_bits in force %d, want 1024", got)
	}
	cfg.Tokens.KeyBits = 1024
	cfg.OTP.Interval = 60
	if r := h.backdoor(http.MethodPut, "config", cfg); r.status != http.StatusOK {
		t.Errorf("PUT config with the same key_bits: %d %s", r.status, r.raw)
	}
}

// TestBackdoorRefusesTrailingData: a backdoor body is one JSON value; the
// second value of '{"advance":"1h"} {"advance":"9h"}' used to be ignored.
func TestBackdoorRefusesTrailingData(t *testing.T) {
	h := newHarness(t, nil)
	for _, body := range []string{`{"advance":"1h"} {"advance":"9h"}`, `{"advance":"1h"}x`, `{"advance":"1h"}]`} {
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/emulator/v1/clock", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if r := h.do(req); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", body, r.status, r.raw)
		}
	}
	if got := h.e.clock.Offset(); got != 0 {
		t.Errorf("clock moved by %v", got)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/emulator/v1/clock", strings.NewReader("{\"advance\":\"1h\"}\n"))
	if r := h.do(req); r.status != http.StatusOK {
		t.Errorf("one value with a trailing newline: %d %s", r.status, r.raw)
	}
}

// TestFaultKeysMustNameServedPaths: a fault key that names no endpoint
// (a typo, or the tenant prefix written in) would inject nothing, so a
// rehearsal would pass without rehearsing; it is refused in the config
// file and through the backdoor.
func TestFaultKeysMustNameServedPaths(t *testing.T) {
	h := newHarness(t, nil)
	for key, want := range map[string]int{
		"/oauth2/v2.0/token":                     http.StatusOK,
		"*":                                      http.StatusOK,
		"/discovery/v2.0/keys":                   http.StatusOK,
		"/v2.0/.well-known/openid-configuration": http.StatusOK,
		"/oauth2/v2.0/tokn":                      http.StatusBadRequest,
		"/contoso.onmicrosoft.com/oauth2/v2.0/token": http.StatusBadRequest,
		"/signup/v1.0/start/":                        http.StatusBadRequest,
	} {
		r := h.backdoor(http.MethodPut, "faults", map[string]any{"endpoints": map[string]any{key: map[string]any{"latency": "1ms"}}})
		if r.status != want {
			t.Errorf("PUT faults %q: %d %s, want %d", key, r.status, r.raw, want)
		}
	}
	if _, err := ParseConfig([]byte("faults:\n  endpoints:\n    /oauth2/v2.0/tokn: {rate_503: 0.5}\n")); err == nil || !strings.Contains(err.Error(), "tokn") {
		t.Errorf("config with a fault key naming no endpoint: %v", err)
	}
	// servedPath and the router agree, so a new route cannot be left
	// out of the fault keys.
	e := h.e
	for _, p := range append([]string{pathJWKS, string(nativeauth.EndpointOpenIDConfiguration), "/x", "/oauth2/v2.0/authorize"}, endpointStrings()...) {
		handler, _ := e.route(p)
		if (handler != nil) != servedPath(p) {
			t.Errorf("%s: routed %v, servedPath %v", p, handler != nil, servedPath(p))
		}
	}
}

func endpointStrings() []string {
	var out []string
	for _, ep := range append(append([]nativeauth.Endpoint(nil), nativeauth.Endpoints...), nativeauth.StrongAuthEndpoints...) {
		out = append(out, string(ep))
	}
	return out
}
