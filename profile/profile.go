// Package profile reads a target profile, which describes the system under
// test (the embedded emulator or a real tenant), and opens it: a client for
// its API, a source of one-time passcodes, what the tenant is expected to do
// (Expectations, the one shape the suites use; ExpectationsOf reads it from
// a tenant configuration) and what the target can do for tests: the
// Capability vocabulary the catalog's entries need and Require answers. (It
// was named target/, which build tools and ignore templates read as build
// output.)
package profile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Kinds of target.
const (
	KindEmulator = "emulator" // start the embedded emulator in-process
	KindTenant   = "tenant"   // any URL: a real tenant, a proxy, an emulator elsewhere
)

// OTP sources a profile can name.
const (
	OTPOutbox = "outbox"
	OTPExec   = "exec"
	OTPPrompt = "prompt"
	// OTPIMAP ("imap") is in imap.go.
)

// Profile is a target profile as written in YAML. The zero value is not
// valid; Load and Parse fill defaults and validate.
type Profile struct {
	Kind string `yaml:"kind" json:"kind"`
	// EmulatorConfig is a YAML tenant file for the embedded emulator
	// (kind emulator only); empty means the emulator's defaults.
	EmulatorConfig       string `yaml:"emulator_config,omitempty" json:"emulator_config,omitempty"`
	BaseURL              string `yaml:"base_url,omitempty" json:"base_url,omitempty"`
	Tenant               string `yaml:"tenant,omitempty" json:"tenant,omitempty"`
	ClientID             string `yaml:"client_id,omitempty" json:"client_id,omitempty"`
	DisabledClientID     string `yaml:"disabled_client_id,omitempty" json:"disabled_client_id,omitempty"`
	ConfidentialClientID string `yaml:"confidential_client_id,omitempty" json:"confidential_client_id,omitempty"`
	// UnconsentedScope is an API scope the client has no consent for, for
	// the token spec that expects invalid_request; optional.
	UnconsentedScope string        `yaml:"unconsented_scope,omitempty" json:"unconsented_scope,omitempty"`
	Scopes           []string      `yaml:"scopes,omitempty" json:"scopes,omitempty"`
	Users            UsersSpec     `yaml:"users" json:"users"`
	OTP              OTPSpec       `yaml:"otp" json:"otp"`
	Expect           *Expectations `yaml:"expect,omitempty" json:"expect,omitempty"`
	Capabilities     CapsSpec      `yaml:"capabilities" json:"capabilities"`

	// dir is the profile file's directory: relative paths in the profile
	// (emulator_config, otp.command) are relative to it, so a profile and
	// its scripts can live together wherever the run starts.
	dir string
}

// UsersSpec says how test usernames are made and which users already exist.
type UsersSpec struct {
	// Domain and LocalPart make plus-addressed usernames:
	// {local_part}+{run}-{n}@{domain}.
	Domain    string         `yaml:"domain" json:"domain"`
	LocalPart string         `yaml:"local_part" json:"local_part"`
	Existing  []ExistingUser `yaml:"existing,omitempty" json:"existing,omitempty"`
}

// ExistingUser is a user that can sign in. The password is read from the
// environment variable PasswordEnv at Open, so the profile holds no secret.
type ExistingUser struct {
	Username    string `yaml:"username" json:"username"`
	PasswordEnv string `yaml:"password_env" json:"password_env"`
}

// OTPSpec says where one-time passcodes come from.
type OTPSpec struct {
	Source  string   `yaml:"source" json:"source"`
	Command []string `yaml:"command,omitempty" json:"command,omitempty"`
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// IMAP is the test mailbox of source imap.
	IMAP *IMAPSpec `yaml:"imap,omitempty" json:"imap,omitempty"`
}

// CapsSpec is what a tenant target declares it can do for tests; the
// emulator has everything.
type CapsSpec struct {
	Backdoor bool `yaml:"backdoor" json:"backdoor"`
	// BackdoorTokenEnv names the environment variable holding the bearer
	// token of an emulator that serves its backdoor beyond loopback
	// (`ciamcheck emulator --backdoor-token`); the token itself never goes
	// in the profile.
	BackdoorTokenEnv string `yaml:"backdoor_token_env,omitempty" json:"backdoor_token_env,omitempty"`
}

