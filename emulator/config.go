package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/ciamcheck/ciamcheck/emulator/faults"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Sign-up methods a tenant's user flow can be configured with.
const (
	SignUpMethodPassword = "password" // email with password
	SignUpMethodOTP      = "otp"      // email one-time passcode
)

// Fixed identifiers of the default tenant, so a target profile written once
// keeps working against every run of the emulator.
const (
	DefaultTenant             = "contoso"
	DefaultTenantID           = "00000000-0000-4000-8000-0000000c1a4d"
	DefaultNativeClientID     = "00000000-0000-4000-8000-00000000c1a0"
	DefaultDisabledClientID   = "00000000-0000-4000-8000-00000000d15a"
	DefaultConfidentialClient = "00000000-0000-4000-8000-00000000c0f1"
	DefaultExtensionsAppID    = "00000000-0000-4000-8000-0000000e7a11"
)

// Duration is a time.Duration written as Go duration text ("10m", "1h2m")
// in YAML and JSON.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String renders the duration as Go duration text.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads duration text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"10m\": %w", err)
	}
	return d.parse(s)
}

// MarshalYAML writes the duration as text.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads duration text.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("duration must be a string like \"10m\": %w", err)
	}
	return d.parse(s)
}

func (d *Duration) parse(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("parse duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// Config is one emulated tenant. Every field has a default (DefaultConfig);
// a config file only needs the keys it changes.
type Config struct {
	Tenant          string `json:"tenant" yaml:"tenant"`
	TenantID        string `json:"tenant_id" yaml:"tenant_id"`
	ExtensionsAppID string `json:"extensions_app_id" yaml:"extensions_app_id"`
	// BaseURL, when set, fixes the scheme and host of the issuer and
	// discovery documents (for an emulator behind a proxy). Empty: derived
	// from each request's Host.
	BaseURL        string         `json:"base_url,omitempty" yaml:"base_url,omitempty"`
	Apps           []App          `json:"apps" yaml:"apps"`
	SignUpMethod   string         `json:"signup_method" yaml:"signup_method"`
	SSPR           SSPRConfig     `json:"sspr" yaml:"sspr"`
	Attributes     []Attribute    `json:"attributes" yaml:"attributes"`
	PasswordPolicy PasswordPolicy `json:"password_policy" yaml:"password_policy"`
	OTP            OTPConfig      `json:"otp" yaml:"otp"`
	Continuation   Continuation   `json:"continuation_token" yaml:"continuation_token"`
	Tokens         TokenConfig    `json:"tokens" yaml:"tokens"`
	Users          []SeedUser     `json:"users,omitempty" yaml:"users,omitempty"`
	// FailUserCreation makes every account creation at the end of sign-up
	// fail with 399279 ("User creation failed during self-service
	// sign-up", the sign-up error-code page), to rehearse an app's
	// handling of it.
	FailUserCreation bool       `json:"fail_user_creation,omitempty" yaml:"fail_user_creation,omitempty"`
	Faults           faults.Set `json:"faults" yaml:"faults"`
	Backdoor         Backdoor   `json:"backdoor" yaml:"backdoor"`
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
}

// keyBits is the signing key size Validate accepts, defaulted.
func (t TokenConfig) keyBits() int {
	if t.KeyBits == 0 {
		return 2048
	}
	return t.KeyBits
}

// SeedUser is a user that exists when the emulator starts or is reset.
type SeedUser struct {
	Username   string            `json:"username" yaml:"username"`
	Password   string            `json:"password,omitempty" yaml:"password,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
}

// Backdoor controls the test-only API under /emulator/v1/.
type Backdoor struct {
	Disabled bool `json:"disabled" yaml:"disabled"`
}

// DefaultConfig is the tenant the emulator serves with no config file.
func DefaultConfig() Config {
	ext := strings.ReplaceAll(DefaultExtensionsAppID, "-", "")
	return Config{
		Tenant:          DefaultTenant,
		TenantID:        DefaultTenantID,
		ExtensionsAppID: DefaultExtensionsAppID,
		Apps: []App{
			{Name: "native", ClientID: DefaultNativeClientID, PublicClient: true, NativeAuth: true,
				NoConsent: []string{"api://" + DefaultConfidentialClient + "/admin"}},
			{Name: "disabled", ClientID: DefaultDisabledClientID, PublicClient: true, NativeAuth: false},
			{Name: "confidential", ClientID: DefaultConfidentialClient, PublicClient: false, NativeAuth: true},
		},
		SignUpMethod: SignUpMethodPassword,
		SSPR: SSPRConfig{
			Enabled:      true,
			PollInterval: 2,
			PollSequence: []nativeauth.PollStatus{
				nativeauth.PollStatusNotStarted, nativeauth.PollStatusInProgress, nativeauth.PollStatusSucceeded,
			},
		},
		Attributes: []Attribute{
			{Name: "displayName", Type: "string", InputType: "TextBox", Required: true},
			{Name: "city", Type: "string", InputType: "TextBox"},
			{Name: "extension_" + ext + "_age", Type: "string", InputType: "TextBox", Regex: `^[1-9][0-9]*$`},
		},
		PasswordPolicy: PasswordPolicy{
			MinLength: 8, MaxLength: 256, MinCharacterClasses: 3,
			BannedWords: []string{"password", "contoso"}, History: 3,
		},
		OTP:          OTPConfig{CodeLength: 8, Lifetime: Duration(10 * time.Minute), Interval: 300},
		Continuation: Continuation{Lifetime: Duration(10 * time.Minute)},
		Tokens: TokenConfig{
			AccessTokenLifetime:  Duration(time.Hour),
			RefreshTokenLifetime: Duration(24 * time.Hour),
		},
		Faults: faults.Set{},
	}
}

// LoadConfig reads a YAML tenant file. Unknown keys are an error (a typo
// must not silently fall back to a default); missing keys keep defaults.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read emulator config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("emulator config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes YAML (JSON is YAML) over DefaultConfig and validates it.
func ParseConfig(b []byte) (Config, error) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// io.EOF: an empty file means "all defaults".
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("decode: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

var (
	tenantNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	attrNameRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,127}$`)
)

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Validate reports the first problem that would make the tenant unusable.
func (c Config) Validate() error {
	if !tenantNameRE.MatchString(c.Tenant) {
		return fmt.Errorf("tenant %q: want lower-case letters, digits and '-'", c.Tenant)
	}
	if !isGUID(c.TenantID) {
		return fmt.Errorf("tenant_id %q is not a GUID", c.TenantID)
	}
	if !isGUID(c.ExtensionsAppID) {
		return fmt.Errorf("extensions_app_id %q is not a GUID", c.ExtensionsAppID)
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return fmt.Errorf("base_url %q: want http:// or https://", c.BaseURL)
	}
	if len(c.Apps) == 0 {
		return errors.New("apps: at least one app registration is needed")
	}
	switch c.Tokens.keyBits() {
	case 1024, 2048, 3072, 4096:
	default:
		return fmt.Errorf("tokens.key_bits %d: want 2048 (the default), 3072, 4096, or 1024 for load tests of the harness", c.Tokens.KeyBits)
	}
	seen := map[string]bool{}
	for i, a := range c.Apps {
		if !isGUID(a.ClientID) {
			return fmt.Errorf("apps[%d] client_id %q is not a GUID", i, a.ClientID)
		}
		k := strings.ToLower(a.ClientID)
		if seen[k] {
			return fmt.Errorf("apps[%d] client_id %s appears twice", i, a.ClientID)
		}
		seen[k] = true
	}
	if c.SignUpMethod != SignUpMethodPassword && c.SignUpMethod != SignUpMethodOTP {
		return fmt.Errorf("signup_method %q: want %q or %q", c.SignUpMethod, SignUpMethodPassword, SignUpMethodOTP)
	}
	if c.SSPR.PollInterval < 0 {
		return errors.New("sspr.poll_interval must not be negative")
	}
	if len(c.SSPR.PollSequence) == 0 {
		return errors.New("sspr.poll_sequence must not be empty")
	}
	for i, s := range c.SSPR.PollSequence {
		switch s {
		case nativeauth.PollStatusNotStarted, nativeauth.PollStatusInProgress:
			if i == len(c.SSPR.PollSequence)-1 {
				return fmt.Errorf("sspr.poll_sequence must end with %q or %q", nativeauth.PollStatusSucceeded, nativeauth.PollStatusFailed)
			}
		case nativeauth.PollStatusSucceeded, nativeauth.PollStatusFailed:
			if i != len(c.SSPR.PollSequence)-1 {
				return fmt.Errorf("sspr.poll_sequence: %q may only come last", s)
			}
		default:
			return fmt.Errorf("sspr.poll_sequence[%d] %q is not a poll status", i, s)
		}
	}
	if len(c.SSPR.PollSequence) > 64 {
		return errors.New("sspr.poll_sequence: at most 64 statuses")
	}
	names := map[string]bool{}
	for i, a := range c.Attributes {
		if !attrNameRE.MatchString(a.Name) {
			return fmt.Errorf("attributes[%d] name %q is not a valid attribute name", i, a.Name)
		}
		if names[a.Name] {
			return fmt.Errorf("attributes[%d] %q appears twice", i, a.Name)
		}
		names[a.Name] = true
		if _, err := regexp.Compile(a.Regex); err != nil {
			return fmt.Errorf("attributes[%d] %q regex: %w", i, a.Name, err)
		}
		switch a.InputType {
		case "", "TextBox", "SingleRadioSelect", "CheckboxMultiSelect":
		default:
			// The pages' three User Input Types; a typo would otherwise be
			// accepted and silently mean nothing.
			return fmt.Errorf("attributes[%d] %q input_type %q: want TextBox, SingleRadioSelect or CheckboxMultiSelect", i, a.Name, a.InputType)
		}
	}
	p := c.PasswordPolicy
	switch {
	case p.MinLength < 1:
		return errors.New("password_policy.min_length must be at least 1")
	case p.MaxLength < p.MinLength:
		return errors.New("password_policy.max_length must be at least min_length")
	case p.MinCharacterClasses < 0 || p.MinCharacterClasses > 4:
		return errors.New("password_policy.min_character_classes must be 0..4")
	case p.History < 0 || p.History > 24:
		return errors.New("password_policy.history must be 0..24")
	}
	for i, w := range p.BannedWords {
		if strings.TrimSpace(w) == "" {
			return fmt.Errorf("password_policy.banned_words[%d] is empty", i)
		}
	}
	if c.OTP.CodeLength < 4 || c.OTP.CodeLength > 16 {
		return errors.New("otp.code_length must be 4..16")
	}
	if c.OTP.Lifetime <= 0 || c.Continuation.Lifetime <= 0 {
		return errors.New("otp.lifetime and continuation_token.lifetime must be positive")
	}
	if c.OTP.Interval < 0 {
		return errors.New("otp.interval must not be negative")
	}
	if c.Tokens.AccessTokenLifetime <= 0 || c.Tokens.RefreshTokenLifetime <= 0 {
		return errors.New("tokens lifetimes must be positive")
	}
	for i, u := range c.Users {
		if !validUsername(u.Username) {
			return fmt.Errorf("users[%d] username %q is not an email address", i, u.Username)
		}
	}
	if err := c.Faults.Validate(); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	if err := validateFaultKeys(c.Faults); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	return nil
}

// servedPath reports whether p, below the tenant base URL, is a path the
// emulator routes (the flow endpoints, discovery and keys).
func servedPath(p string) bool {
	return slices.Contains(nativeauth.Endpoints, nativeauth.Endpoint(p)) ||
		p == string(nativeauth.EndpointOpenIDConfiguration) || p == pathJWKS
}

// validateFaultKeys refuses a fault key that names no path the tenant
// serves: such a key (a typo, or the "/{tenant}.onmicrosoft.com" prefix
// written in) injects nothing, and a resilience rehearsal would pass
// without having rehearsed anything.
func validateFaultKeys(s faults.Set) error {
	var errs []error
	for k := range s.Endpoints {
		if k == faults.Wildcard {
			continue
		}
		if !servedPath(k) {
			errs = append(errs, fmt.Errorf("endpoint %q is not a path the tenant serves (want e.g. %q, below the tenant base URL, or %q)",
				k, nativeauth.EndpointToken, faults.Wildcard))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Defaults of the emulator's own limits, where the pages give none.
const (
	// DefaultMaxLiveFlows bounds sign-up, sign-in and reset flows in
	// progress: about 40 MB of flow records.
	DefaultMaxLiveFlows = 100_000
	// DefaultOTPMaxAttempts is how many wrong oob values one code takes.
	DefaultOTPMaxAttempts = 10
)
