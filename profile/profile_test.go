package profile

import (
	"github.com/ciamcheck/ciamcheck/nativeauth"

	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadFiles(t *testing.T) {
	t.Run("empty path is the emulator default", func(t *testing.T) {
		p, err := Load("")
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind != KindEmulator || p.OTP.Source != OTPOutbox || !p.Capabilities.Backdoor {
			t.Fatalf("default = %+v", p)
		}
		if strings.Join(p.Scopes, " ") != "openid offline_access" || p.Users.Domain != "example.com" || p.OTP.Timeout.D() != time.Minute {
			t.Fatalf("defaults not applied: %+v", p)
		}
	})
	t.Run("minimal emulator file equals the default", func(t *testing.T) {
		p, err := Load("testdata/emulator-min.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if p.Hash() != Default().Hash() {
			t.Fatal("a file saying only kind: emulator hashes unlike the default")
		}
	})
	t.Run("full tenant", func(t *testing.T) {
		p, err := Load("testdata/tenant-full.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind != KindTenant || p.Tenant != "contoso" || p.OTP.Source != OTPExec || p.OTP.Timeout.D() != 90*time.Second || p.UnconsentedScope != "api://11111111-2222-4333-8444-888888888888/admin" {
			t.Fatalf("got %+v", p)
		}
		if got := strings.Join(p.OTP.Command, "|"); got != "./read-mailbox.sh|--imap" {
			t.Errorf("command = %q", got)
		}
		e := p.Expect
		if e.SignUpMethod != nativeauth.SignUpMethodOTP || !e.SSPR || e.CodeLength != 6 || e.PasswordPolicy.MinLength != 10 || e.PasswordPolicy.History != 2 {
			t.Errorf("expect = %+v", e)
		}
		if len(e.Attributes) != 2 || !e.Attributes[0].Required || e.Attributes[1].Regex == "" || e.Attributes[0].Type != "string" {
			t.Errorf("attributes = %+v", e.Attributes)
		}
		if len(p.Users.Existing) != 1 || p.Users.Existing[0].PasswordEnv != "CIAM_USER1_PASSWORD" {
			t.Errorf("existing = %+v", p.Users.Existing)
		}
	})
	t.Run("unknown key names the key", func(t *testing.T) {
		_, err := Load("testdata/tenant-typo.yaml")
		if err == nil || !strings.Contains(err.Error(), "timout") || !strings.Contains(err.Error(), "tenant-typo.yaml") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("every missing field is named", func(t *testing.T) {
		_, err := Load("testdata/tenant-missing.yaml")
		if err == nil {
			t.Fatal("want an error")
		}
		for _, f := range []string{"base_url", "tenant", "client_id", "expect", "otp.source"} {
			if !strings.Contains(err.Error(), f+":") {
				t.Errorf("error does not name %s: %v", f, err)
			}
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := Load("testdata/nope.yaml"); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestParseErrors(t *testing.T) {
	const tenant = "kind: tenant\nbase_url: https://h/contoso.onmicrosoft.com\ntenant: contoso\nclient_id: c\nexpect: {}\n"
	tests := []struct {
		name, yaml, field string
	}{
		{"bad kind", "kind: cloud", "kind"},
		{"emulator with base_url", "kind: emulator\nbase_url: http://x", "base_url"},
		{"tenant base_url not absolute", strings.Replace(tenant, "https://h/", "h/", 1), "base_url"},
		{"tenant base_url with query", strings.Replace(tenant, "onmicrosoft.com", "onmicrosoft.com?code=1", 1), "base_url"},
		{"tenant upper-case", strings.Replace(tenant, "tenant: contoso", "tenant: Contoso", 1), "tenant"},
		{"emulator_config on tenant", tenant + "emulator_config: x.yaml", "emulator_config"},
		{"outbox without backdoor", tenant + "otp: {source: outbox}", "otp.source"},
		{"exec without command", tenant + "otp: {source: exec}", "otp.command"},
		{"command with prompt", tenant + "otp: {source: prompt, command: [x]}", "otp.command"},
		{"bad source", tenant + "otp: {source: pop3}", "otp.source"},
		{"bad timeout", tenant + "otp: {source: prompt, timeout: soon}", "line 6: \"soon\" is not a duration"},
		{"negative timeout", tenant + "otp: {source: prompt, timeout: -1s}", "otp.timeout"},
		{"bad scope", tenant + "scopes: [\"open id\"]", "scopes[0]"},
		{"bad domain", tenant + "users: {domain: localhost}", "users.domain"},
		{"bad local part", tenant + "users: {local_part: \"a b\"}", "users.local_part"},
		{"password in place of env", tenant + "users: {existing: [{username: a@b.cc, password_env: \"hunter2!\"}]}", "users.existing[0].password_env"},
		{"existing not email", tenant + "users: {existing: [{username: alice, password_env: P}]}", "users.existing[0].username"},
		{"bad signup method", strings.Replace(tenant, "expect: {}", "expect: {signup_method: sms}", 1), "expect.signup_method"},
		{"bad policy range", strings.Replace(tenant, "expect: {}", "expect: {password_policy: {min_length: 20, max_length: 10}}", 1), "expect.password_policy"},
		{"bad code length", strings.Replace(tenant, "expect: {}", "expect: {code_length: 40}", 1), "expect.code_length"},
		{"bad regex", strings.Replace(tenant, "expect: {}", "expect: {attributes: [{name: a, regex: \"[\"}]}", 1), "expect.attributes[0].regex"},
		{"value not matching regex", strings.Replace(tenant, "expect: {}", "expect: {attributes: [{name: a, regex: \"^[0-9]+$\", value: x}]}", 1), "expect.attributes[0].value"},
		{"duplicate attribute", strings.Replace(tenant, "expect: {}", "expect: {attributes: [{name: a}, {name: a}]}", 1), "expect.attributes[1].name"},
		// Keys only the emulator's config acts on: no check would read them.
		{"emulator-only mfa key", strings.Replace(tenant, "expect: {}", "expect: {mfa: {blocked_numbers: [\"+15550100666\"]}}", 1), "field blocked_numbers not found"},
		{"emulator-only attribute key", strings.Replace(tenant, "expect: {}", "expect: {attributes: [{name: a, input_type: TextBox}]}", 1), "field input_type not found"},
		{"emulator-only policy key", strings.Replace(tenant, "expect: {}", "expect: {password_policy: {min_character_classes: 3}}", 1), "field min_character_classes not found"},
		{"backdoor token in place of env", tenant + "capabilities: {backdoor: true, backdoor_token_env: \"s3cret token!\"}", "capabilities.backdoor_token_env"},
		{"backdoor token env without backdoor", tenant + "capabilities: {backdoor_token_env: TOKEN}", "capabilities.backdoor_token_env"},
		{"backdoor token env on kind emulator", "kind: emulator\ncapabilities: {backdoor_token_env: TOKEN}", "capabilities.backdoor_token_env"},
		{"two documents", "kind: emulator\n---\nkind: tenant\n", "one YAML document"},
		{"not a mapping", "- kind: emulator", "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v, want it to name %q", err, tt.field)
			}
		})
	}
	if _, err := Parse([]byte(tenant)); err != nil {
		t.Fatalf("the base tenant profile must be valid: %v", err)
	}
}

func TestHashCanonical(t *testing.T) {
	a, err := Parse([]byte("kind: tenant\nbase_url: https://h/t.onmicrosoft.com\ntenant: t\nclient_id: c\nexpect: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	// Same meaning, other key order, explicit defaults, comments.
	b, err := Parse([]byte("# staging\nclient_id: c\ntenant: t\nexpect: {signup_method: password, code_length: 8}\nbase_url: https://h/t.onmicrosoft.com\nkind: tenant\notp: {source: prompt, timeout: 1m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash() != b.Hash() {
		t.Error("equivalent profiles hash differently")
	}
	b.ClientID = "other"
	if a.Hash() == b.Hash() {
		t.Error("different profiles hash alike")
	}
	if len(a.Hash()) != 64 {
		t.Errorf("hash %q is not hex sha256", a.Hash())
	}
}

func TestRedactedHasNoSecrets(t *testing.T) {
	p, err := Parse([]byte("kind: tenant\nbase_url: https://proxyuser:s3cretpw@proxy.example.com/t.onmicrosoft.com\ntenant: t\nclient_id: c\nexpect: {}\nusers: {existing: [{username: a@b.cc, password_env: CIAM_PW}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CIAM_PW", "Hunter2-Secret!")
	s := p.Redacted()
	all := strings.Join([]string{s.Kind, s.BaseURL, s.Tenant, s.ClientID, s.ProfileHash}, " ")
	for _, secret := range []string{"s3cretpw", "proxyuser", "Hunter2-Secret!"} {
		if strings.Contains(all, secret) {
			t.Errorf("Redacted leaks %q: %s", secret, all)
		}
	}
	if s.BaseURL != "https://redacted@proxy.example.com/t.onmicrosoft.com" {
		t.Errorf("BaseURL = %q", s.BaseURL)
	}
	if s.ProfileHash != p.Hash() || s.Kind != KindTenant || s.ClientID != "c" {
		t.Errorf("summary = %+v", s)
	}
}

func FuzzLoad(f *testing.F) {
	for _, name := range []string{"emulator-min.yaml", "tenant-full.yaml", "tenant-typo.yaml", "tenant-missing.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("kind: [\n"))
	f.Add([]byte("otp: {timeout: 9999999999h}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		// Anything Parse accepts must validate again, hash and summarise.
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted profile fails Validate: %v", err)
		}
		if len(p.Hash()) != 64 {
			t.Fatal("bad hash")
		}
		_ = p.Redacted()
		if p.Kind == KindTenant && p.Expect == nil {
			t.Fatal("tenant accepted without expectations")
		}
	})
}
