package profile

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// Expectations is the configuration the tenant is expected to have. Many
// specs depend on it: which sign-up method, which attributes are required,
// what the password policy refuses.
//
// Its parts are not the emulator's backdoor.Config types although they
// name the same settings: a profile must refuse the keys only the emulator
// acts on (mfa.blocked_numbers, attributes[].input_type,
// password_policy.min_character_classes), which nothing here would check,
// and profiles already say password_policy.banned where the emulator's
// file says banned_words. ExpectationsOf maps one onto the other.
type Expectations struct {
	SignUpMethod   nativeauth.SignUpMethod `yaml:"signup_method" json:"signup_method"`
	SSPR           bool                    `yaml:"sspr" json:"sspr"`
	Attributes     []AttributeSpec         `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	PasswordPolicy PasswordPolicy          `yaml:"password_policy" json:"password_policy"`
	CodeLength     int                     `yaml:"code_length" json:"code_length"`
	// MFA is the tenant's multifactor authentication (2026-02 revision).
	MFA MFAExpectations `yaml:"mfa" json:"mfa"`
	// UsernameSignIn: users may sign in with a username (alias) too.
	UsernameSignIn bool `yaml:"username_sign_in,omitempty" json:"username_sign_in,omitempty"`
}

// MFAExpectations is what the tenant requires as a second factor.
type MFAExpectations struct {
	// Enabled: a Conditional Access policy requires MFA of password users.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Methods are the strong methods enabled: email, sms.
	Methods []string `yaml:"methods,omitempty" json:"methods,omitempty"`
	// RequireRegistration: users without a strong method must register one.
	RequireRegistration bool `yaml:"require_registration" json:"require_registration"`
}

// AttributeSpec is one attribute the sign-up user flow collects. Value, when
// set, is what test users get; otherwise one is made to fit Regex.
type AttributeSpec struct {
	Name     string `yaml:"name" json:"name"`
	Required bool   `yaml:"required" json:"required"`
	Type     string `yaml:"type,omitempty" json:"type,omitempty"`
	Regex    string `yaml:"regex,omitempty" json:"regex,omitempty"`
	Value    string `yaml:"value,omitempty" json:"value,omitempty"`
}

// PasswordPolicy is the tenant's expected password rules.
type PasswordPolicy struct {
	MinLength int      `yaml:"min_length" json:"min_length"`
	MaxLength int      `yaml:"max_length" json:"max_length"`
	Banned    []string `yaml:"banned,omitempty" json:"banned,omitempty"`
	History   int      `yaml:"history" json:"history"`
}

func (e *Expectations) applyDefaults() {
	if e.SignUpMethod == "" {
		e.SignUpMethod = nativeauth.SignUpMethodPassword
	}
	// Entra's documented limits: "fewer than 8", "longer than 256".
	if e.PasswordPolicy.MinLength == 0 {
		e.PasswordPolicy.MinLength = 8
	}
	if e.PasswordPolicy.MaxLength == 0 {
		e.PasswordPolicy.MaxLength = 256
	}
	if e.CodeLength == 0 {
		e.CodeLength = 8
	}
	for i := range e.Attributes {
		if e.Attributes[i].Type == "" {
			e.Attributes[i].Type = "string"
		}
	}
}

func (e *Expectations) validate(field string) []error {
	var errs []error
	bad := func(f, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", field, f, fmt.Sprintf(format, args...)))
	}
	if !slices.Contains(nativeauth.SignUpMethods, e.SignUpMethod) {
		bad("signup_method", "%q is not %q or %q", e.SignUpMethod, nativeauth.SignUpMethodPassword, nativeauth.SignUpMethodOTP)
	}
	pp := e.PasswordPolicy
	if pp.MinLength < 1 || pp.MaxLength < pp.MinLength {
		bad("password_policy", "min_length %d and max_length %d do not make a range", pp.MinLength, pp.MaxLength)
	}
	if pp.History < 0 {
		bad("password_policy.history", "must not be negative")
	}
	if e.CodeLength < 4 || e.CodeLength > 12 {
		bad("code_length", "%d is outside 4..12", e.CodeLength)
	}
	seen := map[string]bool{}
	for i, a := range e.Attributes {
		f := fmt.Sprintf("attributes[%d]", i)
		if a.Name == "" {
			bad(f+".name", "required")
			continue
		}
		if seen[a.Name] {
			bad(f+".name", "%q listed twice", a.Name)
		}
		seen[a.Name] = true
		if a.Regex != "" {
			re, err := regexp.Compile(a.Regex)
			if err != nil {
				bad(f+".regex", "%v", err)
			} else if a.Value != "" && !re.MatchString(a.Value) {
				bad(f+".value", "%q does not match the attribute's regex", a.Value)
			}
		}
	}
	return errs
}

// ValidValue returns a value the tenant must accept for the attribute: the
// profile's Value, or one made for the known regexes, or a plain string.
func (a AttributeSpec) ValidValue() string {
	if a.Value != "" {
		return a.Value
	}
	if a.Regex != "" {
		re, err := regexp.Compile(a.Regex)
		if err == nil {
			for _, v := range []string{"42", "Test User", "test@example.com", "ciamcheck", "1", "a", "A1"} {
				if re.MatchString(v) {
					return v
				}
			}
		}
	}
	if strings.Contains(strings.ToLower(a.Name), "age") {
		return "42"
	}
	return "ciamcheck " + a.Name
}

// RequiredAttributes returns a valid value for every required attribute.
func (e Expectations) RequiredAttributes() nativeauth.Attributes {
	out := nativeauth.Attributes{}
	for _, a := range e.Attributes {
		if a.Required {
			out[a.Name] = a.ValidValue()
		}
	}
	return out
}

// ExpectationsOf is what a tenant configured as c is expected to do: the
// embedded emulator's, so kind emulator needs no expect block, and a
// backdoor's after a spec changed it, so the suites never state a change
// twice.
func ExpectationsOf(c backdoor.Config) Expectations {
	e := Expectations{
		SignUpMethod: c.SignUpMethod,
		SSPR:         c.SSPR.Enabled,
		PasswordPolicy: PasswordPolicy{
			MinLength: c.PasswordPolicy.MinLength,
			MaxLength: c.PasswordPolicy.MaxLength,
			Banned:    slices.Clone(c.PasswordPolicy.BannedWords),
			History:   c.PasswordPolicy.History,
		},
		CodeLength: c.OTP.CodeLength,
		MFA: MFAExpectations{Enabled: c.MFA.Enabled, Methods: slices.Clone(c.MFA.Methods),
			RequireRegistration: c.MFA.RequireRegistration},
		UsernameSignIn: c.UsernameSignIn,
	}
	for _, a := range c.Attributes {
		e.Attributes = append(e.Attributes, AttributeSpec{Name: a.Name, Required: a.Required, Type: a.Type, Regex: a.Regex})
	}
	e.applyDefaults()
	return e
}

// ForNewPasswords is the part of the policy the scenarios' generated
// passwords must satisfy (history concerns a user's earlier passwords, which
// a new one never repeats).
func (p PasswordPolicy) ForNewPasswords() scenarios.PasswordPolicy {
	return scenarios.PasswordPolicy{MinLength: p.MinLength, MaxLength: p.MaxLength, Banned: slices.Clone(p.Banned)}
}
