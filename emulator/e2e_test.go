package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// verifyTokens checks a token answer and verifies its id_token against the
// emulator's own discovery document and JWKS with go-oidc.
func (h *harness) verifyTokens(r resp, wantID, wantRefresh bool, username string) {
	h.t.Helper()
	if r.status != http.StatusOK {
		h.t.Fatalf("token: %d %s", r.status, r.raw)
	}
	if r.str("token_type") != "Bearer" {
		h.t.Errorf("token_type %q", r.str("token_type"))
	}
	if n, _ := r.body["expires_in"].(float64); n <= 0 {
		h.t.Errorf("expires_in %v", r.body["expires_in"])
	}
	if n, _ := r.body["ext_expires_in"].(float64); n <= 0 {
		h.t.Errorf("ext_expires_in %v", r.body["ext_expires_in"])
	}
	if r.str("access_token") == "" || r.str("scope") == "" {
		h.t.Errorf("access_token or scope missing: %s", r.raw)
	}
	// Whatever the audience (this app, or an API of the tenant), azp is
	// the app the token was issued to.
	if parts := strings.Split(r.str("access_token"), "."); len(parts) == 3 {
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		var at struct {
			AZP string `json:"azp"`
		}
		if err != nil || json.Unmarshal(payload, &at) != nil || at.AZP != clientID {
			h.t.Errorf("access_token azp = %q (%v), want %s", at.AZP, err, clientID)
		}
	} else {
		h.t.Errorf("access_token is not a JWS: %d parts", len(parts))
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		h.t.Errorf("cache headers %q %q", r.header.Get("Cache-Control"), r.header.Get("Pragma"))
	}
	if got := r.str("refresh_token") != ""; got != wantRefresh {
		h.t.Errorf("refresh_token present=%v, want %v", got, wantRefresh)
	}
	if got := r.str("id_token") != ""; got != wantID {
		h.t.Fatalf("id_token present=%v, want %v", got, wantID)
	}
	if !wantID {
		return
	}
	ctx := oidc.ClientContext(context.Background(), h.cli)
	p, err := oidc.NewProvider(ctx, h.base+"/v2.0")
	if err != nil {
		h.t.Fatalf("oidc provider: %v", err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: clientID, Now: h.e.Now}).Verify(ctx, r.str("id_token"))
	if err != nil {
		h.t.Fatalf("verify id_token: %v", err)
	}
	var cl struct {
		PreferredUsername string `json:"preferred_username"`
		OID               string `json:"oid"`
	}
	if err := idt.Claims(&cl); err != nil {
		h.t.Fatal(err)
	}
	if !strings.EqualFold(cl.PreferredUsername, username) || cl.OID == "" {
		h.t.Errorf("id_token claims %+v, want user %s", cl, username)
	}
}

