package conformance

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/check"
	"github.com/ciamcheck/ciamcheck/suites/evidence"
)

// Backdoor is what a spec may change of the target beyond the API: its
// clock and its tenant configuration. Env.Backdoor is nil on a target
// without one (a real tenant).
type Backdoor interface {
	AdvanceClock(ctx context.Context, d time.Duration) error
	// EditConfig changes the tenant configuration and returns how to put
	// the old one back.
	EditConfig(ctx context.Context, edit func(*backdoor.Config)) (restore func(context.Context) error, err error)
	// Stats reads the target's limits (passcode attempts, live flows) and
	// what they refused.
	Stats(ctx context.Context) (backdoor.Stats, error)
}

// Env is everything a spec needs of the system under test. It is built
// once per process in BeforeSuite from the opened target.
type Env struct {
	Target *profile.Target
	// Expect is what the specs expect of the tenant: the profile's, changed
	// for the rest of a spec when the spec changes the tenant (withTenant).
	Expect profile.Expectations
	// Client sends every API call; its HTTP client records the evidence.
	Client   *nativeauth.Client
	HTTP     *http.Client
	Recorder *evidence.Recorder
	Backdoor Backdoor
	// ContinuationLifetime is how long a continuation token lives,
	// OTPLifetime how long a one-time passcode does.
	ContinuationLifetime, OTPLifetime time.Duration
	// IDTokens verifies id_tokens, from OpenID discovery.
	IDTokens *check.IDTokenVerifier

	clock   func() time.Time
	usersMu sync.Mutex
	users   map[nativeauth.SignUpMethod]existing
}

// existing is the user made by sign-up for one sign-up method.
type existing struct {
	user scenarios.Credential
	err  error
}

// env is the process's Env, set in BeforeSuite.
var env *Env

// opened is this process's target, kept for the run record.
var opened *profile.Target

// The target is opened once per process (each ginkgo -p process gets its
// own embedded emulator or its own clients of the tenant, and its own run
// ID for usernames).
var _ = BeforeSuite(func(ctx SpecContext) {
	c := currentConfig()
	p, err := profile.Load(c.ProfilePath)
	if err != nil {
		Fail(fmt.Sprintf("target profile: %v", err))
	}
	t, err := profile.Open(ctx, p)
	if err != nil {
		Fail(fmt.Sprintf("open target: %v", err))
	}
	DeferCleanup(t.Close)
	e, err := newEnv(ctx, t, c.WrapHandler)
	if err != nil {
		Fail(err.Error())
	}
	opened, env = t, e
}, NodeTimeout(2*time.Minute))

// newEnv builds what the specs need from an opened target.
func newEnv(ctx context.Context, t *profile.Target, wrap func(http.Handler) http.Handler) (*Env, error) {
	transport := t.HTTPClient.Transport
	if wrap != nil {
		host := t.BaseURL
		if t.Backdoor != nil {
			host = t.Backdoor.BaseURL
		}
		transport = WrapTransport(transport, host, wrap)
	}
	rec := evidence.NewRecorder(transport)
	e := &Env{
		Target:               t,
		Expect:               t.Expect,
		HTTP:                 &http.Client{Transport: rec, Timeout: t.HTTPClient.Timeout},
		Recorder:             rec,
		ContinuationLifetime: defaultContinuationLifetime,
		OTPLifetime:          10 * time.Minute,
		clock:                time.Now,
		users:                map[nativeauth.SignUpMethod]existing{},
	}
	e.Client = &nativeauth.Client{Tenant: t.Tenant, ClientID: t.ClientID, BaseURL: t.BaseURL, HTTPClient: e.HTTP}
	if em := t.Emulator(); em != nil {
		e.clock = em.Now
	}
	if t.Backdoor != nil && t.Caps.Backdoor {
		b := &targetBackdoor{b: t.Backdoor}
		if t.Caps.Clock {
			// The target's clock is wall time plus the offset the backdoor
			// reports (an emulator elsewhere may have been moved by an
			// earlier run or another process).
			if err := b.readClock(ctx); err != nil {
				return nil, err
			}
			if t.Emulator() == nil {
				e.clock = b.now
			}
		}
		e.Backdoor = b
	}
	v, err := check.NewIDTokenVerifier(ctx, e.HTTP, e.Client.EndpointURL(nativeauth.EndpointOpenIDConfiguration), t.ClientID, e.Now)
	if err != nil {
		return nil, fmt.Errorf("id_token verification: %w", err)
	}
	e.IDTokens = v
	rec.Take() // discovery belongs to no spec
	return e, nil
}

// Now is the target's clock (moved by the clock backdoor).
func (e *Env) Now() time.Time { return e.clock() }

