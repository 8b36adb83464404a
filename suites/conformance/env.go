package conformance

import (
	"context"
	"errors"
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

// Env is what a spec needs of its target. A tenant (tenantEnv) offers the
// API only; a target with the emulator's backdoor (backdoorEnv) also lets
// a spec change the tenant and move its clock, and gives the tenant a
// capability it lacks by changing it.
type Env interface {
	// Walker walks the scenarios' flows against the target as the spec
	// expects it now. Its Client sends every API call, and its Now is the
	// target's clock.
	Walker() *scenarios.Walker
	// Expect is what the spec expects of the tenant now: the profile's,
	// changed for the rest of a spec that changes the tenant.
	Expect() profile.Expectations
	// Has reports whether the target offers a capability, with the reason
	// when it does not.
	Has(profile.Capability) (bool, string)
	// ChangeTenant edits the tenant configuration for the rest of the
	// spec; only a Serial spec may. Expect then reads the configuration
	// the target holds after the edit.
	ChangeTenant(ctx context.Context, config func(*backdoor.Config)) error
	// AdvanceClock moves the target's clock; only a Serial spec may.
	AdvanceClock(ctx context.Context, d time.Duration) error
	// Stats reads the target's limits (passcode attempts, live flows) and
	// what they refused.
	Stats(ctx context.Context) (backdoor.Stats, error)
}

// errNoBackdoor is what a tenant answers a change only a backdoor makes.
var errNoBackdoor = errors.New("the target has no backdoor")

// How long a continuation token and a one-time passcode live. The
// real-expiry container's timeout is sized from the first when the tree is
// built, before env exists.
const (
	defaultContinuationLifetime = 10 * time.Minute
	otpLifetime                 = 10 * time.Minute
)

// This process's target and what the specs share, set in BeforeSuite: the
// target (kept for the run record), the Env over it, the recorder of every
// exchange (the evidence) and the verifier of id_tokens (from OpenID
// discovery).
var (
	opened   *profile.Target
	env      Env
	recorder *evidence.Recorder
	idTokens *check.IDTokenVerifier
)

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
	if err := openEnv(ctx, t, c.WrapHandler); err != nil {
		Fail(err.Error())
	}
}, NodeTimeout(2*time.Minute))

// openEnv builds what the specs need from an opened target.
func openEnv(ctx context.Context, t *profile.Target, wrap func(http.Handler) http.Handler) error {
	transport := t.HTTPClient.Transport
	if wrap != nil {
		host := t.BaseURL
		if t.Backdoor != nil {
			host = t.Backdoor.BaseURL
		}
		transport = WrapTransport(transport, host, wrap)
	}
	rec := evidence.NewRecorder(transport)
	client := &nativeauth.Client{Tenant: t.Tenant, ClientID: t.ClientID, BaseURL: t.BaseURL,
		HTTPClient: &http.Client{Transport: rec, Timeout: t.HTTPClient.Timeout}}
	te := &tenantEnv{target: t, client: client, expect: t.Expect, clock: time.Now, users: map[nativeauth.SignUpMethod]existing{}}
	if em := t.Emulator(); em != nil {
		te.clock = em.Now
	}
	var e Env = te
	if t.Backdoor != nil && t.Caps.Backdoor {
		b := &backdoorEnv{tenantEnv: te, b: t.Backdoor}
		// The target's clock is wall time plus the offset the backdoor
		// reports (an emulator elsewhere may have been moved by an earlier
		// run or another process).
		c, err := b.b.Clock(ctx)
		if err == nil {
			err = b.setOffset(c)
		}
		if err != nil {
			return fmt.Errorf("read the target's clock: %w", err)
		}
		if t.Emulator() == nil {
			te.clock = b.now
		}
		e = b
	}
	v, err := check.NewIDTokenVerifier(ctx, client.HTTPClient, client.EndpointURL(nativeauth.EndpointOpenIDConfiguration), t.ClientID, te.clock)
	if err != nil {
		return fmt.Errorf("id_token verification: %w", err)
	}
	rec.Take() // discovery belongs to no spec
	opened, env, recorder, idTokens = t, e, rec, v
	return nil
}

