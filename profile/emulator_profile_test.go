package profile

import (
	"github.com/ciamcheck/ciamcheck/nativeauth"

	"testing"

	"github.com/ciamcheck/ciamcheck/emulator"
)

func TestEmulatorProfileRoundTrips(t *testing.T) {
	const base = "http://127.0.0.1:9000/contoso.onmicrosoft.com"
	tests := []struct {
		name     string
		backdoor bool
		otp      string
	}{
		{"backdoor on: passcodes from the outbox", true, OTPOutbox},
		{"backdoor off: like a real tenant, passcodes by prompt", false, OTPPrompt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := emulator.DefaultConfig()
			cfg.Backdoor.Disabled = !tc.backdoor
			cfg.SignUpMethod = nativeauth.SignUpMethodOTP
			b, err := EmulatorProfile(base, cfg).YAML()
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if p.Kind != KindTenant || p.BaseURL != base || p.Tenant != cfg.Tenant || p.OTP.Source != tc.otp || p.Capabilities.Backdoor != tc.backdoor {
				t.Errorf("profile = %+v", p)
			}
			if p.ClientID != emulator.DefaultNativeClientID || p.DisabledClientID == "" || p.ConfidentialClientID == "" || p.UnconsentedScope != cfg.Apps[0].NoConsent[0] {
				t.Errorf("clients %q %q %q, unconsented scope %q", p.ClientID, p.DisabledClientID, p.ConfidentialClientID, p.UnconsentedScope)
			}
			if p.Expect.SignUpMethod != nativeauth.SignUpMethodOTP || p.Expect.CodeLength != cfg.OTP.CodeLength || len(p.Expect.Attributes) != len(cfg.Attributes) {
				t.Errorf("expectations %+v", p.Expect)
			}
		})
	}
}
