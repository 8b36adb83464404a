package backdoor_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator"
	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// serve starts the real emulator with cfg and returns a client of its
// backdoor and a client of its tenant.
func serve(t *testing.T, cfg backdoor.Config) (*backdoor.Client, *nativeauth.Client) {
	t.Helper()
	em, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	t.Cleanup(func() { srv.Close(); em.Close() })
	bd := &backdoor.Client{BaseURL: srv.URL, HTTPClient: srv.Client()}
	na := &nativeauth.Client{Tenant: cfg.Tenant, ClientID: emulator.DefaultNativeClientID,
		BaseURL: srv.URL + "/" + cfg.Tenant + ".onmicrosoft.com", HTTPClient: srv.Client()}
	return bd, na
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantError asserts err is a *backdoor.Error with the status, whose text
// mentions every one of has.
func wantError(t *testing.T, err error, status int, has ...string) *backdoor.Error {
	t.Helper()
	var be *backdoor.Error
	if !errors.As(err, &be) {
		t.Fatalf("err = %v (%T), want a *backdoor.Error", err, err)
	}
	if be.Status != status {
		t.Fatalf("status: want %d, got %d (%v)", status, be.Status, err)
	}
	for _, h := range has {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("error %q does not mention %q", err, h)
		}
	}
	return be
}

func TestClock(t *testing.T) {
	bd, _ := serve(t, emulator.DefaultConfig())
	ctx := testContext(t)
	c0, err := bd.Clock(ctx)
	if err != nil || c0.Offset != "0s" {
		t.Fatalf("Clock = %+v, %v; want offset 0s", c0, err)
	}
	c1, err := bd.AdvanceClock(ctx, 10*time.Minute+time.Second)
	if err != nil || c1.Offset != "10m1s" {
		t.Fatalf("AdvanceClock = %+v, %v; want offset 10m1s", c1, err)
	}
	if d := c1.Now.Sub(c0.Now); d < 10*time.Minute || d > 11*time.Minute {
		t.Errorf("clock moved %v, want about 10m1s", d)
	}
	_, err = bd.AdvanceClock(ctx, -time.Minute)
	be := wantError(t, err, http.StatusBadRequest, "POST /emulator/v1/clock", "HTTP 400", "invalid_request", "non-negative")
	if be.Method != http.MethodPost || be.Path != backdoor.PathClock || be.Err != nil {
		t.Errorf("error fields: %+v", be)
	}
}

func TestResetUsersAndSecrets(t *testing.T) {
	bd, na := serve(t, emulator.DefaultConfig())
	ctx := testContext(t)
	const pw = nativeauth.Secret("Str0ng-Passw0rd!x")
	u, err := bd.CreateUser(ctx, backdoor.NewUser{Username: "bob@example.com", Password: pw, Attributes: map[string]string{"displayName": "Bob"}})
	if err != nil || u.ObjectID == "" || u.Username != "bob@example.com" {
		t.Fatalf("CreateUser = %+v, %v", u, err)
	}
	// The password went over the wire in clear: the user signs in with it.
	types := []nativeauth.ChallengeType{nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect}
	si, err := na.SignInInitiate(ctx, nativeauth.InitiateRequest{Username: "bob@example.com", ChallengeTypes: types})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := na.SignInChallenge(ctx, nativeauth.ChallengeRequest{ContinuationToken: si.ContinuationToken, ChallengeTypes: types})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := na.Token(ctx, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypePassword, ContinuationToken: ch.ContinuationToken,
		Password: pw, Scopes: []string{nativeauth.ScopeOpenID}}); err != nil {
		t.Fatalf("sign-in with the created user's password: %v", err)
	}

	_, err = bd.CreateUser(ctx, backdoor.NewUser{Username: "bob@example.com", Password: pw})
	wantError(t, err, http.StatusConflict, "POST /emulator/v1/users", "user_already_exists")
	if strings.Contains(err.Error(), pw.Reveal()) {
		t.Error("the error leaks the password")
	}
	_, err = bd.CreateUser(ctx, backdoor.NewUser{Username: "not-an-email"})
	wantError(t, err, http.StatusBadRequest, "email address")

	got, err := bd.User(ctx, "bob@example.com")
	if err != nil || got.ObjectID != u.ObjectID || got.Attributes["displayName"] != "Bob" {
		t.Fatalf("User = %+v, %v", got, err)
	}
	if _, err := bd.AdvanceClock(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := bd.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = bd.User(ctx, "bob@example.com")
	wantError(t, err, http.StatusNotFound, "GET /emulator/v1/users/bob@example.com", "HTTP 404", "user_not_found")
	if c, err := bd.Clock(ctx); err != nil || c.Offset != "0s" {
		t.Errorf("after Reset, Clock = %+v, %v; want offset 0s", c, err)
	}
}

