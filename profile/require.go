package profile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Capability is something a target must offer for a check to run: a
// backdoor, a client of some kind, a tenant configured some way. A check
// whose target lacks one skips with the reason, and the report shows it.
//
// The type lives here because this package is what answers it (Require,
// from the opened target), and it is the lowest package that the catalog,
// which names what each entry needs, and the suites, which ask, may both
// import; nativeauth is lower still but holds the API's own vocabulary,
// which has no notion of a test target.
type Capability string

const (
	CapBackdoor           Capability = "backdoor"            // the emulator's backdoor API
	CapOutbox             Capability = "outbox"              // passcodes come from the emulator outbox
	CapDisabledClient     Capability = "disabled-client"     // a client without native authentication
	CapConfidentialClient Capability = "confidential-client" // a client that is not public
	CapClock              Capability = "backdoor:clock"      // move the target's clock (expiry)
	CapPollControl        Capability = "backdoor:poll"       // hold or fail a password reset
	CapFaults             Capability = "backdoor:faults"     // inject redirects, creation failures
	CapSignUpPassword     Capability = "signup:password"     // sign-up with email and password
	CapSignUpOTP          Capability = "signup:otp"          // sign-up with email one-time passcode
	CapSignInPassword     Capability = "signin:password"     // a user who signs in with a password
	CapSignInOTP          Capability = "signin:otp"          // a user who signs in with a one-time passcode
	CapSSPR               Capability = "sspr"                // self-service password reset enabled
	CapRequiredAttributes Capability = "required-attributes" // the user flow has required attributes
	CapOptionalAttributes Capability = "optional-attributes" // the user flow has optional attributes
	CapAttributeRegex     Capability = "attribute-regex"     // an attribute with a validation regex
	CapExistingUser       Capability = "existing-user"       // a user the suite may sign in or reset
	CapBannedPasswords    Capability = "password-policy:banned"
	CapPasswordHistory    Capability = "password-history"
	CapScopeUnconsented   Capability = "scope:unconsented" // an API scope the client has no consent for
	CapOTPDisabledTenant  Capability = "tenant:email-otp-disabled"
	CapSSPRDisabledTenant Capability = "tenant:sspr-disabled"
	// CapMFA is a tenant that requires MFA by email of password users and
	// the registration of a strong method by those without one (2026-02).
	CapMFA Capability = "tenant:mfa"
	// CapNoMFA is a tenant that issues tokens after the first factor: the
	// older pages' flows end there.
	CapNoMFA Capability = "tenant:no-mfa"
)

// IsBackdoor reports whether c is offered only by a target with a test
// backdoor (the emulator), never by a plain tenant.
func (c Capability) IsBackdoor() bool { return strings.HasPrefix(string(c), "backdoor") }