// Duration is a time.Duration written as Go duration text ("60s").
type Duration time.Duration

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalYAML writes Go duration text.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalJSON writes Go duration text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalYAML reads Go duration text.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration such as 60s: %w", n.Line, err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 60s: %w", n.Line, s, err)
	}
	*d = Duration(v)
	return nil
}

// Default OTP timeout when the profile does not set one.
const defaultOTPTimeout = 60 * time.Second

// maxProfileBytes bounds a profile file; real ones are a few hundred bytes.
const maxProfileBytes = 1 << 20

// Default returns the profile used when no file is given: the embedded
// emulator with its default tenant.
func Default() *Profile {
	p := &Profile{Kind: KindEmulator}
	p.applyDefaults()
	return p
}

// Load reads and validates a profile file; "" returns Default().
func Load(path string) (*Profile, error) {
	if path == "" {
		return Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("target profile: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxProfileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("target profile %s: %w", path, err)
	}
	if len(b) > maxProfileBytes {
		return nil, fmt.Errorf("target profile %s: larger than %d bytes", path, maxProfileBytes)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("target profile %s: %w", path, err)
	}
	p.dir = filepath.Dir(path)
	return p, nil
}

// Parse decodes and validates a profile. Unknown keys are errors: a typo
// must not silently become a default.
func Parse(b []byte) (*Profile, error) {
	var p Profile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return Default(), nil
		}
		return nil, fmt.Errorf("decode: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decode: a profile is one YAML document")
	}
	p.applyDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) applyDefaults() {
	if p.Kind == "" {
		p.Kind = KindEmulator
	}
	if len(p.Scopes) == 0 {
		p.Scopes = []string{"openid", "offline_access"}
	}
	if p.Users.Domain == "" {
		p.Users.Domain = "example.com"
	}
	if p.Users.LocalPart == "" {
		p.Users.LocalPart = "ciam"
	}
	if p.OTP.Source == "" {
		if p.Kind == KindEmulator {
			p.OTP.Source = OTPOutbox
		} else {
			p.OTP.Source = OTPPrompt
		}
	}
	if p.OTP.Timeout == 0 {
		p.OTP.Timeout = Duration(defaultOTPTimeout)
	}
	if p.OTP.IMAP != nil {
		p.OTP.IMAP.applyDefaults()
	}
	if p.Kind == KindEmulator {
		p.Capabilities.Backdoor = true
	}
	if p.Expect != nil {
		p.Expect.applyDefaults()
	}
}

