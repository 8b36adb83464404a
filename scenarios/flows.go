package scenarios

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/otp"
)

// Step names. Reports and thresholds key on them; never change a meaning.
const (
	StepSignUpStart              StepName = "signup.start"
	StepSignUpChallenge          StepName = "signup.challenge"
	StepOTPWait                  StepName = "otp.wait"
	StepSignUpContinueOOB        StepName = "signup.continue.oob"
	StepSignUpChallengePassword  StepName = "signup.challenge.password"
	StepSignUpContinuePassword   StepName = "signup.continue.password"
	StepSignUpContinueAttributes StepName = "signup.continue.attributes"
	StepTokenContinuation        StepName = "token.continuation"
	StepSignInInitiate           StepName = "signin.initiate"
	StepSignInChallenge          StepName = "signin.challenge"
	StepTokenPassword            StepName = "token.password"
	StepTokenOOB                 StepName = "token.oob"
	StepSSPRStart                StepName = "sspr.start"
	StepSSPRChallenge            StepName = "sspr.challenge"
	StepSSPRContinue             StepName = "sspr.continue"
	StepSSPRSubmit               StepName = "sspr.submit"
	StepSSPRPoll                 StepName = "sspr.poll"
	StepTokenRefresh             StepName = "token.refresh"
)

// Flow names.
const (
	FlowSignUpOTP              = "signup-otp"
	FlowSignUpPassword         = "signup-password"
	FlowSignUpPasswordContinue = "signup-password-continue"
	FlowSignInPassword         = "signin-password"
	FlowSignInOTP              = "signin-otp"
	FlowSSPR                   = "sspr"
	FlowSSPRResend             = "sspr-resend"
)

// UsernameSource makes usernames nobody has used (target.Users is one).
type UsernameSource interface {
	New(tag string) string
}

// Config is what the flows need of the target.
type Config struct {
	Client *nativeauth.Client
	OTP    otp.Source
	Users  UsernameSource
	// Attributes are values for the tenant's required attributes.
	Attributes nativeauth.Attributes
	// Scopes asked for at the token endpoint (default openid
	// offline_access).
	Scopes []string
	// ChallengeTypes overrides, per flow name, the challenge_type list the
	// flow advertises (defaults: DefaultChallengeTypes).
	ChallengeTypes map[string][]nativeauth.ChallengeType
	// SignUpMethod is the tenant's sign-up method, when known. A flow built for the other method is refused
	// up front: the tenant would answer every iteration with a redirect.
	SignUpMethod nativeauth.SignUpMethod
	// Pool holds users for sign-in and reset; Setup fills it. Flows that
	// need it create an empty one when nil.
	Pool *UserPool
	// Password is the policy generated passwords satisfy.
	Password PasswordPolicy
	// OTPTimeout bounds otp.wait (default 60s).
	OTPTimeout time.Duration
	// PollInterval, when > 0, replaces the poll_interval the API asks for
	// between sspr.poll calls. Only for emulator runs: a real tenant must be
	// polled no faster than it asks.
	PollInterval time.Duration
	// MaxPolls bounds sspr.poll calls per reset (default 30).
	MaxPolls int
	// SetupConcurrency is how many sign-ups Setup runs at once (default 4).
	SetupConcurrency int
	// Capabilities the MFA flows (and their setup sign-ups) advertise;
	// nil: DefaultCapabilities. The older flows advertise none.
	Capabilities []nativeauth.Capability
	// MaxRetryAfter is the longest wait Setup accepts before retrying a
	// sign-up answered 429 or 503 (the Retry-After asked for, or its own
	// backoff without one); a longer Retry-After fails the setup. Default
	// 30s; a load plan passes its max_retry_after.
	MaxRetryAfter time.Duration
	// SetupRetries is how often Setup retries one sign-up answered 429 or
	// 503 before it gives up (default 5).
	SetupRetries int
}

// DefaultChallengeTypes is what each flow advertises, as the reference
// pages show for it; every list includes redirect, as the pages require.
var DefaultChallengeTypes = map[string][]nativeauth.ChallengeType{
	FlowSignUpOTP:              {nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypeRedirect},
	FlowSignUpPassword:         {nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect},
	FlowSignUpPasswordContinue: {nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect},
	FlowSignInPassword:         {nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect},
	FlowSignInOTP:              {nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypeRedirect},
	FlowSSPR:                   {nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypeRedirect},
	FlowSSPRResend:             {nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypeRedirect},
}

