package profile

import (
	"fmt"
	"sort"
	"strings"
)

// Capability names a spec can Require.
const (
	NeedBackdoor           = "backdoor"
	NeedClock              = "clock"
	NeedOutbox             = "outbox"
	NeedDisabledClient     = "disabled-client"
	NeedConfidentialClient = "confidential-client"
	NeedSignUpPassword     = "signup:password"
	NeedSignUpOTP          = "signup:otp"
	NeedSSPR               = "sspr"
	NeedNoSSPR             = "no-sspr"
	NeedRequiredAttributes = "required-attributes"
	NeedOptionalAttributes = "optional-attributes"
	NeedAttributeRegex     = "attribute-regex"
	NeedBannedPassword     = "banned-password"
	NeedPasswordHistory    = "password-history"
	NeedExistingUser       = "existing-user"
)

// needs maps each capability to a test of the target and the reason shown
// when the target lacks it.
var needs = map[string]struct {
	has    func(*Target) bool
	reason string
}{
	NeedBackdoor:           {func(t *Target) bool { return t.Caps.Backdoor }, "target has no emulator backdoor (only the emulator has one; set capabilities.backdoor for an emulator elsewhere)"},
	NeedClock:              {func(t *Target) bool { return t.Caps.Clock }, "target's clock cannot be moved (needs the emulator backdoor)"},
	NeedOutbox:             {func(t *Target) bool { return t.Profile.OTP.Source == OTPOutbox }, "passcodes do not come from the emulator outbox (otp.source is not outbox)"},
	NeedDisabledClient:     {func(t *Target) bool { return t.Caps.DisabledClientID != "" }, "target has no client with native auth disabled (set disabled_client_id in the profile)"},
	NeedConfidentialClient: {func(t *Target) bool { return t.Caps.ConfidentialClientID != "" }, "target has no confidential client (set confidential_client_id in the profile)"},
	NeedSignUpPassword:     {func(t *Target) bool { return t.Expect.SignUpMethod == SignUpPassword }, "tenant's sign-up method is not email with password (expect.signup_method)"},
	NeedSignUpOTP:          {func(t *Target) bool { return t.Expect.SignUpMethod == SignUpOTP }, "tenant's sign-up method is not email one-time passcode (expect.signup_method)"},
	NeedSSPR:               {func(t *Target) bool { return t.Expect.SSPR }, "tenant does not have self-service password reset enabled (expect.sspr)"},
	NeedNoSSPR:             {func(t *Target) bool { return !t.Expect.SSPR }, "tenant has self-service password reset enabled (expect.sspr)"},
	NeedRequiredAttributes: {func(t *Target) bool { return t.Expect.hasAttr(func(a AttributeSpec) bool { return a.Required }) }, "tenant collects no required attribute at sign-up (expect.attributes)"},
	NeedOptionalAttributes: {func(t *Target) bool { return t.Expect.hasAttr(func(a AttributeSpec) bool { return !a.Required }) }, "tenant collects no optional attribute at sign-up (expect.attributes)"},
	NeedAttributeRegex:     {func(t *Target) bool { return t.Expect.hasAttr(func(a AttributeSpec) bool { return a.Regex != "" }) }, "no attribute has a validation regex (expect.attributes[].regex)"},
	NeedBannedPassword:     {func(t *Target) bool { return len(t.Expect.PasswordPolicy.Banned) > 0 }, "no banned password word is known (expect.password_policy.banned)"},
	NeedPasswordHistory:    {func(t *Target) bool { return t.Expect.PasswordPolicy.History > 0 }, "tenant keeps no password history (expect.password_policy.history)"},
	NeedExistingUser:       {func(t *Target) bool { return len(t.Existing) > 0 }, "profile names no existing user (users.existing)"},
}

func (e Expectations) hasAttr(f func(AttributeSpec) bool) bool {
	for _, a := range e.Attributes {
		if f(a) {
			return true
		}
	}
	return false
}

// Needs lists the capability names Require understands.
func Needs() []string {
	out := make([]string, 0, len(needs))
	for k := range needs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Require reports whether the target has every capability named; when it
// has not, reason says which ones are missing and how to provide them, for
// a Ginkgo Skip. An unknown name is a missing capability (a typo must not
// make a spec run where it cannot pass).
func (t *Target) Require(names ...string) (ok bool, reason string) {
	var missing []string
	for _, n := range names {
		need, known := needs[n]
		switch {
		case !known:
			missing = append(missing, fmt.Sprintf("unknown capability %q (known: %s)", n, strings.Join(Needs(), ", ")))
		case !need.has(t):
			missing = append(missing, need.reason)
		}
	}
	if len(missing) == 0 {
		return true, ""
	}
	return false, strings.Join(missing, "; ")
}