// Walker walks the scenarios' flows against the target as the specs expect
// it now.
func (e *Env) Walker() *scenarios.Walker {
	return &scenarios.Walker{
		Config: scenarios.Config{
			Client:       e.Client,
			OTP:          e.Target.OTP,
			OTPTimeout:   90 * time.Second,
			Users:        e.Target.Users,
			Attributes:   e.Expect.RequiredAttributes(),
			Scopes:       e.Target.Profile.Scopes,
			SignUpMethod: e.Expect.SignUpMethod,
			Capabilities: walkCapabilities(e.Expect),
			Password: scenarios.PasswordPolicy{MinLength: e.Expect.PasswordPolicy.MinLength,
				MaxLength: e.Expect.PasswordPolicy.MaxLength, Banned: e.Expect.PasswordPolicy.Banned},
		},
		// A mailbox and the target may date a code a little apart.
		Skew:     time.Second,
		Existing: e.ExistingUser,
		Now:      e.Now,
	}
}

// ExistingUser returns a user with a known password that can sign in: the
// profile's, or one made by sign-up. A user of one sign-up method cannot
// stand in for the other (a passcode user has no password), and specs may
// switch the emulator's method: one user is made per method, when first
// needed.
func (e *Env) ExistingUser(ctx context.Context) (scenarios.Credential, error) {
	if len(e.Target.Existing) > 0 {
		u := e.Target.Existing[0]
		return scenarios.Credential{Username: u.Username, Password: u.Password}, nil
	}
	e.usersMu.Lock()
	defer e.usersMu.Unlock()
	method := e.Expect.SignUpMethod
	if u, ok := e.users[method]; ok {
		return u.user, u.err
	}
	w := e.Walker()
	w.Existing = nil
	var u existing
	if p, err := w.CompleteSignUp(ctx, "existing"); err != nil {
		u.err = fmt.Errorf("create the existing user by sign-up: %w", err)
	} else {
		u.user = scenarios.Credential{Username: p.Username, Password: p.Password}
	}
	e.users[method] = u
	return u.user, u.err
}