func TestOutbox(t *testing.T) {
	bd, na := serve(t, emulator.DefaultConfig())
	ctx := testContext(t)
	empty, err := bd.Outbox(ctx, "nobody@example.com")
	if err != nil || empty.Username != "nobody@example.com" || empty.Messages == nil || len(empty.Messages) != 0 {
		t.Fatalf("Outbox of a user with no code = %+v, %v; want an empty list", empty, err)
	}
	const user = "outbox@example.com"
	types := []nativeauth.ChallengeType{nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect}
	start, err := na.SignUpStart(ctx, nativeauth.SignUpStartRequest{Username: user, ChallengeTypes: types, Password: "Xy7!kLm9#pQr2",
		Attributes: nativeauth.Attributes{"displayName": "O"}})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := na.SignUpChallenge(ctx, nativeauth.ChallengeRequest{ContinuationToken: start.ContinuationToken, ChallengeTypes: types})
	if err != nil {
		t.Fatal(err)
	}
	o, err := bd.Outbox(ctx, user)
	if err != nil || len(o.Messages) != 1 {
		t.Fatalf("Outbox = %+v, %v; want one message", o, err)
	}
	m := o.Messages[0]
	if len(m.Code.Reveal()) != 8 || m.Flow != "signup" || !m.ExpiresAt.After(m.IssuedAt) {
		t.Errorf("message: code of %d digits, flow %q, issued %v, expires %v", len(m.Code.Reveal()), m.Flow, m.IssuedAt, m.ExpiresAt)
	}
	// The code read is the one the API takes.
	if _, err := na.SignUpContinue(ctx, nativeauth.SignUpContinueRequest{ContinuationToken: ch.ContinuationToken, GrantType: nativeauth.GrantTypeOOB, OOB: m.Code}); err != nil {
		t.Fatalf("continue with the outbox code: %v", err)
	}
	_, err = bd.Outbox(ctx, "")
	wantError(t, err, http.StatusBadRequest, "username")
}

func TestConfig(t *testing.T) {
	bd, _ := serve(t, emulator.DefaultConfig())
	ctx := testContext(t)
	before, err := bd.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := emulator.DefaultConfig(); !reflect.DeepEqual(before, want) {
		t.Fatalf("Config:\nwant %+v\ngot  %+v", want, before)
	}
	changed := before
	changed.SignUpMethod = nativeauth.SignUpMethodOTP
	got, err := bd.SetConfig(ctx, changed)
	if err != nil || got.SignUpMethod != nativeauth.SignUpMethodOTP {
		t.Fatalf("SetConfig = method %q, %v; want otp", got.SignUpMethod, err)
	}
	bad := before
	bad.OTP.CodeLength = 99
	_, err = bd.SetConfig(ctx, bad)
	wantError(t, err, http.StatusBadRequest, "PUT /emulator/v1/config", "code_length")
	if now, err := bd.Config(ctx); err != nil || now.SignUpMethod != nativeauth.SignUpMethodOTP {
		t.Fatalf("a refused SetConfig changed the config: method %q, %v", now.SignUpMethod, err)
	}
}

