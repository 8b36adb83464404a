package scenarios_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator"
	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/otp"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// recorder keeps every step result, in order.
type recorder struct {
	mu    sync.Mutex
	steps []scenarios.StepResult
}

func (r *recorder) ObserveStep(s scenarios.StepResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, s)
}

func (r *recorder) names() []scenarios.StepName {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []scenarios.StepName
	for _, s := range r.steps {
		out = append(out, s.Step)
	}
	return out
}

type seqUsers struct{ n atomic.Uint64 }

func (u *seqUsers) New(tag string) string {
	return fmt.Sprintf("ciam+%s-%d@example.com", tag, u.n.Add(1))
}

const pollEvery = 5 * time.Millisecond

// newEmulator serves an emulator tenant (default config, changed by mutate)
// on loopback and returns a flow config for it.
func newEmulator(t testing.TB, mutate func(*backdoor.Config)) scenarios.Config {
	t.Helper()
	cfg := emulator.DefaultConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	emu, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		_ = emu.Close()
	})
	return scenarios.Config{
		Client: &nativeauth.Client{
			Tenant: cfg.Tenant, ClientID: emulator.DefaultNativeClientID,
			BaseURL: srv.URL + "/" + cfg.Tenant + ".onmicrosoft.com", HTTPClient: srv.Client(),
		},
		OTP:          &otp.Outbox{Backdoor: &backdoor.Client{BaseURL: srv.URL, HTTPClient: srv.Client()}, CodeLength: cfg.OTP.CodeLength},
		Users:        &seqUsers{},
		Attributes:   nativeauth.Attributes{"displayName": "Test User"},
		Password:     scenarios.PasswordPolicy{MinLength: 8, MaxLength: 256, Banned: cfg.PasswordPolicy.BannedWords},
		OTPTimeout:   5 * time.Second,
		PollInterval: pollEvery,
	}
}

func otpTenant(c *backdoor.Config) { c.SignUpMethod = nativeauth.SignUpMethodOTP }

// mfaTenant requires MFA by email or SMS and the registration of a method.
func mfaTenant(c *backdoor.Config) {
	c.MFA = backdoor.MFAConfig{Enabled: true, Methods: []string{"email", "sms"}, RequireRegistration: true}
}

// flowCase is one flow run end to end on its tenant, with the steps it
// must record.
type flowCase struct {
	flow   string
	tenant func(*backdoor.Config)
	steps  []scenarios.StepName
	// status 400 steps: the documented interruptions.
	interrupted map[scenarios.StepName]nativeauth.ErrorCode
}

func TestFlowsEndToEnd(t *testing.T) {
	for _, tt := range endToEndFlows() {
		t.Run(tt.flow, func(t *testing.T) { runFlowEndToEnd(t, tt) })
	}
}

// endToEndFlows lists every flow with the steps it records, in order.
func endToEndFlows() []flowCase {
	return []flowCase{
		{
			flow:  scenarios.FlowSignUpPassword,
			steps: []scenarios.StepName{"signup.start", "signup.challenge", "otp.wait", "signup.continue.oob", "token.continuation"},
		},
		{
			flow: scenarios.FlowSignUpPasswordContinue,
			steps: []scenarios.StepName{"signup.start", "signup.challenge", "otp.wait", "signup.continue.oob",
				"signup.challenge.password", "signup.continue.password", "signup.continue.attributes", "token.continuation"},
			interrupted: map[scenarios.StepName]nativeauth.ErrorCode{
				"signup.continue.oob":      nativeauth.ErrCredentialRequired,
				"signup.continue.password": nativeauth.ErrAttributesRequired,
			},
		},
		{
			flow:        scenarios.FlowSignUpOTP,
			tenant:      otpTenant,
			steps:       []scenarios.StepName{"signup.start", "signup.challenge", "otp.wait", "signup.continue.oob", "signup.continue.attributes", "token.continuation"},
			interrupted: map[scenarios.StepName]nativeauth.ErrorCode{"signup.continue.oob": nativeauth.ErrAttributesRequired},
		},
		{
			flow:  scenarios.FlowSignInPassword,
			steps: []scenarios.StepName{"signin.initiate", "signin.challenge", "token.password", "token.refresh"},
		},
		{
			flow:   scenarios.FlowSignInOTP,
			tenant: otpTenant,
			steps:  []scenarios.StepName{"signin.initiate", "signin.challenge", "otp.wait", "token.oob", "token.refresh"},
		},
		{
			flow:  scenarios.FlowSSPR,
			steps: []scenarios.StepName{"sspr.start", "sspr.challenge", "otp.wait", "sspr.continue", "sspr.submit", "sspr.poll", "sspr.poll", "sspr.poll", "token.continuation"},
		},
		{
			flow:        scenarios.FlowSignInMFA,
			tenant:      mfaTenant,
			steps:       []scenarios.StepName{"signin.initiate", "signin.challenge", "token.password", "signin.introspect", "signin.challenge.mfa", "otp.wait", "token.mfa_oob", "token.refresh"},
			interrupted: map[scenarios.StepName]nativeauth.ErrorCode{"token.password": nativeauth.ErrInvalidGrant},
		},
		{
			flow:   scenarios.FlowSignInRegister,
			tenant: mfaTenant,
			steps: []scenarios.StepName{"signin.initiate", "signin.challenge", "token.password", "register.introspect", "register.challenge", "otp.wait",
				"register.continue", "token.continuation", "token.refresh"},
			interrupted: map[scenarios.StepName]nativeauth.ErrorCode{"token.password": nativeauth.ErrInvalidGrant},
		},
		{
			flow:  scenarios.FlowSSPRResend,
			steps: []scenarios.StepName{"sspr.start", "sspr.challenge", "sspr.challenge", "otp.wait", "sspr.continue", "sspr.submit", "sspr.poll", "sspr.poll", "sspr.poll", "token.continuation"},
		},
	}
}

