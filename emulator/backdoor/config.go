package backdoor

import "github.com/ciamcheck/ciamcheck/nativeauth"

// Config is one emulated tenant: the emulator's config file (YAML) and the
// body of GET and PUT config are this type. The emulator owns its defaults
// (emulator.DefaultConfig) and its validation.
type Config struct {
	Tenant          string `json:"tenant" yaml:"tenant"`
	TenantID        string `json:"tenant_id" yaml:"tenant_id"`
	ExtensionsAppID string `json:"extensions_app_id" yaml:"extensions_app_id"`
	// BaseURL, when set, fixes the scheme and host of the issuer and
	// discovery documents (for an emulator behind a proxy). Empty: derived
	// from each request's Host.
	BaseURL        string                  `json:"base_url,omitempty" yaml:"base_url,omitempty"`
	Apps           []App                   `json:"apps" yaml:"apps"`
	SignUpMethod   nativeauth.SignUpMethod `json:"signup_method" yaml:"signup_method"`
	SSPR           SSPRConfig              `json:"sspr" yaml:"sspr"`
	Attributes     []Attribute             `json:"attributes" yaml:"attributes"`
	PasswordPolicy PasswordPolicy          `json:"password_policy" yaml:"password_policy"`
	OTP            OTPConfig               `json:"otp" yaml:"otp"`
	Continuation   Continuation            `json:"continuation_token" yaml:"continuation_token"`
	// MaxLiveFlows bounds the sign-up, sign-in and reset flows held at
	// once; a start past it answers 429 as a throttled tenant does.
	MaxLiveFlows int64 `json:"max_live_flows" yaml:"max_live_flows"`
	// Outbox bounds the passcode messages the backdoor keeps.
	Outbox OutboxConfig `json:"outbox" yaml:"outbox"`
	Tokens TokenConfig  `json:"tokens" yaml:"tokens"`
	Users  []SeedUser   `json:"users,omitempty" yaml:"users,omitempty"`
	// FailUserCreation makes every account creation at the end of sign-up
	// fail with 399279 ("User creation failed during self-service
	// sign-up", the sign-up error-code page), to rehearse an app's
	// handling of it.
	FailUserCreation bool `json:"fail_user_creation,omitempty" yaml:"fail_user_creation,omitempty"`
	// MFA is the tenant's multifactor authentication (the 2026-02
	// revision): a Conditional Access policy requiring it, the strong
	// methods enabled, and what happens to users without one.
	MFA MFAConfig `json:"mfa" yaml:"mfa"`
	// UsernameSignIn lets users sign in with their username (alias)
	// besides their email, as the tenant's identifier policy allows.
	UsernameSignIn bool           `json:"username_sign_in,omitempty" yaml:"username_sign_in,omitempty"`
	Faults         Faults         `json:"faults" yaml:"faults"`
	Backdoor       BackdoorConfig `json:"backdoor" yaml:"backdoor"`
}

// Strong authentication method channels (MFAConfig.Methods,
// StrongMethod.Channel).
const (
	StrongMethodEmail = "email"
	StrongMethodSMS   = "sms"
)

// MFAConfig is the tenant's multifactor authentication setting.
type MFAConfig struct {
	// Enabled requires a second factor of every user whose first factor
	// is email with password (the pages: mfa_required "only occurs when
	// the user's primary authentication method is email with password").
	Enabled bool `json:"enabled" yaml:"enabled"`
	// Methods are the strong methods the administrator enabled: email
	// and/or sms. A user's method on a channel not listed is not offered.
	Methods []string `json:"methods,omitempty" yaml:"methods,omitempty"`
	// RequireRegistration makes a user without a strong method register
	// one just in time (registration_required). Off, such a user signs in
	// with the first factor alone.
	RequireRegistration bool `json:"require_registration" yaml:"require_registration"`
	// BlockedNumbers are phone numbers (E.164) fraud checks block at
	// register challenge: access_denied + provider_blocked_by_rep.
	BlockedNumbers []string `json:"blocked_numbers,omitempty" yaml:"blocked_numbers,omitempty"`
	// BlockedRegions are phone number prefixes ("+999") the administrator
	// blocked: access_denied + provider_blocked_by_admin.
	BlockedRegions []string `json:"blocked_regions,omitempty" yaml:"blocked_regions,omitempty"`
}

// Allows reports whether the strong method channel is enabled.
func (m MFAConfig) Allows(channel string) bool {
	for _, c := range m.Methods {
		if c == channel {
			return true
		}
	}
	return false
}

// StrongMethod is one registered strong authentication method of a user:
// a channel (email or sms) and the email address or phone number (E.164)
// codes go to.
type StrongMethod struct {
	Channel string `json:"channel" yaml:"channel"`
	Target  string `json:"target" yaml:"target"`
}

