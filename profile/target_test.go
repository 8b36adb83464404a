package profile

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// openTarget opens p (nil: the default profile) and closes the target
// when the test ends.
func openTarget(t *testing.T, p *Profile) *Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tg, err := Open(ctx, p)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := tg.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tg
}

// post sends one raw API form, to drive the emulator without the client.
func post(t *testing.T, tg *Target, ep nativeauth.Endpoint, form url.Values) map[string]any {
	t.Helper()
	resp, err := tg.HTTPClient.PostForm(tg.BaseURL+string(ep), form)
	if err != nil {
		t.Fatalf("%s: %v", ep, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decode: %v", ep, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %v", ep, resp.StatusCode, out["error"])
	}
	return out
}

func TestOpenEmulator(t *testing.T) {
	tg := openTarget(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if !strings.HasPrefix(tg.BaseURL, "http://127.0.0.1:") || !strings.HasSuffix(tg.BaseURL, "/contoso.onmicrosoft.com") {
		t.Fatalf("BaseURL = %q", tg.BaseURL)
	}
	if tg.Client == nil || tg.Client.ClientID != emulator.DefaultNativeClientID || tg.Client.BaseURL != tg.BaseURL || tg.Tenant != "contoso" {
		t.Fatalf("client = %+v", tg.Client)
	}
	if c := tg.ClientFor(tg.Caps.DisabledClientID); c.ClientID != emulator.DefaultDisabledClientID || c.HTTPClient != tg.HTTPClient {
		t.Fatalf("ClientFor = %+v", c)
	}
	want := Capabilities{Backdoor: true, Clock: true, DisabledClientID: emulator.DefaultDisabledClientID, ConfidentialClientID: emulator.DefaultConfidentialClient,
		UnconsentedScope: "api://" + emulator.DefaultConfidentialClient + "/admin"}
	if tg.Caps != want {
		t.Errorf("Caps = %+v, want %+v", tg.Caps, want)
	}
	e := tg.Expect
	if e.SignUpMethod != nativeauth.SignUpMethodPassword || !e.SSPR || e.CodeLength != 8 || e.PasswordPolicy.MinLength != 8 || e.PasswordPolicy.History != 3 || len(e.PasswordPolicy.Banned) != 2 {
		t.Errorf("Expect = %+v", e)
	}
	if ra := e.RequiredAttributes(); len(ra) != 1 || ra["displayName"] == "" {
		t.Errorf("required attributes = %v", ra)
	}
	if ok, reason := tg.Require(CapBackdoor, CapDisabledClient, CapConfidentialClient, CapSignUpPassword, CapSSPR, CapAttributeRegex); !ok {
		t.Errorf("emulator lacks a capability: %s", reason)
	}
	s := tg.Summary()
	if s.BaseURL != tg.BaseURL || s.Kind != KindEmulator || s.ClientID != emulator.DefaultNativeClientID || s.Tenant != "contoso" {
		t.Errorf("Summary = %+v", s)
	}

	// Discovery answers under the base URL.
	resp, err := tg.HTTPClient.Get(tg.BaseURL + string(nativeauth.EndpointOpenIDConfiguration))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: HTTP %d", resp.StatusCode)
	}

	// A sign-up challenge puts a code in the outbox, which the OTP source reads.
	user := tg.Users.New("open")
	since := time.Now()
	start := post(t, tg, nativeauth.EndpointSignUpStart, url.Values{"client_id": {tg.ClientID}, "username": {user}, "challenge_type": {"oob password redirect"}})
	post(t, tg, nativeauth.EndpointSignUpChallenge, url.Values{"client_id": {tg.ClientID}, "continuation_token": {start["continuation_token"].(string)}, "challenge_type": {"oob password redirect"}})
	code, err := tg.OTP.Code(ctx, user, since)
	if err != nil {
		t.Fatalf("OTP: %v", err)
	}
	if len(code.Reveal()) != 8 {
		t.Errorf("code has %d digits, want 8", len(code.Reveal()))
	}
}

// TestBackdoorReachesEmbeddedEmulator: the target's backdoor client talks
// to the emulator it started (the client itself is tested in
// emulator/backdoor).
func TestBackdoorReachesEmbeddedEmulator(t *testing.T) {
	tg := openTarget(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := tg.Backdoor.Config(ctx)
	if err != nil || cfg.Tenant != tg.Tenant {
		t.Fatalf("Config = tenant %q, %v; want %q", cfg.Tenant, err, tg.Tenant)
	}
	if _, err := tg.Backdoor.AdvanceClock(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if d := tg.Emulator().Now().Sub(time.Now()); d < 59*time.Second {
		t.Errorf("the embedded emulator's clock moved %v, want 1m", d)
	}
}

func TestCloseStopsEmulator(t *testing.T) {
	ctx := context.Background()
	tg, err := Open(ctx, Default())
	if err != nil {
		t.Fatal(err)
	}
	base := tg.BaseURL
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tg.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	if resp, err := hc.Get(base + string(nativeauth.EndpointOpenIDConfiguration)); err == nil {
		resp.Body.Close()
		t.Fatal("emulator still answers after Close")
	}
}

func TestOpenTenantNeedsPasswordEnv(t *testing.T) {
	p, err := Load("testdata/tenant-full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), p); err == nil || !strings.Contains(err.Error(), "CIAM_USER1_PASSWORD") {
		t.Fatalf("err = %v, want it to name the unset variable", err)
	}
	t.Setenv("CIAM_USER1_PASSWORD", "Secret-Passw0rd")
	tg := openTarget(t, p)
	if tg.Backdoor != nil || tg.Caps.Backdoor || tg.Caps.DisabledClientID == "" || tg.Expect.CodeLength != 6 {
		t.Errorf("tenant target = %+v", tg.Caps)
	}
	if len(tg.Existing) != 1 || tg.Existing[0].Password.Reveal() != "Secret-Passw0rd" {
		t.Fatal("existing user password not read from the environment")
	}
	if tg.Client.BaseURL != "https://contoso.ciamlogin.com/contoso.onmicrosoft.com" || tg.Client.ClientID != p.ClientID {
		t.Errorf("client = %+v", tg.Client)
	}
}

func TestOpenEmulatorConfigBesideProfile(t *testing.T) {
	p, err := Load("testdata/emulator-otp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tg := openTarget(t, p)
	if tg.Expect.SignUpMethod != nativeauth.SignUpMethodOTP || tg.Expect.CodeLength != 6 {
		t.Fatalf("Expect = %+v, want the emulator config's otp sign-up with 6-digit codes", tg.Expect)
	}
	if ok, _ := tg.Require(CapSignUpOTP); !ok {
		t.Fatal("Require(signup:otp) false on an otp tenant")
	}
}