// runFlowEndToEnd sets the flow up (where it has a Setup), runs one
// iteration of it and checks the steps it recorded.
func runFlowEndToEnd(t *testing.T, tt flowCase) {
	cfg := newEmulator(t, tt.tenant)
	cfg.Pool = scenarios.NewUserPool()
	f, err := scenarios.New(tt.flow, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if s, ok := f.(interface {
		Setup(context.Context, int) error
	}); ok {
		if err := s.Setup(ctx, 2); err != nil {
			t.Fatalf("Setup: %v", err)
		}
		if cfg.Pool.Len() != 2 {
			t.Fatalf("Setup left %d users in the pool, want 2", cfg.Pool.Len())
		}
	}
	rec := &recorder{}
	intended := time.Now().Add(-50 * time.Millisecond) // a late start, as under load
	if err := f.Run(ctx, scenarios.Iteration{IntendedStart: intended, Seq: 1, Observer: rec}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := rec.names(); !slices.Equal(got, tt.steps) {
		t.Fatalf("steps\n got %v\nwant %v", got, tt.steps)
	}
	// Plans' thresholds are checked against Steps: it must list
	// every step the flow records.
	for _, s := range tt.steps {
		if !slices.Contains(scenarios.Steps(tt.flow), s) {
			t.Errorf("Steps(%s) = %v lacks %s", tt.flow, scenarios.Steps(tt.flow), s)
		}
	}
	checkTimeline(t, rec.steps, intended)
	checkStepOutcomes(t, tt, rec.steps)
}

// checkStepOutcomes asserts each recorded step's flow, status and error:
// 200 everywhere but at the documented interruptions, which alone are
// Expected.
func checkStepOutcomes(t *testing.T, tt flowCase, steps []scenarios.StepResult) {
	t.Helper()
	for _, s := range steps {
		if s.Flow != tt.flow || s.Err != nil || s.Redirect {
			t.Errorf("%s: %+v", s.Step, s)
		}
		want, status := tt.interrupted[s.Step], 200
		if want != "" {
			status = 400
		}
		if s.Step == scenarios.StepOTPWait {
			status = 0
		}
		if s.HTTPStatus != status || s.Error != want {
			t.Errorf("%s: HTTP %d error %q, want %d %q", s.Step, s.HTTPStatus, s.Error, status, want)
		}
		if s.Expected != (want != "") {
			t.Errorf("%s: Expected = %v, want %v (a documented interruption is expected, nothing else)", s.Step, s.Expected, want != "")
		}
	}
}

// checkTimeline asserts the coordinated-omission contract: the first step
// is intended at the iteration's start, each later one at the previous
// step's Done (plus a deliberate poll pause), and instants never go back.
func checkTimeline(t *testing.T, steps []scenarios.StepResult, intended time.Time) {
	t.Helper()
	for i, s := range steps {
		want := intended
		if i > 0 {
			want = steps[i-1].Done
			if s.Step == scenarios.StepSSPRPoll && steps[i-1].Step == scenarios.StepSSPRPoll {
				want = want.Add(pollEvery)
			}
		}
		if !s.IntendedStart.Equal(want) {
			t.Errorf("step %d %s: IntendedStart %v, want %v", i, s.Step, s.IntendedStart, want)
		}
		if s.Sent.Before(s.IntendedStart) || s.Done.Before(s.Sent) {
			t.Errorf("step %d %s: intended %v sent %v done %v out of order", i, s.Step, s.IntendedStart, s.Sent, s.Done)
		}
	}
}

func TestSSPRKeepsPoolConsistent(t *testing.T) {
	cfg := newEmulator(t, nil)
	cfg.Pool = scenarios.NewUserPool()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reset, err := scenarios.New(scenarios.FlowSSPR, cfg)
	if err != nil {
		t.Fatal(err)
	}
	signIn, err := scenarios.New(scenarios.FlowSignInPassword, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := reset.(interface {
		Setup(context.Context, int) error
	}).Setup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	before, _ := cfg.Pool.Take()
	cfg.Pool.Put(before)
	// Reset twice, signing in after each: the pool must follow the password.
	for i := range 2 {
		if err := reset.Run(ctx, scenarios.Iteration{}); err != nil {
			t.Fatalf("reset %d: %v", i, err)
		}
		if err := signIn.Run(ctx, scenarios.Iteration{}); err != nil {
			t.Fatalf("sign-in after reset %d: %v", i, err)
		}
	}
	after, ok := cfg.Pool.Take()
	if !ok || after.Username != before.Username || after.Password == before.Password {
		t.Fatalf("pool holds %v (changed password: %v), want the same user with a new password", after.Username, after.Password != before.Password)
	}
}

func TestFlowFailures(t *testing.T) {
	t.Run("wrong code", func(t *testing.T) {
		cfg := newEmulator(t, nil)
		cfg.OTP = otp.SourceFunc(func(context.Context, string, time.Time) (nativeauth.Secret, error) { return "00000000", nil })
		rec := &recorder{}
		f, _ := scenarios.New(scenarios.FlowSignUpPassword, cfg)
		err := f.Run(context.Background(), scenarios.Iteration{Observer: rec})
		var se *scenarios.StepError
		if !errors.As(err, &se) || se.Step != scenarios.StepSignUpContinueOOB || se.Flow != scenarios.FlowSignUpPassword {
			t.Fatalf("err = %v, want a StepError at signup.continue.oob", err)
		}
		last := rec.steps[len(rec.steps)-1]
		if last.Step != scenarios.StepSignUpContinueOOB || last.HTTPStatus != 400 || last.Error != nativeauth.ErrInvalidGrant || last.Suberror != nativeauth.SuberrorInvalidOOBValue || last.Err == nil {
			t.Fatalf("last step = %+v", last)
		}
		if strings.Contains(err.Error(), "00000000") {
			t.Errorf("error leaks the code: %v", err)
		}
	})
	t.Run("redirect", func(t *testing.T) {
		cfg := newEmulator(t, nil)
		cfg.Pool = scenarios.NewUserPool()
		ok, _ := scenarios.New(scenarios.FlowSignInPassword, cfg)
		if err := ok.(interface {
			Setup(context.Context, int) error
		}).Setup(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		// An app that cannot do passwords is sent to the web.
		cfg.ChallengeTypes = map[string][]nativeauth.ChallengeType{scenarios.FlowSignInPassword: {nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypeRedirect}}
		f, _ := scenarios.New(scenarios.FlowSignInPassword, cfg)
		rec := &recorder{}
		err := f.Run(context.Background(), scenarios.Iteration{Observer: rec})
		if !errors.Is(err, scenarios.ErrRedirect) {
			t.Fatalf("err = %v, want ErrRedirect", err)
		}
		last := rec.steps[len(rec.steps)-1]
		if !last.Redirect || last.HTTPStatus != 200 || last.Err == nil {
			t.Fatalf("last step = %+v", last)
		}
		if cfg.Pool.Len() != 1 {
			t.Fatalf("user not returned to the pool after a failed sign-in")
		}
	})
	t.Run("otp sign-up on a password tenant", func(t *testing.T) {
		cfg := newEmulator(t, nil)
		f, _ := scenarios.New(scenarios.FlowSignUpOTP, cfg)
		// The app advertises oob redirect only; the tenant needs a password.
		err := f.Run(context.Background(), scenarios.Iteration{})
		var se *scenarios.StepError
		if !errors.Is(err, scenarios.ErrRedirect) || !errors.As(err, &se) || se.Step != scenarios.StepSignUpStart {
			t.Fatalf("err = %v, want a redirect at signup.start", err)
		}
	})
	t.Run("empty pool", func(t *testing.T) {
		cfg := newEmulator(t, nil)
		f, _ := scenarios.New(scenarios.FlowSSPR, cfg)
		if err := f.Run(context.Background(), scenarios.Iteration{}); !errors.Is(err, scenarios.ErrPoolEmpty) {
			t.Fatalf("err = %v, want ErrPoolEmpty", err)
		}
	})
	t.Run("otp timeout", func(t *testing.T) {
		cfg := newEmulator(t, nil)
		cfg.OTPTimeout = 30 * time.Millisecond
		cfg.OTP = otp.SourceFunc(func(ctx context.Context, _ string, _ time.Time) (nativeauth.Secret, error) {
			<-ctx.Done()
			return "", ctx.Err()
		})
		f, _ := scenarios.New(scenarios.FlowSignUpPassword, cfg)
		err := f.Run(context.Background(), scenarios.Iteration{})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "otp.wait") {
			t.Fatalf("err = %v, want a deadline at otp.wait", err)
		}
	})
}

// fakeSignUp is a tenant whose sign-up start and challenge succeed and
// whose continue answers with continueAnswer, for the interruption paths
// the emulator never takes.
func fakeSignUp(t *testing.T, continueAnswer func(n int64) (int, map[string]any)) (scenarios.Config, *atomic.Int64) {
	t.Helper()
	var continues atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body := http.StatusOK, map[string]any{"continuation_token": "ct"}
		switch {
		case strings.HasSuffix(r.URL.Path, string(nativeauth.EndpointSignUpChallenge)):
			body = map[string]any{"continuation_token": "ct", "challenge_type": "oob", "binding_method": "prompt",
				"challenge_channel": "email", "challenge_target_label": "a***@example.com", "code_length": 8, "interval": 300}
		case strings.HasSuffix(r.URL.Path, string(nativeauth.EndpointSignUpContinue)):
			status, body = continueAnswer(continues.Add(1))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return scenarios.Config{
		Client:   &nativeauth.Client{Tenant: "contoso", ClientID: "c", BaseURL: srv.URL + "/contoso.onmicrosoft.com", HTTPClient: srv.Client()},
		OTP:      otp.SourceFunc(func(context.Context, string, time.Time) (nativeauth.Secret, error) { return "12345678", nil }),
		Users:    &seqUsers{},
		Password: scenarios.PasswordPolicy{MinLength: 8, MaxLength: 256},
	}, &continues
}

func apiError(code nativeauth.ErrorCode, ct string) (int, map[string]any) {
	b := map[string]any{"error": string(code), "error_description": "AADSTS55106: see the docs", "error_codes": []int{55106},
		"timestamp": "2024-01-01 00:00:00Z", "trace_id": "t", "correlation_id": "c"}
	if ct != "" {
		b["continuation_token"] = ct
	}
	return http.StatusBadRequest, b
}

// TestSignUpInterruptionFailures: a documented interruption is a turn of
// the flow only when the flow can take it; otherwise the step fails and is
// not recorded as expected.
func TestSignUpInterruptionFailures(t *testing.T) {
	cases := []struct {
		name   string
		flow   string
		answer func(int64) (int, map[string]any)
		step   scenarios.StepName
		code   nativeauth.ErrorCode
		calls  int64
	}{
		{"attributes_required without a continuation token", scenarios.FlowSignUpPasswordContinue,
			func(int64) (int, map[string]any) { return apiError(nativeauth.ErrAttributesRequired, "") },
			scenarios.StepSignUpContinueOOB, nativeauth.ErrAttributesRequired, 1},
		{"credential_required after the password was sent at start", scenarios.FlowSignUpPassword,
			func(int64) (int, map[string]any) { return apiError(nativeauth.ErrCredentialRequired, "ct") },
			scenarios.StepSignUpContinueOOB, nativeauth.ErrCredentialRequired, 1},
		// The flow sent every attribute it has: asked again, it cannot go on.
		{"attributes_required again after the attributes", scenarios.FlowSignUpPassword,
			func(int64) (int, map[string]any) { return apiError(nativeauth.ErrAttributesRequired, "ct") },
			scenarios.StepSignUpContinueAttributes, nativeauth.ErrAttributesRequired, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, continues := fakeSignUp(t, c.answer)
			f, err := scenarios.New(c.flow, cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = f.Run(ctx, scenarios.Iteration{Observer: rec})
			var se *scenarios.StepError
			if !errors.As(err, &se) || se.Step != c.step {
				t.Fatalf("err = %v, want a failure at %s", err, c.step)
			}
			if n := continues.Load(); n != c.calls {
				t.Errorf("%d continue calls, want %d", n, c.calls)
			}
			last := rec.steps[len(rec.steps)-1]
			if last.Step != c.step || last.Error != c.code || last.Expected || last.Err == nil {
				t.Errorf("last step %s: error %q expected %v err %v; want a failure with %s, not expected", last.Step, last.Error, last.Expected, last.Err, c.code)
			}
		})
	}
}

func withFault(endpoint nativeauth.Endpoint, spec backdoor.FaultSpec) func(*backdoor.Config) {
	return func(c *backdoor.Config) {
		c.Faults = backdoor.Faults{Endpoints: map[string]backdoor.FaultSpec{string(endpoint): spec}}
	}
}

func TestThrottledStepRecordsRetryAfter(t *testing.T) {
	cfg := newEmulator(t, withFault(nativeauth.EndpointSignUpStart, backdoor.FaultSpec{Rate429: 1, RetryAfter: backdoor.Duration(3 * time.Second)}))
	f, _ := scenarios.New(scenarios.FlowSignUpPassword, cfg)
	rec := &recorder{}
	if err := f.Run(context.Background(), scenarios.Iteration{Observer: rec}); err == nil {
		t.Fatal("want the 429 to fail the flow")
	}
	if len(rec.steps) != 1 {
		t.Fatalf("steps = %v, want only signup.start", rec.names())
	}
	s := rec.steps[0]
	if s.HTTPStatus != 429 || s.RetryAfter != 3*time.Second || s.Err == nil {
		t.Fatalf("step = %+v, want HTTP 429 with Retry-After 3s", s)
	}
}

func TestSSPRDropsUserWhenOutcomeUnknown(t *testing.T) {
	// Submit succeeds, every poll fails: the password may or may not have
	// changed, so the user must not go back to the pool.
	cfg := newEmulator(t, withFault(nativeauth.EndpointResetPollCompletion, backdoor.FaultSpec{Rate503: 1}))
	cfg.Pool = scenarios.NewUserPool()
	f, _ := scenarios.New(scenarios.FlowSSPR, cfg)
	ctx := context.Background()
	if err := f.(interface {
		Setup(context.Context, int) error
	}).Setup(ctx, 2); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	err := f.Run(ctx, scenarios.Iteration{Observer: rec})
	var se *scenarios.StepError
	if !errors.As(err, &se) || se.Step != scenarios.StepSSPRPoll {
		t.Fatalf("err = %v, want a failure at sspr.poll", err)
	}
	if last := rec.steps[len(rec.steps)-1]; last.HTTPStatus != 503 {
		t.Fatalf("last step = %+v, want HTTP 503", last)
	}
	if cfg.Pool.Len() != 1 || cfg.Pool.Total() != 1 {
		t.Fatalf("pool Len %d Total %d, want the reset user dropped (1 1)", cfg.Pool.Len(), cfg.Pool.Total())
	}
}

func TestSetupStopsWithContext(t *testing.T) {
	cfg := newEmulator(t, nil)
	cfg.Pool = scenarios.NewUserPool()
	f, _ := scenarios.New(scenarios.FlowSignInPassword, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.(interface {
		Setup(context.Context, int) error
	}).Setup(ctx, 50); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
}

// TestConcurrentResetAndSignIn runs resets and sign-ins on a shared pool at
// once: every sign-in must find the password the last reset set.
func TestConcurrentResetAndSignIn(t *testing.T) {
	cfg := newEmulator(t, nil)
	cfg.Pool = scenarios.NewUserPool()
	reset, _ := scenarios.New(scenarios.FlowSSPR, cfg)
	signIn, _ := scenarios.New(scenarios.FlowSignInPassword, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := reset.(interface {
		Setup(context.Context, int) error
	}).Setup(ctx, 4); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 4 {
		wg.Go(func() {
			for i := range 4 {
				f := signIn
				if (w+i)%2 == 0 {
					f = reset
				}
				if err := f.Run(ctx, scenarios.Iteration{Seq: uint64(w*4 + i)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if cfg.Pool.Len() != 4 {
		t.Fatalf("pool has %d free users after the run, want 4", cfg.Pool.Len())
	}
}
