package emulator

import (
	"bytes"
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

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
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

// keyBits is the signing key size of t, defaulted.
func keyBits(t backdoor.TokenConfig) int {
	if t.KeyBits == 0 {
		return 2048
	}
	return t.KeyBits
}

// DefaultConfig is the tenant the emulator serves with no config file.
func DefaultConfig() backdoor.Config {
	ext := strings.ReplaceAll(DefaultExtensionsAppID, "-", "")
	return backdoor.Config{
		Tenant:          DefaultTenant,
		TenantID:        DefaultTenantID,
		ExtensionsAppID: DefaultExtensionsAppID,
		Apps: []backdoor.App{
			{Name: "native", ClientID: DefaultNativeClientID, PublicClient: true, NativeAuth: true,
				NoConsent: []string{"api://" + DefaultConfidentialClient + "/admin"}},
			{Name: "disabled", ClientID: DefaultDisabledClientID, PublicClient: true, NativeAuth: false},
			{Name: "confidential", ClientID: DefaultConfidentialClient, PublicClient: false, NativeAuth: true},
		},
		SignUpMethod: nativeauth.SignUpMethodPassword,
		SSPR: backdoor.SSPRConfig{
			Enabled:      true,
			PollInterval: 2,
			PollSequence: []nativeauth.PollStatus{
				nativeauth.PollStatusNotStarted, nativeauth.PollStatusInProgress, nativeauth.PollStatusSucceeded,
			},
		},
		Attributes: []backdoor.Attribute{
			{Name: "displayName", Type: "string", InputType: "TextBox", Required: true},
			{Name: "city", Type: "string", InputType: "TextBox"},
			{Name: "extension_" + ext + "_age", Type: "string", InputType: "TextBox", Regex: `^[1-9][0-9]*$`},
		},
		PasswordPolicy: backdoor.PasswordPolicy{
			MinLength: 8, MaxLength: 256, MinCharacterClasses: 3,
			BannedWords: []string{"password", "contoso"}, History: 3,
		},
		OTP: backdoor.OTPConfig{CodeLength: 8, Lifetime: backdoor.Duration(10 * time.Minute), Interval: 300,
			MaxAttempts: DefaultOTPMaxAttempts},
		Continuation: backdoor.Continuation{Lifetime: backdoor.Duration(10 * time.Minute)},
		MaxLiveFlows: DefaultMaxLiveFlows,
		Outbox:       backdoor.OutboxConfig{PerUser: DefaultOutboxPerUser, MaxMessages: DefaultOutboxMaxMessages},
		Tokens: backdoor.TokenConfig{
			AccessTokenLifetime:  backdoor.Duration(time.Hour),
			RefreshTokenLifetime: backdoor.Duration(24 * time.Hour),
			MaxRefreshTokens:     DefaultMaxRefreshTokens,
		},
		Faults: backdoor.Faults{},
	}
}

// LoadConfig reads a YAML tenant file. Unknown keys are an error (a typo
// must not silently fall back to a default); missing keys keep defaults.
func LoadConfig(path string) (backdoor.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return backdoor.Config{}, fmt.Errorf("read emulator config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return backdoor.Config{}, fmt.Errorf("emulator config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes YAML (JSON is YAML) over DefaultConfig and validates it.
func ParseConfig(b []byte) (backdoor.Config, error) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// io.EOF: an empty file means "all defaults".
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return backdoor.Config{}, fmt.Errorf("decode: %w", err)
	}
	if err := validateConfig(cfg); err != nil {
		return backdoor.Config{}, err
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

// validateConfig reports the first problem that would make the tenant
// unusable.
func validateConfig(c backdoor.Config) error {
	for _, check := range []func(backdoor.Config) error{
		validateTenant, validateSSPR, validateAttributes, validatePasswordPolicy,
		validateLifetimes, validateUsers, validateMFAConfig, validateFaults,
	} {
		if err := check(c); err != nil {
			return err
		}
	}
	return nil
}

// validateTenant checks the tenant's identity, its app registrations and its sign-up method.
func validateTenant(c backdoor.Config) error {
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
	switch keyBits(c.Tokens) {
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
	if !slices.Contains(nativeauth.SignUpMethods, c.SignUpMethod) {
		return fmt.Errorf("signup_method %q: want %q or %q", c.SignUpMethod, nativeauth.SignUpMethodPassword, nativeauth.SignUpMethodOTP)
	}
	return nil
}

// validateSSPR checks the reset poll: a sequence that ends, once, in a final status.
func validateSSPR(c backdoor.Config) error {
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
	return nil
}

// validateAttributes checks the user attributes sign-up collects.
func validateAttributes(c backdoor.Config) error {
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
	return nil
}

// validatePasswordPolicy checks the password policy.
func validatePasswordPolicy(c backdoor.Config) error {
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
	return nil
}

// validateLifetimes checks the OTP, continuation-token and token limits.
func validateLifetimes(c backdoor.Config) error {
	if c.OTP.CodeLength < 4 || c.OTP.CodeLength > 16 {
		return errors.New("otp.code_length must be 4..16")
	}
	if c.OTP.Lifetime <= 0 || c.Continuation.Lifetime <= 0 {
		return errors.New("otp.lifetime and continuation_token.lifetime must be positive")
	}
	if c.OTP.MaxAttempts < 1 || c.OTP.MaxAttempts > 255 {
		return errors.New("otp.max_attempts must be 1..255")
	}
	if c.MaxLiveFlows < 1 {
		return errors.New("max_live_flows must be at least 1")
	}
	if c.OTP.Interval < 0 {
		return errors.New("otp.interval must not be negative")
	}
	if c.Tokens.AccessTokenLifetime <= 0 || c.Tokens.RefreshTokenLifetime <= 0 {
		return errors.New("tokens lifetimes must be positive")
	}
	return validateStoreBounds(c)
}

// maxStoreBound caps the store bounds a config may set: past it a bound
// no longer protects the machine (a billion refresh tokens are hundreds
// of GB), so a larger value is a typo rather than a choice.
const maxStoreBound = 100_000_000

// maxOutboxPerUser caps outbox.per_user: GET outbox answers a user's
// whole list in one body.
const maxOutboxPerUser = 1000

// validateStoreBounds checks the bounds of the refresh-token store and
// the outbox.
func validateStoreBounds(c backdoor.Config) error {
	var errs []error
	check := func(field string, got, lo, hi int) {
		if got < lo || got > hi {
			errs = append(errs, fmt.Errorf("%s: want %d..%d, got %d", field, lo, hi, got))
		}
	}
	check("tokens.max_refresh_tokens", c.Tokens.MaxRefreshTokens, 1, maxStoreBound)
	check("outbox.per_user", c.Outbox.PerUser, 1, maxOutboxPerUser)
	check("outbox.max_messages", c.Outbox.MaxMessages, 1, maxStoreBound)
	return errors.Join(errs...)
}

// validateUsers checks the seeded users.
func validateUsers(c backdoor.Config) error {
	for i, u := range c.Users {
		if !validUsername(u.Username) {
			return fmt.Errorf("users[%d] username %q is not an email address", i, u.Username)
		}
	}
	return nil
}

// validateFaults checks the fault table.
func validateFaults(c backdoor.Config) error {
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
		slices.Contains(nativeauth.StrongAuthEndpoints, nativeauth.Endpoint(p)) ||
		p == string(nativeauth.EndpointOpenIDConfiguration) || p == pathJWKS
}

// validateFaultKeys refuses a fault key that names no path the tenant
// serves: such a key (a typo, or the "/{tenant}.onmicrosoft.com" prefix
// written in) injects nothing, and a resilience rehearsal would pass
// without having rehearsed anything.
func validateFaultKeys(s backdoor.Faults) error {
	var errs []error
	for k := range s.Endpoints {
		if k == backdoor.FaultWildcard {
			continue
		}
		if !servedPath(k) {
			errs = append(errs, fmt.Errorf("endpoint %q is not a path the tenant serves (want e.g. %q, below the tenant base URL, or %q)",
				k, nativeauth.EndpointToken, backdoor.FaultWildcard))
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
	// DefaultMaxRefreshTokens bounds the refresh tokens held: about 290
	// bytes each (TestStoreEntrySizes), 72 MB.
	DefaultMaxRefreshTokens = 250_000
	// DefaultOutboxPerUser is how many passcode messages an account keeps.
	DefaultOutboxPerUser = 20
	// DefaultOutboxMaxMessages bounds the messages of all accounts: about
	// 220 bytes each, 44 MB.
	DefaultOutboxMaxMessages = 200_000
)
