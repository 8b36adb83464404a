package conformance

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/suites/check"
	"github.com/ciamcheck/ciamcheck/suites/evidence"
	"github.com/ciamcheck/ciamcheck/target"
)

// opened is this process's target, kept for the run record.
var opened *target.Target

// The target is opened once per process (each ginkgo -p process gets its
// own embedded emulator or its own clients of the tenant, and its own run
// ID for usernames).
var _ = BeforeSuite(func(ctx SpecContext) {
	c := currentConfig()
	p, err := target.Load(c.ProfilePath)
	if err != nil {
		Fail(fmt.Sprintf("target profile: %v", err))
	}
	t, err := target.Open(ctx, p)
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
func newEnv(ctx context.Context, t *target.Target, wrap func(http.Handler) http.Handler) (*Env, error) {
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
		Scopes:               t.Profile.Scopes,
		HTTP:                 &http.Client{Transport: rec, Timeout: t.HTTPClient.Timeout},
		Recorder:             rec,
		NewUsername:          t.Users.New,
		ContinuationLifetime: 10 * time.Minute,
		OTPLifetime:          10 * time.Minute,
		Has:                  func(need string) (bool, string) { return t.Require(need) },
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
	// The target's clock: the emulator's own, or wall time plus what this
	// process moved it by through the backdoor.
	var offset atomic.Int64
	e.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	if em := t.Emulator(); em != nil {
		e.Now = em.Now
	}
	if t.Caps.Clock && t.Backdoor != nil {
		e.AdvanceClock = func(ctx context.Context, d time.Duration) error {
			if _, err := t.Backdoor.AdvanceClock(ctx, d); err != nil {
				return err
			}
			offset.Add(int64(d))
			return nil
		}
	}
	if t.OTP != nil {
		e.OTP = func(ctx context.Context, username string, since time.Time) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
			defer cancel()
			code, err := t.OTP.Code(ctx, username, since)
			return code.Reveal(), err
		}
	}
	var once sync.Once
	var user, password string
	var userErr error
	e.ExistingUser = func(ctx context.Context) (string, string, error) {
		once.Do(func() {
			if len(t.Existing) > 0 {
				user, password = t.Existing[0].Username, t.Existing[0].Password.Reveal()
				return
			}
			su, err := e.CompleteSignUp(ctx, "existing")
			if err != nil {
				userErr = fmt.Errorf("create the existing user by sign-up: %w", err)
				return
			}
			user, password = su.Username, su.Password
		})
		return user, password, userErr
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