// App is one app registration.
type App struct {
	Name     string `json:"name" yaml:"name"`
	ClientID string `json:"client_id" yaml:"client_id"`
	// PublicClient false makes a confidential client, which the native
	// authentication API refuses with invalid_client.
	PublicClient bool `json:"public_client" yaml:"public_client"`
	// NativeAuth false answers invalid_client/nativeauthapi_disabled.
	NativeAuth bool `json:"native_auth" yaml:"native_auth"`
	// NoConsent are API scopes (of the tenant's apps) this app has no
	// consent for: asking for one at token answers invalid_request, as the
	// pages' sign-up token tables say.
	NoConsent []string `json:"no_consent,omitempty" yaml:"no_consent,omitempty"`
}

// SSPRConfig turns self-service password reset on or off and scripts the
// statuses poll_completion walks through.
type SSPRConfig struct {
	Enabled bool `json:"enabled" yaml:"enabled"`
	// PollInterval is the poll_interval (seconds) the submit answer carries.
	PollInterval int `json:"poll_interval" yaml:"poll_interval"`
	// PollSequence is the status answered by each successive poll; the last
	// one (succeeded or failed) is final.
	PollSequence []nativeauth.PollStatus `json:"poll_sequence" yaml:"poll_sequence"`
}

// Attribute is one user attribute the sign-up user flow collects.
type Attribute struct {
	Name      string `json:"name" yaml:"name"`
	Type      string `json:"type,omitempty" yaml:"type,omitempty"`             // "string" unless set
	InputType string `json:"input_type,omitempty" yaml:"input_type,omitempty"` // TextBox, SingleRadioSelect, CheckboxMultiSelect
	Required  bool   `json:"required" yaml:"required"`
	Regex     string `json:"regex,omitempty" yaml:"regex,omitempty"`
}

// PasswordPolicy is the tenant's password rules.
type PasswordPolicy struct {
	MinLength int `json:"min_length" yaml:"min_length"`
	MaxLength int `json:"max_length" yaml:"max_length"`
	// MinCharacterClasses is how many of lower, upper, digit and symbol a
	// password must mix (Entra's "3 of 4").
	MinCharacterClasses int      `json:"min_character_classes" yaml:"min_character_classes"`
	BannedWords         []string `json:"banned_words" yaml:"banned_words"`
	// History is how many previous passwords a reset may not reuse.
	History int `json:"history" yaml:"history"`
}

// OTPConfig shapes the one-time passcodes.
type OTPConfig struct {
	CodeLength int      `json:"code_length" yaml:"code_length"`
	Lifetime   Duration `json:"lifetime" yaml:"lifetime"`
	// Interval is the resend interval (seconds) an oob challenge announces.
	Interval int `json:"interval" yaml:"interval"`
	// EmailDisabled is a tenant whose administrator has not enabled email
	// one-time passcode for all users: sign-up continue answers
	// invalid_request, as both pages' tables say.
	EmailDisabled bool `json:"email_disabled,omitempty" yaml:"email_disabled,omitempty"`
	// MaxAttempts is how many wrong oob values one code takes before it
	// stops working, the right one included, until a new challenge.
	MaxAttempts int `json:"max_attempts" yaml:"max_attempts"`
}

// OutboxConfig bounds the outbox: every passcode sent lands there, so
// without a bound a long load run grows it by one message a challenge.
type OutboxConfig struct {
	// PerUser is how many messages one account keeps, the newest; an
	// older one goes when a newer one arrives.
	PerUser int `json:"per_user" yaml:"per_user"`
	// MaxMessages bounds the messages of all accounts together; past it
	// the oldest message of all goes.
	MaxMessages int `json:"max_messages" yaml:"max_messages"`
}

// Continuation shapes continuation tokens.
type Continuation struct {
	Lifetime Duration `json:"lifetime" yaml:"lifetime"`
}

// TokenConfig shapes the issued security tokens.
type TokenConfig struct {
	AccessTokenLifetime  Duration `json:"access_token_lifetime" yaml:"access_token_lifetime"`
	RefreshTokenLifetime Duration `json:"refresh_token_lifetime" yaml:"refresh_token_lifetime"`
	// KeyBits is the size of the RS256 signing key: 2048 (a tenant's, the
	// default) or 3072/4096. 1024 roughly triples token answers per
	// second for load tests of the harness itself; no tenant issues such
	// tokens, so conformance results against it say nothing about one.
	KeyBits int `json:"key_bits,omitempty" yaml:"key_bits,omitempty"`
	// MaxRefreshTokens bounds the refresh tokens held (issued, not yet
	// redeemed, not expired); past it the oldest is revoked, as a tenant
	// revokes a session: redeeming it answers invalid_grant.
	MaxRefreshTokens int `json:"max_refresh_tokens" yaml:"max_refresh_tokens"`
}

// SeedUser is a user that exists when the emulator starts or is reset.
type SeedUser struct {
	Username   string            `json:"username" yaml:"username"`
	Password   string            `json:"password,omitempty" yaml:"password,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
	// Alias is a username the user may also sign in with (UsernameSignIn).
	Alias         string         `json:"alias,omitempty" yaml:"alias,omitempty"`
	StrongMethods []StrongMethod `json:"strong_methods,omitempty" yaml:"strong_methods,omitempty"`
}

// BackdoorConfig controls the test-only API under /emulator/v1/.
type BackdoorConfig struct {
	Disabled bool `json:"disabled" yaml:"disabled"`
}
