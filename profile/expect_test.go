package profile

import (
	"reflect"
	"slices"
	"testing"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// expectBase is the configuration each row of TestExpectationsOf changes,
// and the expectations ExpectationsOf must make of it.
func expectBase() (backdoor.Config, Expectations) {
	cfg := backdoor.Config{
		SignUpMethod:   nativeauth.SignUpMethodPassword,
		PasswordPolicy: backdoor.PasswordPolicy{MinLength: 10, MaxLength: 64},
		OTP:            backdoor.OTPConfig{CodeLength: 6},
	}
	x := Expectations{
		SignUpMethod:   nativeauth.SignUpMethodPassword,
		PasswordPolicy: PasswordPolicy{MinLength: 10, MaxLength: 64},
		CodeLength:     6,
	}
	return cfg, x
}

// TestExpectationsOf: each field of Expectations is read from its setting
// of the configuration, the settings a profile cannot state are left out,
// and what the configuration leaves unset gets the profile's defaults.
func TestExpectationsOf(t *testing.T) {
	tests := []struct {
		name   string
		config func(*backdoor.Config)
		want   func(*Expectations)
	}{
		{"signup_method", func(c *backdoor.Config) { c.SignUpMethod = nativeauth.SignUpMethodOTP },
			func(x *Expectations) { x.SignUpMethod = nativeauth.SignUpMethodOTP }},
		{"sspr", func(c *backdoor.Config) { c.SSPR.Enabled = true }, func(x *Expectations) { x.SSPR = true }},
		{"attributes, input_type left out, type defaulted",
			func(c *backdoor.Config) {
				c.Attributes = []backdoor.Attribute{
					{Name: "displayName", Required: true, Type: "string", InputType: "TextBox"},
					{Name: "age", Type: "int", Regex: `^[0-9]+$`},
					{Name: "city"},
				}
			},
			func(x *Expectations) {
				x.Attributes = []AttributeSpec{
					{Name: "displayName", Required: true, Type: "string"},
					{Name: "age", Type: "int", Regex: `^[0-9]+$`},
					{Name: "city", Type: "string"},
				}
			}},
		{"password_policy, banned_words as banned, min_character_classes left out",
			func(c *backdoor.Config) {
				c.PasswordPolicy = backdoor.PasswordPolicy{MinLength: 12, MaxLength: 100, BannedWords: []string{"contoso"},
					History: 3, MinCharacterClasses: 4}
			},
			func(x *Expectations) {
				x.PasswordPolicy = PasswordPolicy{MinLength: 12, MaxLength: 100, Banned: []string{"contoso"}, History: 3}
			}},
		{"password_policy unset: the documented limits", func(c *backdoor.Config) { c.PasswordPolicy = backdoor.PasswordPolicy{} },
			func(x *Expectations) { x.PasswordPolicy = PasswordPolicy{MinLength: 8, MaxLength: 256} }},
		{"code_length", func(c *backdoor.Config) { c.OTP.CodeLength = 4 }, func(x *Expectations) { x.CodeLength = 4 }},
		{"code_length unset: 8", func(c *backdoor.Config) { c.OTP.CodeLength = 0 }, func(x *Expectations) { x.CodeLength = 8 }},
		{"mfa, blocked_numbers left out",
			func(c *backdoor.Config) {
				c.MFA = backdoor.MFAConfig{Enabled: true, Methods: []string{backdoor.StrongMethodSMS}, RequireRegistration: true,
					BlockedNumbers: []string{"+15550100"}}
			},
			func(x *Expectations) {
				x.MFA = MFAExpectations{Enabled: true, Methods: []string{backdoor.StrongMethodSMS}, RequireRegistration: true}
			}},
		{"username_sign_in", func(c *backdoor.Config) { c.UsernameSignIn = true }, func(x *Expectations) { x.UsernameSignIn = true }},
		{"emulator-only settings change nothing",
			func(c *backdoor.Config) {
				c.FailUserCreation, c.SSPR.PollSequence = true, []nativeauth.PollStatus{nativeauth.PollStatusFailed}
			},
			func(*Expectations) {}},
	}
	_, base := expectBase()
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, want := expectBase()
			tt.config(&cfg)
			tt.want(&want)
			got := ExpectationsOf(cfg)
			gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
			for _, f := range changedFields(want, got) {
				t.Errorf("%s: want %v, got %v", f, wv.FieldByName(f), gv.FieldByName(f))
			}
			for _, f := range changedFields(base, want) {
				covered[f] = true
			}
		})
	}
	for f := range reflect.TypeFor[Expectations]().Fields() {
		if !covered[f.Name] {
			t.Errorf("Expectations.%s: no row reads it from the configuration", f.Name)
		}
	}
}

// changedFields names the fields of Expectations that differ between a and b.
func changedFields(a, b Expectations) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i, f := range slices.Collect(reflect.TypeFor[Expectations]().Fields()) {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, f.Name)
		}
	}
	return out
}

// TestForNewPasswords: the scenarios generate passwords to the profile's
// lengths and banned words, and do not share its list.
func TestForNewPasswords(t *testing.T) {
	p := PasswordPolicy{MinLength: 12, MaxLength: 40, Banned: []string{"contoso"}, History: 5}
	got := p.ForNewPasswords()
	want := scenarios.PasswordPolicy{MinLength: 12, MaxLength: 40, Banned: []string{"contoso"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ForNewPasswords: want %+v, got %+v", want, got)
	}
	got.Banned[0] = "changed"
	if p.Banned[0] != "contoso" {
		t.Errorf("ForNewPasswords: the scenarios' banned list is the profile's (a change to one shows in the other)")
	}
}
