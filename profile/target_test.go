package profile

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

func openDefault(t *testing.T) *Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tg, err := Open(ctx, nil)
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
	tg := openDefault(t)
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

func TestBackdoorAgainstEmulator(t *testing.T) {
	tg := openDefault(t)
	bd := tg.Backdoor
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c0, err := bd.Clock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := bd.AdvanceClock(ctx, 10*time.Minute+time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if d := c1.Now.Sub(c0.Now); d < 10*time.Minute || d > 11*time.Minute {
		t.Errorf("clock moved %v, want about 10m1s", d)
	}

	u, err := bd.CreateUser(ctx, "bob@example.com", "Str0ng-Passw0rd!x", nativeauth.Attributes{"displayName": "Bob"})
	if err != nil || u.ObjectID == "" {
		t.Fatalf("CreateUser = %+v, %v", u, err)
	}
	var be *BackdoorError
	_, err = bd.CreateUser(ctx, "bob@example.com", "Str0ng-Passw0rd!x", nil)
	if !errors.As(err, &be) || be.HTTPStatus != http.StatusConflict {
		t.Fatalf("second CreateUser err = %v, want HTTP 409", err)
	}
	if strings.Contains(err.Error(), "Str0ng-Passw0rd!x") {
		t.Error("backdoor error leaks the password")
	}
	got, err := bd.User(ctx, "bob@example.com")
	if err != nil || got.Attributes["displayName"] != "Bob" {
		t.Fatalf("User = %+v, %v", got, err)
	}

	raw, err := bd.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var cfg emulator.Config
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg.Tenant != "contoso" {
		t.Fatalf("Config = %s, %v", raw, err)
	}
	cfg.SignUpMethod = emulator.SignUpMethodOTP
	b, _ := json.Marshal(cfg)
	if err := bd.SetConfig(ctx, b); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	if err := bd.SetConfig(ctx, json.RawMessage(`{"otp":{"code_length":99}}`)); !errors.As(err, &be) || be.HTTPStatus != http.StatusBadRequest {
		t.Fatalf("invalid SetConfig err = %v, want HTTP 400", err)
	}
	if err := bd.SetFaults(ctx, json.RawMessage(`{"endpoints":{"/oauth2/v2.0/token":{"rate_503":0.5}}}`)); err != nil {
		t.Fatalf("SetFaults: %v", err)
	}
	f, err := bd.Faults(ctx)
	if err != nil || !strings.Contains(string(f), "rate_503") {
		t.Fatalf("Faults = %s, %v", f, err)
	}

	if err := bd.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bd.User(ctx, "bob@example.com"); !errors.As(err, &be) || be.HTTPStatus != http.StatusNotFound {
		t.Fatalf("after Reset, User err = %v, want HTTP 404", err)
	}
	c2, err := bd.Clock(ctx)
	if err != nil || c2.Now.Sub(time.Now()) > time.Minute {
		t.Fatalf("after Reset the clock is still moved: %+v, %v", c2, err)
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
	tg, err := Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
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
	tg, err := Open(context.Background(), p)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer tg.Close()
	if tg.Expect.SignUpMethod != nativeauth.SignUpMethodOTP || tg.Expect.CodeLength != 6 {
		t.Fatalf("Expect = %+v, want the emulator config's otp sign-up with 6-digit codes", tg.Expect)
	}
	if ok, _ := tg.Require(CapSignUpOTP); !ok {
		t.Fatal("Require(signup:otp) false on an otp tenant")
	}
}
