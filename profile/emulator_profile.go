package profile

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
)

// EmulatorProfile is the profile of an emulator already serving at baseURL
// (`ciamcheck emulator` in another process or on another machine): kind
// tenant, with the emulator's apps and the configuration it was started
// with as the expectations, passcodes from its outbox when the backdoor is
// on (else a prompt).
func EmulatorProfile(baseURL string, cfg backdoor.Config) *Profile {
	p := &Profile{
		Kind:         KindTenant,
		BaseURL:      baseURL,
		Tenant:       cfg.Tenant,
		Scopes:       []string{"openid", "offline_access"},
		Users:        UsersSpec{Domain: "example.com", LocalPart: "ciam"},
		OTP:          OTPSpec{Source: OTPPrompt},
		Expect:       new(ExpectationsOf(cfg)),
		Capabilities: CapsSpec{Backdoor: !cfg.Backdoor.Disabled},
	}
	if p.Capabilities.Backdoor {
		p.OTP.Source = OTPOutbox
	}
	for _, a := range cfg.Apps {
		switch {
		case a.PublicClient && a.NativeAuth && p.ClientID == "":
			p.ClientID = a.ClientID
		case a.PublicClient && !a.NativeAuth && p.DisabledClientID == "":
			p.DisabledClientID = a.ClientID
		case !a.PublicClient && p.ConfidentialClientID == "":
			p.ConfidentialClientID = a.ClientID
		}
	}
	p.UnconsentedScope = unconsentedScope(cfg, p.ClientID)
	return p
}

// YAML renders the profile as a file Load reads back.
func (p *Profile) YAML() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("target profile: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("target profile: %w", err)
	}
	return b.Bytes(), nil
}
