package profile

import (
	"strings"
	"testing"
)

func TestRequire(t *testing.T) {
	emu := &Target{
		Profile: Default(),
		Caps:    Capabilities{Backdoor: true, Clock: true, DisabledClientID: "d", ConfidentialClientID: "c"},
		Expect: Expectations{SignUpMethod: SignUpPassword, SSPR: true,
			Attributes:     []AttributeSpec{{Name: "displayName", Required: true}, {Name: "age", Regex: "^[0-9]+$"}},
			PasswordPolicy: PasswordPolicy{Banned: []string{"contoso"}, History: 3}},
	}
	bare := &Target{
		Profile: &Profile{Kind: KindTenant, OTP: OTPSpec{Source: OTPPrompt}},
		Expect:  Expectations{SignUpMethod: SignUpOTP},
	}
	tests := []struct {
		name   string
		t      *Target
		needs  []string
		ok     bool
		reason string
	}{
		{"nothing needed", bare, nil, true, ""},
		{"emulator has backdoor", emu, []string{NeedBackdoor, NeedClock, NeedOutbox}, true, ""},
		{"emulator clients", emu, []string{NeedDisabledClient, NeedConfidentialClient}, true, ""},
		{"emulator tenant config", emu, []string{NeedSignUpPassword, NeedSSPR, NeedRequiredAttributes, NeedOptionalAttributes, NeedAttributeRegex, NeedBannedPassword, NeedPasswordHistory}, true, ""},
		{"emulator is not otp sign-up", emu, []string{NeedSignUpOTP}, false, "expect.signup_method"},
		{"tenant lacks backdoor", bare, []string{NeedBackdoor}, false, "no emulator backdoor"},
		{"tenant lacks disabled client", bare, []string{NeedDisabledClient}, false, "set disabled_client_id in the profile"},
		{"tenant lacks confidential client", bare, []string{NeedConfidentialClient}, false, "confidential_client_id"},
		{"tenant otp sign-up", bare, []string{NeedSignUpOTP, NeedNoSSPR}, true, ""},
		{"tenant no sspr", bare, []string{NeedSSPR}, false, "expect.sspr"},
		{"tenant not outbox", bare, []string{NeedOutbox}, false, "otp.source"},
		{"tenant no existing user", bare, []string{NeedExistingUser}, false, "users.existing"},
		{"several missing are all named", bare, []string{NeedBackdoor, NeedRequiredAttributes}, false, "elsewhere); tenant collects no required attribute"},
		{"unknown name", emu, []string{"backdor"}, false, `unknown capability "backdor"`},
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
	for _, n := range Needs() {
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