func TestSignUpPasswordAtContinue(t *testing.T) {
	h := newHarness(t, nil)
	const u = "ada@example.com"
	ct := wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", u, "challenge_type", "oob password redirect")))
	r := h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "oob password redirect"))
	ct = wantToken(t, "challenge", r)
	if r.str("challenge_type") != "oob" || r.str("binding_method") != "prompt" || r.str("challenge_channel") != "email" || r.body["code_length"] != float64(8) || r.body["interval"] != float64(300) {
		t.Fatalf("oob challenge body %s", r.raw)
	}
	if lbl := r.str("challenge_target_label"); strings.Contains(lbl, "ada@example.com") || !strings.Contains(lbl, "*") {
		t.Errorf("challenge_target_label %q is not masked", lbl)
	}
	code := h.lastCode(u)
	if len(code) != 8 {
		t.Fatalf("code %q", code)
	}
	r = h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", code))
	wantError(t, "continue oob", r, nativeauth.ErrCredentialRequired, "", nativeauth.CodeCredentialRequired)
	ct = r.str("continuation_token")
	r = h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "oob password redirect"))
	ct = wantToken(t, "challenge password", r)
	if r.str("challenge_type") != "password" {
		t.Fatalf("want password challenge: %s", r.raw)
	}
	r = h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", "short"))
	wantError(t, "weak password", r, nativeauth.ErrInvalidGrant, nativeauth.SuberrorPasswordTooShort, 0)
	r = h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass))
	wantError(t, "continue password", r, nativeauth.ErrAttributesRequired, "", nativeauth.CodeAttributesRequired)
	req, _ := r.body["required_attributes"].([]any)
	if len(req) != 1 || req[0].(map[string]any)["name"] != "displayName" {
		t.Fatalf("required_attributes %v", r.body["required_attributes"])
	}
	ct = r.str("continuation_token")
	r = h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "attributes", "attributes", `{"displayName":"`+displayName+`","city":"Paris"}`))
	ct = wantToken(t, "continue attributes", r)
	// city is optional and came after verification: not stored.
	ur := h.backdoor(http.MethodGet, "users/"+u, nil)
	attrs, _ := ur.body["attributes"].(map[string]any)
	if ur.status != http.StatusOK || attrs["displayName"] != displayName || attrs["city"] != nil || ur.str("object_id") == "" {
		t.Fatalf("user after sign-up: %s", ur.raw)
	}
	if strings.Contains(string(ur.raw), goodPass) {
		t.Fatal("backdoor user shows the password")
	}
	r = h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "continuation_token", "username", u, "scope", "openid profile offline_access"))
	h.verifyTokens(r, true, true, u)
	// The continuation token is spent.
	r = h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "continuation_token", "username", u, "scope", "openid"))
	wantError(t, "replayed token", r, nativeauth.ErrInvalidGrant, "", nativeauth.CodeInvalidContinuation)
}

func TestSignUpEverythingAtStart(t *testing.T) {
	h := newHarness(t, nil)
	const u = "grace@example.com"
	ext := "extension_" + strings.ReplaceAll(DefaultExtensionsAppID, "-", "") + "_age"
	ct := wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", u,
		"challenge_type", "oob password redirect", "password", goodPass,
		"attributes", `{"displayName":"Grace","city":"Arlington","`+ext+`":"85","unknownAttr":"x"}`)))
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct)))
	ct = wantToken(t, "continue", h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(u))))
	r := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "continuation_token", "username", "GRACE@example.com", "scope", "openid", "client_info", "1"))
	h.verifyTokens(r, true, false, u)
	ci, err := base64.RawURLEncoding.DecodeString(r.str("client_info"))
	var info map[string]string
	if err != nil || json.Unmarshal(ci, &info) != nil || info["uid"] == "" || info["utid"] != DefaultTenantID {
		t.Errorf("client_info %q: %v %v", r.str("client_info"), err, info)
	}
	ur := h.backdoor(http.MethodGet, "users/"+u, nil)
	attrs, _ := ur.body["attributes"].(map[string]any)
	if attrs["city"] != "Arlington" || attrs[ext] != "85" || attrs["unknownAttr"] != nil {
		t.Errorf("attributes %v", attrs)
	}
	// The account signs in with the password chosen at start.
	h.signInPassword(u, goodPass)
}

// signInPassword runs a password sign-in and returns the token answer.
func (h *harness) signInPassword(u, pw string) resp {
	h.t.Helper()
	ct := wantToken(h.t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", u, "challenge_type", "password redirect")))
	r := h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "password redirect"))
	ct = wantToken(h.t, "signin challenge", r)
	if r.str("challenge_type") != "password" {
		h.t.Fatalf("sign-in challenge %s", r.raw)
	}
	r = h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", pw, "scope", "openid offline_access"))
	h.verifyTokens(r, true, true, u)
	return r
}

func TestSignUpOTPTenantAndOTPSignIn(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) { c.SignUpMethod = nativeauth.SignUpMethodOTP })
	const u = "otp@example.com"
	ct := wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", u, "challenge_type", "oob redirect")))
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "oob redirect")))
	r := h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(u)))
	wantError(t, "continue oob", r, nativeauth.ErrAttributesRequired, "", nativeauth.CodeAttributesRequired)
	r = h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", r.str("continuation_token"), "grant_type", "attributes", "attributes", `{"displayName":"Otto"}`))
	ct = wantToken(t, "attributes", r)
	h.verifyTokens(h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "continuation_token", "username", u, "scope", "openid")), true, false, u)

	// Sign-in with an OTP.
	ct = wantToken(t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", u, "challenge_type", "oob redirect")))
	r = h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct))
	ct = wantToken(t, "challenge", r)
	if r.str("challenge_type") != "oob" {
		t.Fatalf("challenge %s", r.raw)
	}
	first := h.lastCode(u)
	// A resend invalidates the first code.
	r = h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct))
	ct = wantToken(t, "resend", r)
	second := h.lastCode(u)
	if first == second {
		t.Skip("two random codes collided; vanishingly rare")
	}
	r = h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", first, "scope", "openid"))
	wantError(t, "old code", r, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, nativeauth.CodeOTPInvalid)
	r = h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", second, "scope", "openid"))
	h.verifyTokens(r, true, false, u)
}

