package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/check"
	"github.com/ciamcheck/ciamcheck/suites/evidence"
)

// Attribute is one user attribute the tenant is expected to collect, with a
// value that satisfies its validation.
type Attribute struct {
	Name     string
	Required bool
	Regex    string
	Valid    string // a value the tenant must accept
	Invalid  string // a value the regex rejects; "" when there is none
}

// Tenant is what the specs expect of the tenant (from the profile).
type Tenant struct {
	// SignUpMethod is "password" (email with password) or "otp" (email
	// one-time passcode).
	SignUpMethod string
	SSPR         bool
	Attributes   []Attribute
	// PasswordMinLength and PasswordMaxLength of the password policy.
	PasswordMinLength, PasswordMaxLength int
	Banned                               []string
}

// RequiredAttributes returns valid values for every required attribute.
func (t Tenant) RequiredAttributes() nativeauth.Attributes {
	out := nativeauth.Attributes{}
	for _, a := range t.Attributes {
		if a.Required {
			out[a.Name] = a.Valid
		}
	}
	return out
}

// OptionalAttribute returns an optional attribute, if the tenant has one.
func (t Tenant) OptionalAttribute() (Attribute, bool) {
	for _, a := range t.Attributes {
		if !a.Required {
			return a, true
		}
	}
	return Attribute{}, false
}

// Env is everything a spec needs of the system under test. It is built once
// per process in BeforeSuite from the target profile.
type Env struct {
	BaseURL string
	// ClientID is the native-auth public client; DisabledClientID has native
	// auth turned off, ConfidentialClientID is not a public client. Empty
	// when the profile does not name one.
	ClientID, DisabledClientID, ConfidentialClientID string
	// UnconsentedScope is an API scope the client has no consent for; ""
	// when the target names none.
	UnconsentedScope string
	Scopes           []string
	Tenant           Tenant
	// Raw sends every API call, form exactly as given; HTTP is its client,
	// whose transport records evidence.
	Raw      *nativeauth.Client
	HTTP     *http.Client
	Recorder *evidence.Recorder
	// OTP returns the code sent to username after since.
	OTP func(ctx context.Context, username string, since time.Time) (string, error)
	// NewUsername returns a username no one has used, unique per run,
	// process and call.
	NewUsername func(tag string) string
	// ExistingUser returns a user with a known password that can sign in
	// and reset (created by sign-up when the profile names none).
	ExistingUser func(ctx context.Context) (username, password string, err error)
	// SetTenantConfig edits the target's tenant configuration (emulator
	// backdoor) and returns how to restore it; nil when it cannot.
	SetTenantConfig func(ctx context.Context, edit func(cfg *backdoor.Config)) (restore func(context.Context) error, err error)
	// AdvanceClock moves the target's clock; nil when it cannot.
	AdvanceClock func(ctx context.Context, d time.Duration) error
	// Now is the target's clock (moved by AdvanceClock).
	Now func() time.Time
	// ContinuationLifetime is how long a continuation token lives,
	// OTPLifetime how long a one-time passcode does.
	ContinuationLifetime, OTPLifetime time.Duration
	// Has reports whether the target offers a capability, with the reason
	// when it does not.
	Has func(need string) (bool, string)
	// IDTokens verifies id_tokens; built lazily from OpenID discovery.
	IDTokens *check.IDTokenVerifier
}

// env is the process's Env, set in BeforeSuite.
var env *Env

// Post sends one raw form request to an endpoint through the raw client
// and returns the whole answer, whatever its status. A transport failure is
// an error; any HTTP answer is not.
func (e *Env) Post(ctx context.Context, ep nativeauth.Endpoint, form url.Values) (*nativeauth.Response, error) {
	resp, err := e.Raw.Do(ctx, ep, form)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ep, err)
	}
	return resp, nil
}

// NewPassword returns a fresh random password that satisfies the tenant's
// expected policy (the scenarios' generator: one place).
func (e *Env) NewPassword() string {
	pw, err := scenarios.NewPassword(scenarios.PasswordPolicy{
		MinLength: e.Tenant.PasswordMinLength, MaxLength: e.Tenant.PasswordMaxLength, Banned: e.Tenant.Banned,
	})
	if err != nil {
		// Only an impossible policy gets here; the spec then fails on the
		// password the tenant refuses, which names the cause.
		return "Cc!9-Vx9q-Zz7-" + err.Error()
	}
	return pw
}