// tenantEnv is the Env of a target without a backdoor: a real tenant.
type tenantEnv struct {
	target  *profile.Target
	client  *nativeauth.Client
	expect  profile.Expectations
	clock   func() time.Time
	usersMu sync.Mutex
	users   map[nativeauth.SignUpMethod]existing
}

// existing is the user made by sign-up for one sign-up method.
type existing struct {
	user scenarios.Credential
	err  error
}

func (t *tenantEnv) Walker() *scenarios.Walker {
	x := t.expect
	return &scenarios.Walker{
		Config: scenarios.Config{
			Client:       t.client,
			OTP:          t.target.OTP,
			OTPTimeout:   90 * time.Second,
			Users:        t.target.Users,
			Attributes:   x.RequiredAttributes(),
			Scopes:       t.target.Profile.Scopes,
			SignUpMethod: x.SignUpMethod,
			Capabilities: walkCapabilities(x),
			Password:     x.PasswordPolicy.ForNewPasswords(),
		},
		// A mailbox and the target may date a code a little apart.
		Skew:     time.Second,
		Existing: t.existingUser,
		Now:      t.clock,
	}
}

func (t *tenantEnv) Expect() profile.Expectations { return t.expect }

func (t *tenantEnv) Has(c profile.Capability) (bool, string) { return t.target.Require(c) }

func (t *tenantEnv) ChangeTenant(context.Context, func(*backdoor.Config)) error {
	return errNoBackdoor
}

func (t *tenantEnv) AdvanceClock(context.Context, time.Duration) error { return errNoBackdoor }

func (t *tenantEnv) Stats(context.Context) (backdoor.Stats, error) {
	return backdoor.Stats{}, errNoBackdoor
}