var constructors = map[string]func(*Config) Flow{
	FlowSignUpOTP:      func(c *Config) Flow { return &signUp{cfg: c, name: FlowSignUpOTP} },
	FlowSignUpPassword: func(c *Config) Flow { return &signUp{cfg: c, name: FlowSignUpPassword, passwordAtStart: true} },
	FlowSignUpPasswordContinue: func(c *Config) Flow {
		return &signUp{cfg: c, name: FlowSignUpPasswordContinue, passwordAtContinue: true}
	},
	FlowSignInPassword: func(c *Config) Flow {
		return &signIn{pooledFlow: pooledFlow{cfg: c, name: FlowSignInPassword}, password: true}
	},
	FlowSignInOTP:  func(c *Config) Flow { return &signIn{pooledFlow: pooledFlow{cfg: c, name: FlowSignInOTP}} },
	FlowSSPR:       func(c *Config) Flow { return &sspr{pooledFlow: pooledFlow{cfg: c, name: FlowSSPR}} },
	FlowSSPRResend: func(c *Config) Flow { return &sspr{pooledFlow: pooledFlow{cfg: c, name: FlowSSPRResend}, resend: true} },
}

// flowMethods is the sign-up method each flow needs of the tenant. Reset
// needs users with a password, so it belongs to password tenants.
var flowMethods = map[string]nativeauth.SignUpMethod{
	FlowSignUpOTP:              nativeauth.SignUpMethodOTP,
	FlowSignInOTP:              nativeauth.SignUpMethodOTP,
	FlowSignUpPassword:         nativeauth.SignUpMethodPassword,
	FlowSignUpPasswordContinue: nativeauth.SignUpMethodPassword,
	FlowSignInPassword:         nativeauth.SignUpMethodPassword,
	FlowSSPR:                   nativeauth.SignUpMethodPassword,
	FlowSSPRResend:             nativeauth.SignUpMethodPassword,
}

// flowSteps lists the steps each flow can record, so a load plan's
// threshold on a step its flow never records (a typo) is refused when the
// plan is read rather than failing with "no samples" after the run.
// TestFlowsEndToEnd checks that every step a flow records is listed.
var flowSteps = map[string][]StepName{
	FlowSignUpOTP: {StepSignUpStart, StepSignUpChallenge, StepOTPWait, StepSignUpContinueOOB,
		StepSignUpContinueAttributes, StepTokenContinuation},
	FlowSignUpPassword: {StepSignUpStart, StepSignUpChallenge, StepOTPWait, StepSignUpContinueOOB,
		StepSignUpContinueAttributes, StepTokenContinuation},
	FlowSignUpPasswordContinue: {StepSignUpStart, StepSignUpChallenge, StepOTPWait, StepSignUpContinueOOB,
		StepSignUpChallengePassword, StepSignUpContinuePassword, StepSignUpContinueAttributes, StepTokenContinuation},
	FlowSignInPassword: {StepSignInInitiate, StepSignInChallenge, StepTokenPassword, StepTokenRefresh},
	FlowSignInOTP:      {StepSignInInitiate, StepSignInChallenge, StepOTPWait, StepTokenOOB, StepTokenRefresh},
	FlowSSPR: {StepSSPRStart, StepSSPRChallenge, StepOTPWait, StepSSPRContinue, StepSSPRSubmit,
		StepSSPRPoll, StepTokenContinuation},
	FlowSSPRResend: {StepSSPRStart, StepSSPRChallenge, StepOTPWait, StepSSPRContinue, StepSSPRSubmit,
		StepSSPRPoll, StepTokenContinuation},
}

// Steps lists the steps the named flow can record, in the order it runs
// them; nil for a name that is not one of these flows.
func Steps(flow string) []StepName {
	return slices.Clone(flowSteps[flow])
}

// Method is the sign-up method flow needs of the tenant.
func Method(flow string) nativeauth.SignUpMethod { return flowMethods[flow] }

// Names lists the known flow names, sorted.
func Names() []string { return slices.Sorted(maps.Keys(constructors)) }