func TestSignInPasswordAndRefresh(t *testing.T) {
	h := newHarness(t, nil)
	const u = "bob@example.com"
	h.createUser(u, goodPass, map[string]string{"displayName": "Bob"})
	ct := h.passwordChallenged(u)
	r := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", "Wr0ng!Password", "scope", "openid"))
	wantError(t, "wrong password", r, nativeauth.ErrInvalidGrant, "", nativeauth.CodeInvalidCredentials)
	// The same token still works after a wrong password.
	r = h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", "openid profile offline_access"))
	h.verifyTokens(r, true, true, u)

	rt := r.str("refresh_token")
	r2 := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "grant_type", "refresh_token", "refresh_token", rt))
	h.verifyTokens(r2, true, true, u)
	if r2.str("refresh_token") == rt {
		t.Error("refresh token not rotated")
	}
	r3 := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "grant_type", "refresh_token", "refresh_token", rt, "scope", "openid"))
	wantError(t, "reused refresh token", r3, nativeauth.ErrInvalidGrant, "", codeInvalidRefreshToken)
}

// TestRefreshTokenSurvivesRefusedRequest: a refresh request the tenant
// refuses (here an unknown scope) leaves the refresh token usable; before,
// the token was redeemed before the scope was checked and the app lost its
// session to a typo.
func TestRefreshTokenSurvivesRefusedRequest(t *testing.T) {
	h := newHarness(t, nil)
	const u = "rita@example.com"
	h.createUser(u, goodPass, map[string]string{"displayName": "Rita"})
	ct := wantToken(t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", u, "challenge_type", "password redirect")))
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct)))
	r := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", "openid offline_access"))
	rt := r.str("refresh_token")
	if r.status != http.StatusOK || rt == "" {
		t.Fatalf("sign-in: %d %s", r.status, r.raw)
	}
	bad := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "grant_type", "refresh_token", "refresh_token", rt, "scope", "openid no-such-scope"))
	wantError(t, "unknown scope", bad, nativeauth.ErrInvalidScope, "", codeInvalidScope)
	h.verifyTokens(h.post(nativeauth.EndpointToken, vals("client_id", clientID, "grant_type", "refresh_token", "refresh_token", rt)), true, true, u)
	wantError(t, "reused refresh token", h.post(nativeauth.EndpointToken, vals("client_id", clientID, "grant_type", "refresh_token", "refresh_token", rt)),
		nativeauth.ErrInvalidGrant, "", codeInvalidRefreshToken)
}