// needs maps each capability to a test of the target and the reason shown
// when the target lacks it.
var needs = map[Capability]struct {
	has    func(*Target) bool
	reason string
}{
	CapBackdoor:           {func(t *Target) bool { return t.Caps.Backdoor }, "target has no emulator backdoor (only the emulator has one; set capabilities.backdoor for an emulator elsewhere)"},
	CapClock:              {func(t *Target) bool { return t.Caps.Clock }, "target's clock cannot be moved (needs the emulator backdoor)"},
	CapPollControl:        {(*Target).hasBackdoor, "the target has no backdoor to hold or fail a password reset"},
	CapFaults:             {(*Target).hasBackdoor, "the target has no backdoor to make the tenant change its method mid-flow or fail an account creation"},
	CapOTPDisabledTenant:  {(*Target).hasBackdoor, "the target is a tenant with email one-time passcode enabled and no backdoor to turn it off; the case needs one where it is not"},
	CapSSPRDisabledTenant: {func(t *Target) bool { return !t.Expect.SSPR || t.hasBackdoor() }, "the tenant has self-service password reset enabled and no backdoor to turn it off"},
	CapOutbox:             {func(t *Target) bool { return t.Profile.OTP.Source == OTPOutbox }, "passcodes do not come from the emulator outbox (otp.source is not outbox)"},
	CapDisabledClient:     {func(t *Target) bool { return t.Caps.DisabledClientID != "" }, "target has no client with native auth disabled (set disabled_client_id in the profile)"},
	CapConfidentialClient: {func(t *Target) bool { return t.Caps.ConfidentialClientID != "" }, "target has no confidential client (set confidential_client_id in the profile)"},
	CapScopeUnconsented:   {func(t *Target) bool { return t.Caps.UnconsentedScope != "" }, "the target profile names no API scope the client has no consent for (unconsented_scope)"},
	CapSignUpPassword:     {func(t *Target) bool { return t.Expect.SignUpMethod == nativeauth.SignUpMethodPassword }, "tenant's sign-up method is not email with password (expect.signup_method)"},
	CapSignInPassword:     {func(t *Target) bool { return t.Expect.SignUpMethod == nativeauth.SignUpMethodPassword }, "tenant's users do not sign in with a password (expect.signup_method)"},
	CapSignUpOTP:          {func(t *Target) bool { return t.Expect.SignUpMethod == nativeauth.SignUpMethodOTP }, "tenant's sign-up method is not email one-time passcode (expect.signup_method)"},
	CapSignInOTP:          {func(t *Target) bool { return t.Expect.SignUpMethod == nativeauth.SignUpMethodOTP }, "tenant's users do not sign in with a one-time passcode (expect.signup_method)"},
	CapSSPR:               {func(t *Target) bool { return t.Expect.SSPR }, "tenant does not have self-service password reset enabled (expect.sspr)"},
	CapNoMFA: {func(t *Target) bool { return !t.Expect.MFA.Enabled },
		"the tenant requires MFA (expect.mfa.enabled): tokens come after a second factor, which the older pages' flows do not walk, and there is no backdoor to turn it off"},
	CapMFA: {func(t *Target) bool {
		return t.Expect.MFA.Enabled && t.Expect.MFA.RequireRegistration && slices.Contains(t.Expect.MFA.Methods, "email")
	}, "tenant does not require MFA by email with registration of a strong method (expect.mfa: enabled, methods [email], require_registration) and has no backdoor to turn it on"},
	CapRequiredAttributes: {func(t *Target) bool { return t.Expect.hasAttr(func(a AttributeSpec) bool { return a.Required }) }, "tenant collects no required attribute at sign-up (expect.attributes)"},
	CapOptionalAttributes: {func(t *Target) bool { return t.Expect.hasAttr(func(a AttributeSpec) bool { return !a.Required }) }, "tenant collects no optional attribute at sign-up (expect.attributes)"},
	CapAttributeRegex:     {func(t *Target) bool { return t.Expect.hasAttr(func(a AttributeSpec) bool { return a.Regex != "" }) }, "no attribute has a validation regex (expect.attributes[].regex)"},
	CapBannedPasswords:    {func(t *Target) bool { return len(t.Expect.PasswordPolicy.Banned) > 0 }, "no banned password word is known (expect.password_policy.banned)"},
	CapPasswordHistory:    {func(t *Target) bool { return t.Expect.PasswordPolicy.History > 0 }, "tenant keeps no password history (expect.password_policy.history)"},
	// Users are made by sign-up when the profile names none.
	CapExistingUser: {func(t *Target) bool { return len(t.Existing) > 0 || t.OTP != nil }, "the profile names no existing user (users.existing) and has no OTP source to sign one up"},
}

// hasBackdoor reports whether the target's configuration can be changed
// through the emulator's backdoor.
func (t *Target) hasBackdoor() bool { return t.Caps.Backdoor && t.Backdoor != nil }

func (e Expectations) hasAttr(f func(AttributeSpec) bool) bool {
	return slices.ContainsFunc(e.Attributes, f)
}

// KnownCapabilities lists every capability Require understands, sorted.
func KnownCapabilities() []Capability {
	return slices.Sorted(maps.Keys(needs))
}

// Require reports whether the target has every capability named; when it
// has not, reason says which ones are missing and how to provide them, for
// a Ginkgo Skip. An unknown name is a missing capability (a typo must not
// make a spec run where it cannot pass).
func (t *Target) Require(caps ...Capability) (ok bool, reason string) {
	var missing []string
	for _, c := range caps {
		need, known := needs[c]
		switch {
		case !known:
			missing = append(missing, fmt.Sprintf("unknown capability %q", c))
		case !need.has(t):
			missing = append(missing, need.reason)
		}
	}
	if len(missing) == 0 {
		return true, ""
	}
	return false, strings.Join(missing, "; ")
}