func TestEditConfigRestores(t *testing.T) {
	cfg := emulator.DefaultConfig()
	cfg.Users = []backdoor.SeedUser{{Username: "seed@example.com", Password: "Seeded#Pass1"}}
	bd, _ := serve(t, cfg)
	ctx := testContext(t)
	before, err := bd.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before.Users[0].Password != "" {
		t.Fatal("GET config shows a seeded user's password")
	}
	applied, restore, err := bd.EditConfig(ctx, func(c *backdoor.Config) {
		c.SSPR.PollSequence = []nativeauth.PollStatus{nativeauth.PollStatusFailed}
		c.OTP.EmailDisabled = true
	})
	if err != nil {
		t.Fatal(err)
	}
	during, err := bd.Config(ctx)
	if err != nil || !during.OTP.EmailDisabled || len(during.SSPR.PollSequence) != 1 {
		t.Fatalf("edited config = %+v, %v", during, err)
	}
	if !reflect.DeepEqual(applied, during) {
		t.Errorf("EditConfig's config: want what GET config then says\n%+v\ngot\n%+v", during, applied)
	}
	if err := restore(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := bd.Config(ctx)
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Fatalf("restored config differs:\nwant %+v\ngot  %+v (%v)", before, after, err)
	}
	// An edit the emulator refuses changes nothing and returns no restore.
	_, restore, err = bd.EditConfig(ctx, func(c *backdoor.Config) { c.Tenant = "Not Valid" })
	if restore != nil {
		t.Error("a refused edit returned a restore func")
	}
	wantError(t, err, http.StatusBadRequest, "set tenant config", "tenant")
}

func TestFaults(t *testing.T) {
	bd, _ := serve(t, emulator.DefaultConfig())
	ctx := testContext(t)
	f, err := bd.Faults(ctx)
	if err != nil || len(f.Endpoints) != 0 {
		t.Fatalf("Faults = %+v, %v; want none", f, err)
	}
	want := backdoor.Faults{Endpoints: map[string]backdoor.FaultSpec{
		string(nativeauth.EndpointToken): {Rate503: 0.5, RetryAfter: backdoor.Duration(2 * time.Second)},
	}}
	got, err := bd.SetFaults(ctx, want)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("SetFaults = %+v, %v; want %+v", got, err, want)
	}
	if f, err = bd.Faults(ctx); err != nil || !reflect.DeepEqual(f, want) {
		t.Fatalf("Faults = %+v, %v; want %+v", f, err, want)
	}
	_, err = bd.SetFaults(ctx, backdoor.Faults{Endpoints: map[string]backdoor.FaultSpec{"/nowhere": {Rate429: 0.1}}})
	wantError(t, err, http.StatusBadRequest, "PUT /emulator/v1/faults", "/nowhere")
}

func TestBackdoorDisabled(t *testing.T) {
	cfg := emulator.DefaultConfig()
	cfg.Backdoor.Disabled = true
	bd, _ := serve(t, cfg)
	_, err := bd.Clock(testContext(t))
	wantError(t, err, http.StatusNotFound, "GET /emulator/v1/clock", "HTTP 404", "disabled")
}

// fake answers every call with status and body.
func fake(t *testing.T, status int, body string) *backdoor.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return &backdoor.Client{BaseURL: srv.URL, HTTPClient: srv.Client()}
}