func TestSSPRThenDirectSignIn(t *testing.T) {
	h := newHarness(t, nil)
	const u = "carol@example.com"
	h.createUser(u, goodPass, nil)
	ct := wantToken(t, "start", h.post(nativeauth.EndpointResetStart, vals("client_id", clientID, "username", u, "challenge_type", "oob redirect")))
	r := h.post(nativeauth.EndpointResetChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "oob redirect"))
	ct = wantToken(t, "challenge", r)
	if r.str("challenge_type") != "oob" {
		t.Fatalf("reset challenge %s", r.raw)
	}
	r = h.post(nativeauth.EndpointResetContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", "00000000"))
	if h.lastCode(u) != "00000000" {
		wantError(t, "wrong code", r, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, nativeauth.CodeOTPInvalid)
	}
	r = h.post(nativeauth.EndpointResetContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(u)))
	ct = wantToken(t, "continue", r)
	if n, _ := r.body["expires_in"].(float64); n <= 0 || n > 600 {
		t.Errorf("expires_in %v", r.body["expires_in"])
	}
	r = h.post(nativeauth.EndpointResetSubmit, vals("client_id", clientID, "continuation_token", ct, "new_password", goodPass))
	wantError(t, "same password", r, nativeauth.ErrInvalidGrant, nativeauth.SuberrorPasswordRecentlyUsed, 0)
	r = h.post(nativeauth.EndpointResetSubmit, vals("client_id", clientID, "continuation_token", ct, "new_password", otherPass))
	ct = wantToken(t, "submit", r)
	if r.body["poll_interval"] != float64(2) {
		t.Errorf("poll_interval %v", r.body["poll_interval"])
	}
	for _, want := range []string{"not_started", "in_progress", "succeeded"} {
		r = h.post(nativeauth.EndpointResetPollCompletion, vals("client_id", clientID, "continuation_token", ct))
		ct = wantToken(t, "poll", r)
		if r.str("status") != want {
			t.Fatalf("poll status %q, want %q", r.str("status"), want)
		}
	}
	h.verifyTokens(h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "continuation_token", "username", u, "scope", "openid")), true, false, u)

	// Old password stops working, the new one works.
	ct = wantToken(t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", u, "challenge_type", "password redirect")))
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct)))
	r = h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", "openid"))
	wantError(t, "old password", r, nativeauth.ErrInvalidGrant, "", nativeauth.CodeInvalidCredentials)
	h.signInPassword(u, otherPass)
}

// An administrator who turns SSPR off stops resets already under way: the
// password page's /continue table names this case (invalid_request).
func TestSSPRDisabledMidFlow(t *testing.T) {
	h := newHarness(t, nil)
	const u = "dora@example.com"
	h.createUser(u, goodPass, nil)
	ct := wantToken(t, "start", h.post(nativeauth.EndpointResetStart, vals("client_id", clientID, "username", u, "challenge_type", "oob redirect")))
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointResetChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "oob redirect")))
	if r := h.backdoor(http.MethodPut, "config", map[string]any{"sspr": map[string]any{"enabled": false, "poll_interval": 2, "poll_sequence": []string{"succeeded"}}}); r.status != 200 {
		t.Fatalf("put config: %d %s", r.status, r.raw)
	}
	r := h.post(nativeauth.EndpointResetContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(u)))
	wantError(t, "continue with SSPR off", r, nativeauth.ErrInvalidRequest, "", codeSSPRDisabled)
	if !strings.Contains(r.str("error_description"), "not enabled") {
		t.Errorf("error_description %q does not say why", r.str("error_description"))
	}
	wantError(t, "start with SSPR off", h.post(nativeauth.EndpointResetStart, vals("client_id", clientID, "username", u, "challenge_type", "oob redirect")), nativeauth.ErrInvalidRequest, "", codeSSPRDisabled)
}

func TestSSPRPollFailedThenResubmit(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) {
		c.SSPR.PollSequence = []nativeauth.PollStatus{nativeauth.PollStatusInProgress, nativeauth.PollStatusFailed}
	})
	const u = "dave@example.com"
	h.createUser(u, goodPass, nil)
	ct := h.resetSubmitted(u, otherPass)
	r := h.post(nativeauth.EndpointResetPollCompletion, vals("client_id", clientID, "continuation_token", ct))
	if r.str("status") != "in_progress" {
		t.Fatalf("poll 1 %s", r.raw)
	}
	r = h.post(nativeauth.EndpointResetPollCompletion, vals("client_id", clientID, "continuation_token", r.str("continuation_token")))
	if r.str("status") != "failed" {
		t.Fatalf("poll 2 %s", r.raw)
	}
	// Failed: the new token submits again; the password did not change.
	ct = wantToken(t, "resubmit", h.post(nativeauth.EndpointResetSubmit, vals("client_id", clientID, "continuation_token", r.str("continuation_token"), "new_password", otherPass)))
	if ct == "" {
		t.Fatal("no token")
	}
	h.signInPassword(u, goodPass)
}