// New returns the named flow. Flows that sign in or reset also implement
// Setup(ctx, n) to fill the pool through sign-up, unmeasured.
func New(name string, cfg Config) (Flow, error) {
	mk, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("unknown flow %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if want := flowMethods[name]; cfg.SignUpMethod != "" && cfg.SignUpMethod != want {
		return nil, fmt.Errorf("flow %s needs a tenant whose sign-up method is %q; this one's is %q", name, want, cfg.SignUpMethod)
	}
	if cfg.Client == nil {
		return nil, fmt.Errorf("flow %s: no API client", name)
	}
	if cfg.OTP == nil {
		return nil, fmt.Errorf("flow %s: no OTP source", name)
	}
	if cfg.Users == nil {
		return nil, fmt.Errorf("flow %s: no username source", name)
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess}
	}
	if cfg.OTPTimeout <= 0 {
		cfg.OTPTimeout = 60 * time.Second
	}
	if cfg.MaxPolls <= 0 {
		cfg.MaxPolls = 30
	}
	if cfg.SetupConcurrency <= 0 {
		cfg.SetupConcurrency = 4
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 30 * time.Second
	}
	if cfg.SetupRetries <= 0 {
		cfg.SetupRetries = 5
	}
	if cfg.Pool == nil {
		cfg.Pool = NewUserPool()
	}
	for flow, types := range cfg.ChallengeTypes {
		if _, ok := constructors[flow]; !ok {
			return nil, fmt.Errorf("flow %s: challenge types for unknown flow %q", name, flow)
		}
		if len(types) == 0 {
			return nil, fmt.Errorf("flow %s: empty challenge type list for %s", name, flow)
		}
	}
	c := cfg
	return mk(&c), nil
}

func (c *Config) challengeTypes(flow string) []nativeauth.ChallengeType {
	if t, ok := c.ChallengeTypes[flow]; ok {
		return t
	}
	return DefaultChallengeTypes[flow]
}

// walker walks this config's flows with the challenge types of flow.
func (c *Config) walker(flow string) *Walker { return &Walker{Config: *c, Flow: flow} }

// waitOTP is the otp.wait step: it shows how long delivery took.
func (r *iter) waitOTP(ctx context.Context, w *Walker, p *Progress) (nativeauth.Secret, error) {
	var code nativeauth.Secret
	err := r.do(ctx, StepOTPWait, func(ctx context.Context) (outcome, error) {
		var err error
		code, err = w.Code(ctx, p.Username, p.Since)
		return outcome{}, err
	})
	return code, err
}

// setupBackoff is the first wait before retrying a sign-up answered 429 or
// 503 without a Retry-After; it doubles with each retry, up to the cap.
var setupBackoff = time.Second

// signUpRetrying runs one sign-up of the setup, retrying it (with a new
// user) when the tenant answers 429 or 503: after the Retry-After it asks
// for, or a doubling backoff without one, both within cfg.MaxRetryAfter,
// at most cfg.SetupRetries times. Setup is not measured, so waiting costs
// nothing but time, and a tenant that throttles a burst of sign-ups should
// not end the run before it starts.
func signUpRetrying(ctx context.Context, cfg *Config, su Flow) error {
	backoff := setupBackoff
	for attempt := 0; ; attempt++ {
		err := su.Run(ctx, Iteration{})
		resp := nativeauth.ResponseOf(err)
		if err == nil || resp == nil || (resp.HTTPStatus != http.StatusTooManyRequests && resp.HTTPStatus != http.StatusServiceUnavailable) {
			return err
		}
		if attempt == cfg.SetupRetries {
			return fmt.Errorf("answered %d %d times in a row: %w", resp.HTTPStatus, attempt+1, err)
		}
		wait := min(backoff, cfg.MaxRetryAfter)
		if ra, ok := nativeauth.RetryAfter(err); ok {
			if ra > cfg.MaxRetryAfter {
				return fmt.Errorf("the target asked to wait %s (Retry-After of a %d answer), longer than max_retry_after %s: %w", ra, resp.HTTPStatus, cfg.MaxRetryAfter, err)
			}
			wait = ra
		}
		backoff *= 2
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (while waiting to retry after: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// setupPool fills the pool to n users by running sign-up, unobserved.
func setupPool(ctx context.Context, cfg *Config, signUpFlow string, n int) error {
	return setupPoolWith(ctx, cfg, signUpFlow, n, nil)
}

// setupPoolWith is setupPool with the sign-up adjusted by tune.
func setupPoolWith(ctx context.Context, cfg *Config, signUpFlow string, n int, tune func(*signUp)) error {
	need := n - cfg.Pool.Total()
	if need <= 0 {
		return nil
	}
	su := constructors[signUpFlow](cfg).(*signUp)
	su.keep = true
	if tune != nil {
		tune(su)
	}
	sem := make(chan struct{}, cfg.SetupConcurrency)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := 0; i < need; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := signUpRetrying(ctx, cfg, su); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("set up %d users through %s: %w", need, signUpFlow, firstErr)
	}
	if got := cfg.Pool.Total(); got < n {
		// Only an ended ctx stops the loop early.
		return fmt.Errorf("set up users: pool has %d of %d users: %w", got, n, ctx.Err())
	}
	return nil
}
