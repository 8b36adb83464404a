package profile

import (
	"context"
	"errors"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator"
	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
)

// servedEmulator serves an emulator with cfg and returns the profile
// `ciamcheck emulator --write-profile` would write for it.
func servedEmulator(t *testing.T, cfg backdoor.Config) *Profile {
	t.Helper()
	emu, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return EmulatorProfile(srv.URL+"/"+cfg.Tenant+".onmicrosoft.com", cfg)
}

func preflight(t *testing.T, p *Profile) error {
	t.Helper()
	tg := openTarget(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return tg.Preflight(ctx)
}

// TestPreflight: each way a target cannot be judged is named by its check
// before any spec runs, and a target that matches its profile passes.
func TestPreflight(t *testing.T) {
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String() + "/contoso.onmicrosoft.com"
	}()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()

	cases := []struct {
		name  string
		edit  func(*Profile, *backdoor.Config)
		check string // "" passes
		says  string
	}{
		{"matching profile", nil, "", ""},
		{"closed port", func(p *Profile, _ *backdoor.Config) { p.BaseURL = closed }, "connect", "refused"},
		{"no such host", func(p *Profile, _ *backdoor.Config) {
			p.BaseURL = "http://ciamcheck-no-such-host.invalid/contoso.onmicrosoft.com"
		}, "dns", "does not resolve"},
		{"https to a plain server", func(p *Profile, _ *backdoor.Config) {
			p.BaseURL = strings.Replace(notFound.URL, "http://", "https://", 1) + "/contoso.onmicrosoft.com"
		}, "tls", "handshake"},
		{"no discovery", func(p *Profile, _ *backdoor.Config) { p.BaseURL = notFound.URL + "/contoso.onmicrosoft.com" }, "discovery", "want 200, got 404"},
		{"unknown client", func(p *Profile, _ *backdoor.Config) { p.ClientID = "00000000-0000-0000-0000-0000000000ff" }, "client", "the tenant answers unauthorized_client: the profile names an app it does not know"},
		{"wrong code length, read from the backdoor", func(p *Profile, _ *backdoor.Config) { p.Expect.CodeLength = 6 }, "expect.code_length", "expects 6, the target is configured with 8"},
		{"wrong code length, probed", func(p *Profile, _ *backdoor.Config) {
			p.Expect.CodeLength = 6
			p.Capabilities.Backdoor = false
			p.OTP = OTPSpec{Source: OTPPrompt}
		}, "expect.code_length", "code_length 8"},
		{"wrong sign-up method", func(p *Profile, _ *backdoor.Config) { p.Expect.SignUpMethod = nativeauth.SignUpMethodOTP }, "expect.signup_method", "configured with password"},
		{"MFA expected, tenant without", func(p *Profile, _ *backdoor.Config) {
			p.Expect.MFA = MFAExpectations{Enabled: true, Methods: []string{"email"}, RequireRegistration: true}
		}, "expect.mfa.enabled", "expects true, the target is configured with false"},
		{"alias sign-in expected, tenant without", func(p *Profile, _ *backdoor.Config) { p.Expect.UsernameSignIn = true }, "expect.username_sign_in", "expects true"},
		{"required attribute missing from the profile", func(_ *Profile, c *backdoor.Config) {
			c.Attributes = append(c.Attributes, backdoor.Attribute{Name: "postalCode", Required: true})
		}, "expect.attributes", "postalCode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := emulator.DefaultConfig()
			p := servedEmulator(t, cfg)
			if tc.edit != nil {
				served := cfg
				tc.edit(p, &served)
				if len(served.Attributes) != len(cfg.Attributes) {
					p = servedEmulatorWithExpect(t, served, *p.Expect)
				}
			}
			err := preflight(t, p)
			var pe *PreflightError
			switch {
			case tc.check == "" && err != nil:
				t.Fatalf("want no error, got %v", err)
			case tc.check == "":
			case !errors.As(err, &pe) || pe.Check != tc.check || !strings.Contains(err.Error(), tc.says):
				t.Fatalf("want preflight %s saying %q, got %v", tc.check, tc.says, err)
			}
		})
	}
}

// servedEmulatorWithExpect serves cfg but keeps the expectations of
// another configuration: a profile that no longer matches its tenant.
func servedEmulatorWithExpect(t *testing.T, cfg backdoor.Config, x Expectations) *Profile {
	p := servedEmulator(t, cfg)
	p.Expect = &x
	return p
}

// TestCompareExpectMFA: the MFA keys of expect are compared with the
// emulator's configuration, methods as a set.
func TestCompareExpectMFA(t *testing.T) {
	cfg := emulator.DefaultConfig()
	cfg.MFA = backdoor.MFAConfig{Enabled: true, Methods: []string{"sms", "email"}, RequireRegistration: true}
	base := ExpectationsOf(cfg)
	tests := []struct {
		name string
		edit func(*Expectations)
		key  string // "" matches
	}{
		{"same, methods in another order", func(x *Expectations) { x.MFA.Methods = []string{"email", "sms"} }, ""},
		{"a method missing", func(x *Expectations) { x.MFA.Methods = []string{"email"} }, "expect.mfa.methods"},
		{"registration not expected", func(x *Expectations) { x.MFA.RequireRegistration = false }, "expect.mfa.require_registration"},
		{"MFA not expected", func(x *Expectations) { x.MFA = MFAExpectations{} }, "expect.mfa.enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := base
			x.MFA.Methods = slices.Clone(base.MFA.Methods)
			tt.edit(&x)
			err := compareExpect(x, cfg)
			var pe *PreflightError
			switch {
			case tt.key == "" && err != nil:
				t.Fatalf("want a match, got %v", err)
			case tt.key != "" && (!errors.As(err, &pe) || pe.Check != tt.key):
				t.Fatalf("want preflight %s, got %v", tt.key, err)
			}
		})
	}
}
