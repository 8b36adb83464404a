package conformance

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/suites/check"
	"github.com/ciamcheck/ciamcheck/suites/evidence"
)

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
		BaseURL:              t.BaseURL,
		ClientID:             t.ClientID,
		DisabledClientID:     t.Caps.DisabledClientID,
		ConfidentialClientID: t.Caps.ConfidentialClientID,
		UnconsentedScope:     t.Caps.UnconsentedScope,
		Scopes:               t.Profile.Scopes,
		HTTP:                 &http.Client{Transport: rec, Timeout: t.HTTPClient.Timeout},
		Recorder:             rec,
		NewUsername:          t.Users.New,
		ContinuationLifetime: defaultContinuationLifetime,
		OTPLifetime:          10 * time.Minute,
	}
	e.Tenant = Tenant{
		SignUpMethod:      t.Expect.SignUpMethod,
		SSPR:              t.Expect.SSPR,
		PasswordMinLength: t.Expect.PasswordPolicy.MinLength,
		PasswordMaxLength: t.Expect.PasswordPolicy.MaxLength,
	}
	e.Tenant.Banned = append([]string(nil), t.Expect.PasswordPolicy.Banned...)
	for _, a := range t.Expect.Attributes {
		e.Tenant.Attributes = append(e.Tenant.Attributes, Attribute{Name: a.Name, Required: a.Required, Regex: a.Regex, Valid: a.ValidValue()})
	}
	e.Has = func(need string) (bool, string) { return hasCapability(t, e, need) }
	// The target's clock: the embedded emulator's own, or wall time plus
	// the offset the backdoor reports (an emulator elsewhere may have been
	// moved by an earlier run or another process).
	var offset atomic.Int64
	e.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	if em := t.Emulator(); em != nil {
		e.Now = em.Now
	}
	if t.Caps.Clock && t.Backdoor != nil {
		setOffset := func(c backdoor.Clock) error {
			d, err := time.ParseDuration(c.Offset)
			if err != nil {
				return fmt.Errorf("the clock backdoor's offset %q: %w", c.Offset, err)
			}
			offset.Store(int64(d))
			return nil
		}
		c, err := t.Backdoor.Clock(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the target's clock: %w", err)
		}
		if err := setOffset(c); err != nil {
			return nil, err
		}
		e.AdvanceClock = func(ctx context.Context, d time.Duration) error {
			if err := mayChangeTenant("moving the target's clock"); err != nil {
				return err
			}
			c, err := t.Backdoor.AdvanceClock(ctx, d)
			if err != nil {
				return err
			}
			return setOffset(c)
		}
	}
	if t.Backdoor != nil && t.Caps.Backdoor {
		e.SetTenantConfig = t.Backdoor.EditConfig
	}
	if t.OTP != nil {
		e.OTP = func(ctx context.Context, username string, since time.Time) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
			defer cancel()
			code, err := t.OTP.Code(ctx, username, since)
			return code.Reveal(), err
		}
	}
	// A user signed up under one sign-up method cannot stand in for the
	// other (a passcode user has no password), and specs may switch the
	// emulator's method: one user is made per method, when first needed.
	type existing struct {
		user, password string
		err            error
	}
	var usersMu sync.Mutex
	users := map[string]existing{}
	e.ExistingUser = func(ctx context.Context) (string, string, error) {
		if len(t.Existing) > 0 {
			return t.Existing[0].Username, t.Existing[0].Password.Reveal(), nil
		}
		usersMu.Lock()
		defer usersMu.Unlock()
		method := e.Tenant.SignUpMethod
		if u, ok := users[method]; ok {
			return u.user, u.password, u.err
		}
		var u existing
		if su, err := e.CompleteSignUp(ctx, "existing"); err != nil {
			u.err = fmt.Errorf("create the existing user by sign-up: %w", err)
		} else {
			u.user, u.password = su.Username, su.Password
		}
		users[method] = u
		return u.user, u.password, u.err
	}
	v, err := check.NewIDTokenVerifier(ctx, e.HTTP, t.BaseURL+"/v2.0/.well-known/openid-configuration", t.ClientID, e.Now)
	if err != nil {
		return nil, fmt.Errorf("id_token verification: %w", err)
	}
	e.IDTokens = v
	e.Raw = &nativeauth.Client{Tenant: t.Tenant, ClientID: t.ClientID, BaseURL: t.BaseURL, HTTPClient: e.HTTP}
	rec.Take() // discovery belongs to no spec
	return e, nil
}

// describeTarget is the run record's view of the target, with no secret.
func describeTarget(Config) reports.Target {
	if opened == nil {
		return reports.Target{Kind: "unknown"}
	}
	s := opened.Summary()
	return reports.Target{Kind: s.Kind, BaseURL: s.BaseURL, Tenant: s.Tenant, ClientID: s.ClientID, ProfileHash: s.ProfileHash}
}

// hasCapability answers a catalog capability from the target's own
// Require vocabulary, or from what the suite can do itself.
func hasCapability(t *profile.Target, e *Env, need string) (bool, string) {
	switch need {
	case "backdoor:clock":
		return t.Require(profile.NeedClock)
	case "backdoor:poll":
		if e.SetTenantConfig == nil {
			return false, "the target has no backdoor to hold or fail a password reset"
		}
		return true, ""
	case "backdoor:faults":
		// Redirects and failed account creations are provoked through
		// the emulator's configuration backdoor.
		if e.SetTenantConfig == nil {
			return false, "the target has no backdoor to make the tenant change its method mid-flow or fail an account creation"
		}
		return true, ""
	case "signin:password", "signup:password":
		return signUpMethod(t, e, profile.SignUpPassword, profile.NeedSignUpPassword)
	case "signin:otp", "signup:otp":
		return signUpMethod(t, e, profile.SignUpOTP, profile.NeedSignUpOTP)
	case "password-policy:banned":
		return t.Require(profile.NeedBannedPassword)
	case "existing-user":
		// Users are made by sign-up when the profile names none.
		if len(t.Existing) > 0 || t.OTP != nil {
			return true, ""
		}
		return false, "the profile names no existing user and has no OTP source to sign one up"
	case "scope:unconsented":
		if e.UnconsentedScope == "" {
			return false, "the target profile names no API scope the client has no consent for (unconsented_scope)"
		}
		return true, ""
	case "tenant:email-otp-disabled":
		if e.SetTenantConfig == nil {
			return false, "the target is a tenant with email one-time passcode enabled and no backdoor to turn it off; the case needs one where it is not"
		}
		return true, ""
	case "tenant:sspr-disabled":
		if !t.Expect.SSPR {
			return true, ""
		}
		if e.SetTenantConfig == nil {
			return false, "the tenant has self-service password reset enabled and no backdoor to turn it off"
		}
		return true, ""
	}
	return t.Require(need)
}

// signUpMethod answers a need for a tenant whose sign-up method is method.
// A tenant of the other method with a configuration backdoor (the emulator)
// is switched to it for the rest of the spec, and switched back after.
func signUpMethod(t *profile.Target, e *Env, method, need string) (bool, string) {
	ok, reason := t.Require(need)
	if ok || e.SetTenantConfig == nil || e.Tenant.SignUpMethod == method {
		return ok, reason
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := withTenant(ctx, e, func(cfg *backdoor.Config) { cfg.SignUpMethod = method },
		func(t *Tenant) { t.SignUpMethod = method })
	if err != nil {
		return false, fmt.Sprintf("%s; switching the tenant to sign-up method %s through the backdoor failed: %v", reason, method, err)
	}
	return true, ""
}