func TestAnswersThatAreNotTheBackdoors(t *testing.T) {
	ctx := testContext(t)
	oversize := `{"username":"u","messages":[],"pad":"` + strings.Repeat("x", backdoor.MaxAnswerBytes) + `"}`
	for _, tc := range []struct {
		name   string
		status int
		body   string
		call   func(*backdoor.Client) error
		has    []string
		hasErr bool // the error has a cause besides the status
	}{
		{"not JSON", 200, "<html>hello</html>", func(c *backdoor.Client) error { _, err := c.Clock(ctx); return err },
			[]string{"GET /emulator/v1/clock", "HTTP 200", "decode clock"}, true},
		{"oversize", 200, oversize, func(c *backdoor.Client) error { _, err := c.Outbox(ctx, "u"); return err },
			[]string{"GET /emulator/v1/outbox", "exceeds"}, true},
		{"trailing data", 200, `{"now":"2026-01-01T00:00:00Z","offset":"0s"} {}`, func(c *backdoor.Client) error { _, err := c.Clock(ctx); return err },
			[]string{"data after the JSON value"}, true},
		{"unknown config key", 200, `{"tenant":"contoso","flavour":"mint"}`, func(c *backdoor.Client) error { _, err := c.Config(ctx); return err },
			[]string{"decode config", "flavour"}, true},
		{"unknown fault key", 200, `{"endpoints":{},"chaos":1}`, func(c *backdoor.Client) error { _, err := c.Faults(ctx); return err },
			[]string{"decode faults", "chaos"}, true},
		{"error body not JSON", 502, "Bad Gateway from a proxy", func(c *backdoor.Client) error { return c.Reset(ctx) },
			[]string{"POST /emulator/v1/reset", "HTTP 502", `"Bad Gateway from a proxy"`}, false},
		{"unexpected success status", 200, `{}`, func(c *backdoor.Client) error { return c.Reset(ctx) },
			[]string{"HTTP 200"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := wantError(t, tc.call(fake(t, tc.status, tc.body)), tc.status, tc.has...)
			if (be.Err != nil) != tc.hasErr {
				t.Errorf("Err = %v, want a cause: %v", be.Err, tc.hasErr)
			}
		})
	}
}

// A 200 answer that fails to decode may hold a passcode: the error keeps
// none of it.
func TestUndecodableOutboxKeepsNoCode(t *testing.T) {
	c := fake(t, 200, `{"username":"u","messages":[{"code":"73914628","issued_at":"later"}]}`)
	_, err := c.Outbox(testContext(t), "u")
	be := wantError(t, err, 200, "decode outbox")
	if strings.Contains(err.Error(), "73914628") || strings.Contains(be.Body, "73914628") {
		t.Errorf("error keeps the code: %v / %q", err, be.Body)
	}
}

func TestNoAnswer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c := &backdoor.Client{BaseURL: srv.URL}
	_, err := c.Clock(testContext(t))
	be := wantError(t, err, 0, "GET /emulator/v1/clock")
	if be.Err == nil {
		t.Error("a transport failure has no cause")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&backdoor.Client{BaseURL: "http://127.0.0.1:1"}).Config(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
}

// A client with the token reaches a protected backdoor; one without gets
// the 401 as an *Error. Stats reads the limits and their counts.
func TestClientTokenAndStats(t *testing.T) {
	const token = "client-test-token-0123456789"
	em, err := emulator.New(emulator.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := em.ProtectBackdoor(token); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	t.Cleanup(func() { srv.Close(); em.Close() })
	ctx := testContext(t)
	_, err = (&backdoor.Client{BaseURL: srv.URL, HTTPClient: srv.Client()}).Stats(ctx)
	wantError(t, err, http.StatusUnauthorized, "GET /emulator/v1/stats", "invalid_token")
	_, err = (&backdoor.Client{BaseURL: srv.URL, HTTPClient: srv.Client(), Token: "another-token-0123456789"}).Stats(ctx)
	wantError(t, err, http.StatusUnauthorized, "invalid_token")
	c := &backdoor.Client{BaseURL: srv.URL, HTTPClient: srv.Client(), Token: token}
	s, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxLiveFlows != emulator.DefaultMaxLiveFlows || s.OTPMaxAttempts != emulator.DefaultOTPMaxAttempts || s.LiveFlows != 0 {
		t.Errorf("stats of a fresh emulator: %+v", s)
	}
	if strings.Contains(fmt.Sprintf("%v %+v", c, c), token) {
		t.Error("printing the client shows the token")
	}
}