// existingUser returns a user with a known password that can sign in: the
// profile's, or one made by sign-up. A user of one sign-up method cannot
// stand in for the other (a passcode user has no password), and specs may
// switch the emulator's method: one user is made per method, when first
// needed.
func (t *tenantEnv) existingUser(ctx context.Context) (scenarios.Credential, error) {
	if len(t.target.Existing) > 0 {
		u := t.target.Existing[0]
		return scenarios.Credential{Username: u.Username, Password: u.Password}, nil
	}
	t.usersMu.Lock()
	defer t.usersMu.Unlock()
	method := t.expect.SignUpMethod
	if u, ok := t.users[method]; ok {
		return u.user, u.err
	}
	w := t.Walker()
	w.Existing = nil
	var u existing
	if p, err := w.CompleteSignUp(ctx, "existing"); err != nil {
		u.err = fmt.Errorf("create the existing user by sign-up: %w", err)
	} else {
		u.user = scenarios.Credential{Username: p.Username, Password: p.Password}
	}
	t.users[method] = u
	return u.user, u.err
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

// backdoorEnv is the Env of a target with the emulator's backdoor, embedded
// or elsewhere.
type backdoorEnv struct {
	*tenantEnv
	b      *backdoor.Client
	offset atomic.Int64
}

func (b *backdoorEnv) now() time.Time { return time.Now().Add(time.Duration(b.offset.Load())) }

func (b *backdoorEnv) setOffset(c backdoor.Clock) error {
	d, err := time.ParseDuration(c.Offset)
	if err != nil {
		return fmt.Errorf("the clock backdoor's offset %q: %w", c.Offset, err)
	}
	b.offset.Store(int64(d))
	return nil
}

// Has gives the tenant a capability of the tenantSwitches it lacks, for the
// rest of the spec.
func (b *backdoorEnv) Has(c profile.Capability) (bool, string) {
	s, ok := tenantSwitches[c]
	if !ok {
		return b.target.Require(c)
	}
	if s.holds(b.expect) {
		// Switched already, by this spec or the profile.
		return true, ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.ChangeTenant(ctx, s.config); err != nil {
		return false, fmt.Sprintf("%s through the backdoor failed: %v", s.what, err)
	}
	return true, ""
}

// ChangeTenant edits the emulator's configuration through the backdoor,
// and expects of the tenant what the configuration it then holds says, so
// the flows reach the endpoint the way the edited tenant wants. Specs in
// one process run one at a time, and each ginkgo -p process has its own
// embedded emulator; a target shared by ginkgo -p processes is safe
// because only Serial specs may edit it (mayChangeTenant).
func (b *backdoorEnv) ChangeTenant(ctx context.Context, config func(*backdoor.Config)) error {
	if err := mayChangeTenant("editing the tenant configuration"); err != nil {
		return err
	}
	undo, err := b.changeTenant(ctx, config)
	if err != nil {
		return err
	}
	DeferCleanup(func(ctx SpecContext) error { return undo(ctx) })
	return nil
}

// changeTenant is ChangeTenant without the spec around it: it returns the
// change's undo, which puts back the configuration and the expectations.
func (b *backdoorEnv) changeTenant(ctx context.Context, config func(*backdoor.Config)) (undo func(context.Context) error, err error) {
	cfg, restore, err := b.b.EditConfig(ctx, config)
	if err != nil {
		return nil, err
	}
	old := b.expect
	b.expect = withValues(profile.ExpectationsOf(cfg), old)
	return func(ctx context.Context) error {
		b.expect = old
		return restore(ctx)
	}, nil
}

// withValues keeps the attribute values the profile gives test users
// (expect.attributes[].value), which no tenant configuration holds.
func withValues(x, profiled profile.Expectations) profile.Expectations {
	for i, a := range x.Attributes {
		if j := slices.IndexFunc(profiled.Attributes, func(p profile.AttributeSpec) bool { return p.Name == a.Name }); j >= 0 {
			x.Attributes[i].Value = profiled.Attributes[j].Value
		}
	}
	return x
}

func (b *backdoorEnv) AdvanceClock(ctx context.Context, d time.Duration) error {
	if !b.target.Caps.Clock {
		return errNoBackdoor
	}
	if err := mayChangeTenant("moving the target's clock"); err != nil {
		return err
	}
	c, err := b.b.AdvanceClock(ctx, d)
	if err != nil {
		return fmt.Errorf("advance clock: %w", err)
	}
	return b.setOffset(c)
}

func (b *backdoorEnv) Stats(ctx context.Context) (backdoor.Stats, error) { return b.b.Stats(ctx) }

// tenantSwitch is a capability a backdoor gives the tenant by changing it:
// when the tenant has it, what the change is, and the change.
type tenantSwitch struct {
	holds  func(profile.Expectations) bool
	what   string
	config func(*backdoor.Config)
}

// tenantSwitches are the capabilities Has turns on through a backdoor.
var tenantSwitches = map[profile.Capability]tenantSwitch{
	profile.CapNoMFA: {func(x profile.Expectations) bool { return !x.MFA.Enabled }, "the tenant requires MFA; turning it off",
		func(c *backdoor.Config) { c.MFA.Enabled = false }},
	// MFA by email or SMS, with the registration of a strong method by
	// users without one.
	profile.CapMFA: {func(x profile.Expectations) bool { return x.MFA.Enabled }, "turning MFA on",
		func(c *backdoor.Config) {
			c.SignUpMethod = nativeauth.SignUpMethodPassword
			c.MFA.Enabled, c.MFA.RequireRegistration = true, true
			c.MFA.Methods = []string{backdoor.StrongMethodEmail, backdoor.StrongMethodSMS}
		}},
	profile.CapSignUpPassword: methodSwitch(nativeauth.SignUpMethodPassword),
	profile.CapSignInPassword: methodSwitch(nativeauth.SignUpMethodPassword),
	profile.CapSignUpOTP:      methodSwitch(nativeauth.SignUpMethodOTP),
	profile.CapSignInOTP:      methodSwitch(nativeauth.SignUpMethodOTP),
}

// methodSwitch switches the tenant to sign-up method m.
func methodSwitch(m nativeauth.SignUpMethod) tenantSwitch {
	return tenantSwitch{func(x profile.Expectations) bool { return x.SignUpMethod == m }, "switching the tenant to sign-up method " + string(m),
		func(c *backdoor.Config) { c.SignUpMethod = m }}
}

// describeTarget is the run record's view of the target, with no secret.
func describeTarget(Config) reports.Target {
	if opened == nil {
		return reports.Target{Kind: "unknown"}
	}
	s := opened.Summary()
	return reports.Target{Kind: s.Kind, BaseURL: s.BaseURL, Tenant: s.Tenant, ClientID: s.ClientID, ProfileHash: s.ProfileHash}
}
