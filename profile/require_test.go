package profile

import (
	"github.com/ciamcheck/ciamcheck/nativeauth"

	"strings"
	"testing"
)

func TestRequire(t *testing.T) {
	emu := &Target{
		Profile: Default(),
		Caps:    Capabilities{Backdoor: true, Clock: true, DisabledClientID: "d", ConfidentialClientID: "c"},
		Expect: Expectations{SignUpMethod: nativeauth.SignUpMethodPassword, SSPR: true,
			Attributes:     []AttributeSpec{{Name: "displayName", Required: true}, {Name: "age", Regex: "^[0-9]+$"}},
			PasswordPolicy: PasswordPolicy{Banned: []string{"contoso"}, History: 3}},
	}
	bare := &Target{
		Profile: &Profile{Kind: KindTenant, OTP: OTPSpec{Source: OTPPrompt}},
		Expect:  Expectations{SignUpMethod: nativeauth.SignUpMethodOTP},
	}
	tests := []struct {
		name   string
		t      *Target
		needs  []Capability
		ok     bool
		reason string
	}{
		{"nothing needed", bare, nil, true, ""},
		{"emulator has backdoor", emu, []Capability{CapBackdoor, CapClock, CapOutbox}, true, ""},
		{"emulator clients", emu, []Capability{CapDisabledClient, CapConfidentialClient}, true, ""},
		{"emulator tenant config", emu, []Capability{CapSignUpPassword, CapSSPR, CapRequiredAttributes, CapOptionalAttributes, CapAttributeRegex, CapBannedPasswords, CapPasswordHistory}, true, ""},
		{"emulator is not otp sign-up", emu, []Capability{CapSignUpOTP}, false, "expect.signup_method"},
		{"tenant lacks backdoor", bare, []Capability{CapBackdoor}, false, "no emulator backdoor"},
		{"tenant lacks disabled client", bare, []Capability{CapDisabledClient}, false, "set disabled_client_id in the profile"},
		{"tenant lacks confidential client", bare, []Capability{CapConfidentialClient}, false, "confidential_client_id"},
		{"tenant otp sign-up", bare, []Capability{CapSignUpOTP, CapSSPRDisabledTenant}, true, ""},
		{"tenant no sspr", bare, []Capability{CapSSPR}, false, "expect.sspr"},
		{"tenant not outbox", bare, []Capability{CapOutbox}, false, "otp.source"},
		{"tenant no existing user", bare, []Capability{CapExistingUser}, false, "users.existing"},
		{"several missing are all named", bare, []Capability{CapBackdoor, CapRequiredAttributes}, false, "elsewhere); tenant collects no required attribute"},
		{"unknown name", emu, []Capability{"backdor"}, false, `unknown capability "backdor"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason := tt.t.Require(tt.needs...)
			if ok != tt.ok {
				t.Fatalf("ok = %v (%s), want %v", ok, reason, tt.ok)
			}
			if !strings.Contains(reason, tt.reason) || (ok && reason != "") {
				t.Fatalf("reason = %q, want it to contain %q", reason, tt.reason)
			}
		})
	}
	for _, n := range KnownCapabilities() {
		if _, ok := needs[n]; !ok {
			t.Errorf("Needs lists %q that Require does not know", n)
		}
	}
}

func TestAttributeValidValue(t *testing.T) {
	tests := []struct {
		a    AttributeSpec
		want string
	}{
		{AttributeSpec{Name: "x", Value: "given"}, "given"},
		{AttributeSpec{Name: "extension_abc_age", Regex: `^[1-9][0-9]*$`}, "42"},
		{AttributeSpec{Name: "email2", Regex: `^.+@.+$`}, "test@example.com"},
		{AttributeSpec{Name: "displayName"}, "ciamcheck displayName"},
	}
	for _, tt := range tests {
		if got := tt.a.ValidValue(); got != tt.want {
			t.Errorf("%s: ValidValue = %q, want %q", tt.a.Name, got, tt.want)
		}
	}
	e := Expectations{Attributes: []AttributeSpec{{Name: "displayName", Required: true}, {Name: "city"}}}
	if got := e.RequiredAttributes(); len(got) != 1 || got["displayName"] == "" {
		t.Errorf("RequiredAttributes = %v", got)
	}
}