func TestPasswordResetRequired(t *testing.T) {
	h := newHarness(t, nil)
	const u = "forced@example.com"
	if r := h.backdoor(http.MethodPost, "users", map[string]any{"username": u, "password": goodPass, "password_reset_required": true}); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	ct := wantToken(t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", u, "challenge_type", "password redirect")))
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct)))
	wantError(t, "forced reset", h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", "openid")),
		nativeauth.ErrInvalidRequest, "", nativeauth.CodePasswordResetRequired)
	// After SSPR the new password signs in.
	ct = h.resetSubmitted(u, otherPass)
	for i := 0; i < 3; i++ {
		ct = wantToken(t, "poll", h.post(nativeauth.EndpointResetPollCompletion, vals("client_id", clientID, "continuation_token", ct)))
	}
	h.signInPassword(u, otherPass)
}

// A sign-up begun on a passcode tenant with "oob redirect" that the
// administrator switches to email with password before the code is
// submitted falls back to the web at continue: the app never said it
// could give a password.
func TestSignUpRedirectWhenTheMethodChangesMidFlow(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) { c.SignUpMethod = nativeauth.SignUpMethodOTP })
	const u = "switch@example.com"
	attrs := `{"displayName":"Switch"}`
	ct := wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", u, "challenge_type", "oob redirect", "attributes", attrs)))
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "oob redirect")))
	cfg := DefaultConfig() // email with password
	if r := h.backdoor(http.MethodPut, "config", cfg); r.status != 200 {
		t.Fatalf("put config: %d %s", r.status, r.raw)
	}
	r := h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(u)))
	if r.status != 200 || r.str("challenge_type") != "redirect" || r.str("redirect_reason") == "" || r.str("continuation_token") != "" {
		t.Fatalf("continue after the switch: %d %s", r.status, r.raw)
	}
}

// The two tenant settings that rehearse failures: email OTP not enabled
// (invalid_request at continue, both pages' tables) and account creation
// failing (399279, the sign-up error-code page).
func TestSignUpContinueTenantFailures(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*backdoor.Config)
		code   int
	}{
		{"email OTP disabled", func(c *backdoor.Config) { c.OTP.EmailDisabled = true }, codeEmailOTPDisabled},
		{"user creation fails", func(c *backdoor.Config) { c.FailUserCreation = true }, nativeauth.CodeUserCreationFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			const u = "fail@example.com"
			ct := wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", u, "challenge_type", "oob password redirect",
				"password", goodPass, "attributes", `{"displayName":"Fail"}`)))
			ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "oob password redirect")))
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			if r := h.backdoor(http.MethodPut, "config", cfg); r.status != 200 {
				t.Fatalf("put config: %d %s", r.status, r.raw)
			}
			r := h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(u)))
			wantError(t, tc.name, r, nativeauth.ErrInvalidRequest, "", tc.code)
			// No account was made: the username is still free.
			if r := h.backdoor(http.MethodGet, "users/"+u, nil); r.status != http.StatusNotFound {
				t.Errorf("user after a failed sign-up: %d %s", r.status, r.raw)
			}
		})
	}
}

// TestOOBIntervalZeroIsSent: otp.interval 0 (resend at once) is a valid
// setting, and the sign-up oob challenge still carries the interval member
// the pages show; the reset challenge, whose example has none, still omits
// it. Before, 0 was dropped as an empty value.
func TestOOBIntervalZeroIsSent(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) { c.OTP.Interval = 0 })
	const u = "ivan@example.com"
	ct := wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", u, "challenge_type", "oob password redirect")))
	r := h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct))
	if v, ok := r.body["interval"]; r.status != http.StatusOK || !ok || v != float64(0) {
		t.Errorf("sign-up oob challenge: interval %v (present %v), want 0: %s", v, ok, r.raw)
	}
	h.createUser("ria@example.com", goodPass, nil)
	ct = wantToken(t, "reset start", h.post(nativeauth.EndpointResetStart, vals("client_id", clientID, "username", "ria@example.com", "challenge_type", "oob redirect")))
	r = h.post(nativeauth.EndpointResetChallenge, vals("client_id", clientID, "continuation_token", ct))
	if _, ok := r.body["interval"]; r.status != http.StatusOK || ok {
		t.Errorf("reset challenge carries interval: %s", r.raw)
	}
}