var (
	tenantRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	localPartRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)
	domainRE    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
	envNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	scopeRE     = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`) // RFC 6749 scope-token
)

// Validate reports every problem, each naming its field.
func (p *Profile) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	switch p.Kind {
	case KindEmulator:
		if p.BaseURL != "" {
			bad("base_url", "not used with kind emulator (the emulator listens on a free loopback port); use kind tenant for an emulator elsewhere")
		}
		if p.Capabilities.BackdoorTokenEnv != "" {
			bad("capabilities.backdoor_token_env", "not used with kind emulator (its backdoor is on loopback); use kind tenant for an emulator elsewhere")
		}
	case KindTenant:
		p.validateTenant(bad)
	default:
		bad("kind", "%q is not %q or %q", p.Kind, KindEmulator, KindTenant)
	}
	for i, s := range p.Scopes {
		if !scopeRE.MatchString(s) {
			bad(fmt.Sprintf("scopes[%d]", i), "%q is not a scope token", s)
		}
	}
	p.validateUsers(bad)
	p.validateOTP(bad)
	if p.Expect != nil {
		errs = append(errs, p.Expect.validate("expect")...)
	}
	return errors.Join(errs...)
}

// validateTenant checks what a profile of kind tenant must say, and may.
func (p *Profile) validateTenant(bad func(field, format string, args ...any)) {
	if p.EmulatorConfig != "" {
		bad("emulator_config", "only used with kind emulator")
	}
	if p.BaseURL == "" {
		bad("base_url", "required for kind tenant")
	} else if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("base_url", "want an absolute http(s) URL such as https://contoso.ciamlogin.com/contoso.onmicrosoft.com")
	} else if u.RawQuery != "" || u.Fragment != "" {
		bad("base_url", "must not have a query or fragment")
	}
	if p.Tenant == "" {
		bad("tenant", "required for kind tenant")
	} else if !tenantRE.MatchString(p.Tenant) {
		bad("tenant", "%q is not a tenant subdomain (lower-case letters, digits, hyphens)", p.Tenant)
	}
	if p.ClientID == "" {
		bad("client_id", "required for kind tenant")
	}
	if p.Expect == nil {
		bad("expect", "required for kind tenant: the specs need the tenant's configuration")
	}
	if p.OTP.Source == OTPOutbox && !p.Capabilities.Backdoor {
		bad("otp.source", "outbox needs capabilities.backdoor: true (an emulator elsewhere)")
	}
	if env := p.Capabilities.BackdoorTokenEnv; env != "" {
		if !p.Capabilities.Backdoor {
			bad("capabilities.backdoor_token_env", "only used with capabilities.backdoor: true")
		}
		if !envNameRE.MatchString(env) {
			bad("capabilities.backdoor_token_env", "%q is not an environment variable name (the token itself never goes in the profile)", env)
		}
	}
}

func (p *Profile) validateUsers(bad func(field, format string, args ...any)) {
	if !domainRE.MatchString(p.Users.Domain) {
		bad("users.domain", "%q is not a domain name", p.Users.Domain)
	}
	if !localPartRE.MatchString(p.Users.LocalPart) {
		bad("users.local_part", "%q: use 1-40 letters, digits, dots, underscores or hyphens", p.Users.LocalPart)
	}
	for i, u := range p.Users.Existing {
		field := fmt.Sprintf("users.existing[%d]", i)
		if u.Username == "" || strings.Count(u.Username, "@") != 1 {
			bad(field+".username", "%q is not an email address", u.Username)
		}
		if !envNameRE.MatchString(u.PasswordEnv) {
			bad(field+".password_env", "%q is not an environment variable name (the password itself never goes in the profile)", u.PasswordEnv)
		}
	}
}

func (p *Profile) validateOTP(bad func(field, format string, args ...any)) {
	switch p.OTP.Source {
	case OTPOutbox, OTPPrompt, OTPIMAP:
		if len(p.OTP.Command) > 0 {
			bad("otp.command", "only used with source exec")
		}
	case OTPExec:
		if len(p.OTP.Command) == 0 || p.OTP.Command[0] == "" {
			bad("otp.command", "required for source exec, as a list: [./read-mailbox.sh, --flag]")
		}
	default:
		bad("otp.source", "%q is not outbox, exec, imap or prompt", p.OTP.Source)
	}
	p.validateOTPIMAP(bad)
	if p.OTP.Timeout < 0 {
		bad("otp.timeout", "must be positive")
	}
}

// Hash is the hex sha256 of the profile's canonical form (defaults applied,
// fields in a fixed order), so two files that mean the same target hash
// alike. The profile holds no secret, only names of variables holding them.
func (p *Profile) Hash() string {
	b, err := json.Marshal(p)
	if err != nil {
		// Every field is a plain value; Marshal cannot fail. Hash the
		// error text rather than panic, so the record still says something.
		b = []byte(err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// path resolves a path written in the profile.
func (p *Profile) path(s string) string {
	if s == "" || filepath.IsAbs(s) || p.dir == "" {
		return s
	}
	return filepath.Join(p.dir, s)
}

// Summary is what a run record says about the target, with anything that
// could be a credential removed.
type Summary struct {
	Kind        string
	BaseURL     string
	Tenant      string
	ClientID    string
	ProfileHash string
}

// Redacted summarises the profile for the run record. A base URL may carry
// credentials for a proxy (user:password@host) or a token in its query;
// both are removed.
func (p *Profile) Redacted() Summary {
	return Summary{
		Kind:        p.Kind,
		BaseURL:     redactURL(p.BaseURL),
		Tenant:      p.Tenant,
		ClientID:    p.ClientID,
		ProfileHash: p.Hash(),
	}
}

func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable URL]"
	}
	if u.User != nil {
		u.User = url.User("redacted")
	}
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	u.Fragment = ""
	return u.String()
}