// Has reports whether the target offers a capability, with the reason when
// it does not. A tenant of the other sign-up method with a configuration
// backdoor (the emulator) is switched to the one asked for, for the rest of
// the spec.
func (e *Env) Has(c profile.Capability) (bool, string) {
	if c == profile.CapNoMFA {
		if !e.Expect.MFA.Enabled {
			return true, ""
		}
		if e.Backdoor == nil {
			return e.Target.Require(c)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := withTenant(ctx, e, func(cfg *backdoor.Config) { cfg.MFA.Enabled = false },
			func(x *profile.Expectations) { x.MFA.Enabled = false }); err != nil {
			return false, fmt.Sprintf("the tenant requires MFA; turning it off through the backdoor failed: %v", err)
		}
		return true, ""
	}
	if c == profile.CapMFA {
		if e.Expect.MFA.Enabled {
			// Switched already, by this spec or the profile.
			return true, ""
		}
		return e.turnOn(c, "turning MFA on", func(ctx context.Context) error { return mfaTenant(ctx, e) })
	}
	method, ok := capabilityMethods[c]
	if !ok {
		return e.Target.Require(c)
	}
	if e.Expect.SignUpMethod == method {
		// Switched already, by this spec or the profile.
		return true, ""
	}
	return e.turnOn(c, "switching the tenant to sign-up method "+string(method),
		func(ctx context.Context) error { return setMethod(ctx, e, method) })
}

// turnOn is Has for a capability a backdoor can give the tenant: one the
// target lacks is turned on by change (what it does, for the reason when
// that fails).
func (e *Env) turnOn(c profile.Capability, what string, change func(context.Context) error) (bool, string) {
	has, reason := e.Target.Require(c)
	if has || e.Backdoor == nil {
		return has, reason
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := change(ctx); err != nil {
		return false, fmt.Sprintf("%s; %s through the backdoor failed: %v", reason, what, err)
	}
	return true, ""
}

// walkCapabilities are what walks advertise: both capabilities on a tenant
// that requires MFA (an app built for it), none otherwise (the apps the
// older pages describe).
func walkCapabilities(x profile.Expectations) []nativeauth.Capability {
	if x.MFA.Enabled {
		return scenarios.DefaultCapabilities
	}
	return nil
}

// mfaTenant turns on what CapMFA needs: MFA by email or SMS, with the
// registration of a strong method by users without one.
func mfaTenant(ctx context.Context, e *Env) error {
	return withTenant(ctx, e, func(cfg *backdoor.Config) {
		cfg.SignUpMethod = nativeauth.SignUpMethodPassword
		cfg.MFA.Enabled, cfg.MFA.RequireRegistration = true, true
		cfg.MFA.Methods = []string{backdoor.StrongMethodEmail, backdoor.StrongMethodSMS}
	}, func(x *profile.Expectations) {
		x.SignUpMethod = nativeauth.SignUpMethodPassword
		x.MFA = profile.MFAExpectations{Enabled: true, RequireRegistration: true,
			Methods: []string{backdoor.StrongMethodEmail, backdoor.StrongMethodSMS}}
	})
}

// capabilityMethods are the capabilities a tenant of one sign-up method has.
var capabilityMethods = map[profile.Capability]nativeauth.SignUpMethod{
	profile.CapSignUpPassword: nativeauth.SignUpMethodPassword, profile.CapSignInPassword: nativeauth.SignUpMethodPassword,
	profile.CapSignUpOTP: nativeauth.SignUpMethodOTP, profile.CapSignInOTP: nativeauth.SignUpMethodOTP,
}

// targetBackdoor is the Backdoor of a target with the emulator's backdoor.
type targetBackdoor struct {
	b      *backdoor.Client
	offset atomic.Int64
}

func (t *targetBackdoor) now() time.Time { return time.Now().Add(time.Duration(t.offset.Load())) }

func (t *targetBackdoor) readClock(ctx context.Context) error {
	c, err := t.b.Clock(ctx)
	if err != nil {
		return fmt.Errorf("read the target's clock: %w", err)
	}
	return t.setOffset(c)
}

func (t *targetBackdoor) setOffset(c backdoor.Clock) error {
	d, err := time.ParseDuration(c.Offset)
	if err != nil {
		return fmt.Errorf("the clock backdoor's offset %q: %w", c.Offset, err)
	}
	t.offset.Store(int64(d))
	return nil
}

// AdvanceClock moves the target's clock; only a Serial spec may.
func (t *targetBackdoor) AdvanceClock(ctx context.Context, d time.Duration) error {
	if err := mayChangeTenant("moving the target's clock"); err != nil {
		return err
	}
	c, err := t.b.AdvanceClock(ctx, d)
	if err != nil {
		return err
	}
	return t.setOffset(c)
}

// Stats reads the emulator's limits and counters through the backdoor.
func (t *targetBackdoor) Stats(ctx context.Context) (backdoor.Stats, error) { return t.b.Stats(ctx) }

// EditConfig changes the emulator's tenant configuration through the
// backdoor and returns a function that puts the old one back.
func (t *targetBackdoor) EditConfig(ctx context.Context, edit func(*backdoor.Config)) (func(context.Context) error, error) {
	return t.b.EditConfig(ctx, edit)
}

// describeTarget is the run record's view of the target, with no secret.
func describeTarget(Config) reports.Target {
	if opened == nil {
		return reports.Target{Kind: "unknown"}
	}
	s := opened.Summary()
	return reports.Target{Kind: s.Kind, BaseURL: s.BaseURL, Tenant: s.Tenant, ClientID: s.ClientID, ProfileHash: s.ProfileHash}
}

// withTenant edits the tenant configuration for the rest of the spec and
// changes what the suite expects of the tenant (e.Expect) to match, so the
// flows reach the endpoint the way the edited tenant wants. Specs in one
// process run one at a time, and each ginkgo -p process has its own
// embedded emulator; a target shared by ginkgo -p processes is safe because
// only Serial specs may edit it (mayChangeTenant).
func withTenant(ctx context.Context, e *Env, editConfig func(*backdoor.Config), editExpect func(*profile.Expectations)) error {
	if err := withConfig(ctx, e, editConfig); err != nil {
		return err
	}
	old := e.Expect
	changed := old
	changed.Attributes = slices.Clone(old.Attributes)
	changed.PasswordPolicy.Banned = slices.Clone(old.PasswordPolicy.Banned)
	editExpect(&changed)
	e.Expect = changed
	DeferCleanup(func() { e.Expect = old })
	return nil
}

// withConfig edits the tenant configuration for the rest of the spec.
func withConfig(ctx context.Context, e *Env, edit func(*backdoor.Config)) error {
	if e.Backdoor == nil {
		return fmt.Errorf("the target has no tenant configuration backdoor")
	}
	if err := mayChangeTenant("editing the tenant configuration"); err != nil {
		return err
	}
	restore, err := e.Backdoor.EditConfig(ctx, edit)
	if err != nil {
		return err
	}
	DeferCleanup(func(ctx SpecContext) error { return restore(ctx) })
	return nil
}

// setMethod switches the tenant to sign-up method m, configuration and
// expectations alike.
func setMethod(ctx context.Context, e *Env, m nativeauth.SignUpMethod) error {
	return withTenant(ctx, e, func(cfg *backdoor.Config) { cfg.SignUpMethod = m },
		func(x *profile.Expectations) { x.SignUpMethod = m })
}
