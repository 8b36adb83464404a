package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

const (
	otherClientID = "00000000-0000-4000-8000-0000000077a1"
	mfaUser       = "mfa.user@contoso.com"
	mfaPhone      = "+15550100123"
	bothCaps      = "mfa_required registration_required"
)

// mfaTenant turns MFA on with both methods and seeds mfaUser with an email
// and an SMS method.
func mfaTenant(t *testing.T, mutate func(*backdoor.Config)) *harness {
	return newHarness(t, func(c *backdoor.Config) {
		c.MFA = backdoor.MFAConfig{Enabled: true, Methods: []string{"email", "sms"}, RequireRegistration: true,
			BlockedNumbers: []string{"+15550100666"}, BlockedRegions: []string{"+999"}}
		c.Apps = append(c.Apps, backdoor.App{Name: "other", ClientID: otherClientID, PublicClient: true, NativeAuth: true})
		c.Users = append(c.Users, backdoor.SeedUser{Username: mfaUser, Password: goodPass, Alias: "mfa_user",
			StrongMethods: []backdoor.StrongMethod{{Channel: "email", Target: mfaUser}, {Channel: "sms", Target: mfaPhone}}})
		if mutate != nil {
			mutate(c)
		}
	})
}

// outboxLast is the newest outbox message of username.
func (h *harness) outboxLast(username string) map[string]any {
	h.t.Helper()
	r := h.backdoor(http.MethodGet, "outbox?username="+url.QueryEscape(username), nil)
	msgs, _ := r.body["messages"].([]any)
	if len(msgs) == 0 {
		h.t.Fatalf("outbox of %s is empty", username)
	}
	m, _ := msgs[len(msgs)-1].(map[string]any)
	return m
}

// passwordToken walks initiate, challenge and the password grant and
// returns the token answer.
func (h *harness) passwordToken(username, caps string) resp {
	h.t.Helper()
	form := vals("client_id", clientID, "username", username, "challenge_type", "password redirect")
	if caps != "" {
		form.Set("capabilities", caps)
	}
	ct := wantToken(h.t, "initiate", h.post(nativeauth.EndpointSignInInitiate, form))
	ct = wantToken(h.t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "password redirect")))
	return h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password",
		"password", goodPass, "scope", "openid offline_access"))
}

func wantTokens(t *testing.T, what string, r resp) {
	t.Helper()
	if r.status != http.StatusOK || r.str("access_token") == "" || r.str("id_token") == "" || r.str("token_type") != "Bearer" {
		t.Fatalf("%s: want tokens, got %d %s", what, r.status, r.raw)
	}
}

// mfaIntrospect passes mfa_required and introspect; it returns the
// introspect answer.
func (h *harness) mfaIntrospect(tokenAnswer resp) resp {
	h.t.Helper()
	wantError(h.t, "token", tokenAnswer, nativeauth.ErrInvalidGrant, nativeauth.SuberrorMFARequired, codeMFARequired)
	ct := tokenAnswer.str("continuation_token")
	if ct == "" {
		h.t.Fatalf("mfa_required without continuation_token: %s", tokenAnswer.raw)
	}
	r := h.post(nativeauth.EndpointSignInIntrospect, vals("client_id", clientID, "continuation_token", ct))
	wantToken(h.t, "introspect", r)
	return r
}

func methodsOf(r resp) []map[string]any {
	ms, _ := r.body["methods"].([]any)
	out := make([]map[string]any, len(ms))
	for i, m := range ms {
		out[i], _ = m.(map[string]any)
	}
	return out
}

func TestMFASignIn(t *testing.T) {
	tests := []struct {
		channel, challengeType, wantTarget, wantLabel string
	}{
		{"email", "", mfaUser, maskEmail(mfaUser)},        // the page's example: no challenge_type
		{"sms", "oob redirect", mfaPhone, "+1*********3"}, // the JS client sends one
	}
	for _, tt := range tests {
		t.Run(tt.channel, func(t *testing.T) {
			h := mfaTenant(t, nil)
			intro := h.mfaIntrospect(h.passwordToken(mfaUser, bothCaps))
			ms := methodsOf(intro)
			if len(ms) != 2 {
				t.Fatalf("introspect: want 2 methods, got %s", intro.raw)
			}
			var id string
			for _, m := range ms {
				if m["challenge_type"] != "oob" || m["id"] == "" {
					t.Errorf("method %v: want challenge_type oob and an id", m)
				}
				hint, _ := m["login_hint"].(string)
				if hint == mfaUser || hint == mfaPhone || !strings.Contains(hint, "*") {
					t.Errorf("method %v: login_hint must be masked, got %q", m, hint)
				}
				if m["challenge_channel"] == tt.channel {
					id, _ = m["id"].(string)
				}
			}
			form := vals("client_id", clientID, "continuation_token", intro.str("continuation_token"), "id", id)
			if tt.challengeType != "" {
				form.Set("challenge_type", tt.challengeType)
			}
			ch := h.post(nativeauth.EndpointSignInChallenge, form)
			ct := wantToken(t, "mfa challenge", ch)
			if ch.str("challenge_type") != "oob" || ch.str("challenge_channel") != tt.channel || ch.str("challenge_target_label") != tt.wantLabel ||
				ch.str("binding_method") != "prompt" || ch.body["code_length"] != float64(8) {
				t.Errorf("mfa challenge: got %s", ch.raw)
			}
			msg := h.outboxLast(mfaUser)
			if msg["channel"] != tt.channel || msg["target"] != tt.wantTarget || msg["flow"] != "mfa" {
				t.Errorf("outbox: want channel %s target %s flow mfa, got %v", tt.channel, tt.wantTarget, msg)
			}
			code, _ := msg["code"].(string)
			bad := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "mfa_oob",
				"oob", "00000000", "scope", "openid offline_access"))
			wantError(t, "mfa_oob wrong code", bad, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, 0)
			ok := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "mfa_oob",
				"oob", code, "scope", "openid offline_access", "client_info", "1"))
			wantTokens(t, "mfa_oob", ok)
			again := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "mfa_oob",
				"oob", code, "scope", "openid"))
			wantError(t, "mfa_oob replayed", again, nativeauth.ErrInvalidGrant, "", 0)
		})
	}
}

// register walks register introspect, challenge and continue from a
// registration_required answer and returns the continue answer.
func (h *harness) register(tokenAnswer resp, username, channel, target string, wantPreverified bool) resp {
	h.t.Helper()
	wantError(h.t, "token", tokenAnswer, nativeauth.ErrInvalidGrant, nativeauth.SuberrorRegistrationRequired, codeRegistrationRequired)
	intro := h.post(nativeauth.EndpointRegisterIntrospect, vals("client_id", clientID, "continuation_token", tokenAnswer.str("continuation_token")))
	ct := wantToken(h.t, "register introspect", intro)
	ms := methodsOf(intro)
	if len(ms) != 2 || ms[0]["id"] != "email" || ms[0]["login_hint"] != username || ms[1]["id"] != "sms" || ms[1]["challenge_channel"] != "sms" {
		h.t.Errorf("register introspect: want email (login_hint %s, unmasked) and sms, got %s", username, intro.raw)
	}
	ch := h.post(nativeauth.EndpointRegisterChallenge, vals("client_id", clientID, "continuation_token", ct,
		"challenge_type", "oob", "challenge_channel", channel, "challenge_target", target))
	ct = wantToken(h.t, "register challenge", ch)
	if wantPreverified {
		if ch.str("challenge_type") != "preverified" || len(ch.body) != 2 {
			h.t.Fatalf("register challenge: want only preverified and a token, got %s", ch.raw)
		}
		return h.post(nativeauth.EndpointRegisterContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "continuation_token"))
	}
	if ch.str("challenge_type") != "oob" || ch.str("challenge_target") != target || ch.str("challenge_channel") != channel ||
		ch.str("binding_method") != "prompt" || ch.body["code_length"] != float64(8) {
		h.t.Errorf("register challenge: got %s", ch.raw)
	}
	msg := h.outboxLast(username)
	if msg["channel"] != channel || msg["target"] != target || msg["flow"] != "register" {
		h.t.Errorf("outbox: want %s to %s, got %v", channel, target, msg)
	}
	wrong := h.post(nativeauth.EndpointRegisterContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", "00000000"))
	wantError(h.t, "register continue wrong code", wrong, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, 0)
	code, _ := msg["code"].(string)
	return h.post(nativeauth.EndpointRegisterContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", code))
}

func TestRegistrationThenSignIn(t *testing.T) {
	h := mfaTenant(t, nil)
	const u = "new.user@contoso.com"
	h.createUser(u, goodPass, nil)
	done := h.register(h.passwordToken(u, bothCaps), u, "sms", mfaPhone, false)
	ct := wantToken(t, "register continue", done)
	// After registration the JS client sends no username.
	wantTokens(t, "token after registration", h.post(nativeauth.EndpointToken, vals("client_id", clientID,
		"continuation_token", ct, "grant_type", "continuation_token", "scope", "openid offline_access")))
	r := h.backdoor(http.MethodGet, "users/"+url.PathEscape(u), nil)
	if !strings.Contains(string(r.raw), mfaPhone) {
		t.Errorf("user after registration: want the SMS method, got %s", r.raw)
	}
	// The next sign-in asks for the registered method.
	intro := h.mfaIntrospect(h.passwordToken(u, bothCaps))
	if ms := methodsOf(intro); len(ms) != 1 || ms[0]["challenge_channel"] != "sms" {
		t.Errorf("introspect after registration: got %s", intro.raw)
	}
}

func TestMFAAfterSignUp(t *testing.T) {
	h := mfaTenant(t, nil)
	const u = "signup.mfa@contoso.com"
	start := h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", u, "challenge_type", "oob password redirect",
		"password", goodPass, "attributes", `{"displayName":"Ada"}`, "capabilities", "registration_required"))
	ct := wantToken(t, "signup start", start)
	ct = wantToken(t, "signup challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "oob password redirect")))
	cont := h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(u)))
	ct = wantToken(t, "signup continue", cont)
	tok := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "continuation_token",
		"username", u, "scope", "openid offline_access"))
	// The email sign-up verified is preverified: no second code.
	done := h.register(tok, u, "email", u, true)
	ct = wantToken(t, "register continue (preverified)", done)
	wantTokens(t, "token after registration", h.post(nativeauth.EndpointToken, vals("client_id", clientID,
		"continuation_token", ct, "grant_type", "continuation_token", "scope", "openid")))
}

func TestMFAAfterReset(t *testing.T) {
	h := mfaTenant(t, func(c *backdoor.Config) {
		c.SSPR.PollSequence = []nativeauth.PollStatus{nativeauth.PollStatusSucceeded}
	})
	ct := wantToken(t, "reset start", h.post(nativeauth.EndpointResetStart, vals("client_id", clientID, "username", mfaUser,
		"challenge_type", "oob redirect", "capabilities", "mfa_required")))
	ct = wantToken(t, "reset challenge", h.post(nativeauth.EndpointResetChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "oob redirect")))
	ct = wantToken(t, "reset continue", h.post(nativeauth.EndpointResetContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(mfaUser))))
	ct = wantToken(t, "reset submit", h.post(nativeauth.EndpointResetSubmit, vals("client_id", clientID, "continuation_token", ct, "new_password", otherPass)))
	poll := h.post(nativeauth.EndpointResetPollCompletion, vals("client_id", clientID, "continuation_token", ct))
	ct = wantToken(t, "reset poll", poll)
	tok := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "continuation_token",
		"username", mfaUser, "scope", "openid"))
	intro := h.mfaIntrospect(tok)
	id, _ := methodsOf(intro)[0]["id"].(string)
	ct = wantToken(t, "mfa challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", intro.str("continuation_token"), "id", id)))
	wantTokens(t, "mfa_oob", h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "mfa_oob",
		"oob", h.lastCode(mfaUser), "scope", "openid")))
}

func TestCapabilities(t *testing.T) {
	t.Run("unknown value is invalid_request on the three starts", func(t *testing.T) {
		h := mfaTenant(t, nil)
		for ep, form := range map[nativeauth.Endpoint]url.Values{
			nativeauth.EndpointSignInInitiate: vals("username", mfaUser, "challenge_type", "password redirect"),
			nativeauth.EndpointSignUpStart:    vals("username", "x@contoso.com", "challenge_type", "oob password redirect"),
			nativeauth.EndpointResetStart:     vals("username", mfaUser, "challenge_type", "oob redirect"),
		} {
			form.Set("client_id", clientID)
			form.Set("capabilities", "mfa_required teleport")
			wantError(t, string(ep), h.post(ep, form), nativeauth.ErrInvalidRequest, "", codeInvalidCapability)
		}
	})
	t.Run("needed but not advertised is a redirect with redirect_reason", func(t *testing.T) {
		h := mfaTenant(t, nil)
		for _, tc := range []struct {
			ep     nativeauth.Endpoint
			form   url.Values
			reason string
		}{
			{nativeauth.EndpointSignInInitiate, vals("username", mfaUser, "challenge_type", "password redirect", "capabilities", "registration_required"), "mfa_required"},
			{nativeauth.EndpointResetStart, vals("username", mfaUser, "challenge_type", "oob redirect"), "mfa_required"},
			{nativeauth.EndpointSignUpStart, vals("username", "x@contoso.com", "challenge_type", "oob password redirect", "capabilities", "mfa_required"), "registration_required"},
		} {
			tc.form.Set("client_id", clientID)
			r := h.post(tc.ep, tc.form)
			if r.status != http.StatusOK || r.str("challenge_type") != "redirect" || !strings.Contains(r.str("redirect_reason"), tc.reason) || r.str("continuation_token") != "" {
				t.Errorf("%s: want redirect naming %s, got %d %s", tc.ep, tc.reason, r.status, r.raw)
			}
		}
	})
	t.Run("not needed proceeds", func(t *testing.T) {
		h := newHarness(t, nil) // MFA off
		h.createUser("plain@contoso.com", goodPass, nil)
		wantTokens(t, "no capabilities, MFA off", h.passwordToken("plain@contoso.com", ""))
		h2 := mfaTenant(t, func(c *backdoor.Config) { c.MFA.RequireRegistration = false })
		h2.createUser("nomethod@contoso.com", goodPass, nil)
		wantTokens(t, "no capabilities, no method, registration not required", h2.passwordToken("nomethod@contoso.com", ""))
	})
	t.Run("needed at token when the method appeared after start", func(t *testing.T) {
		h := mfaTenant(t, func(c *backdoor.Config) { c.MFA.RequireRegistration = false })
		const u = "late@contoso.com"
		h.createUser(u, goodPass, nil)
		form := vals("client_id", clientID, "username", u, "challenge_type", "password redirect")
		ct := wantToken(t, "initiate", h.post(nativeauth.EndpointSignInInitiate, form))
		ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct)))
		if r := h.backdoor(http.MethodPut, "users/"+url.PathEscape(u)+"/strong_methods", []backdoor.StrongMethod{{Channel: "sms", Target: mfaPhone}}); r.status != http.StatusOK {
			t.Fatalf("set strong methods: %d %s", r.status, r.raw)
		}
		r := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", "openid"))
		if r.status != http.StatusOK || r.str("challenge_type") != "redirect" || r.str("redirect_reason") != "Client is missing mfa_required capability" {
			t.Errorf("token: want redirect for the missing capability, got %d %s", r.status, r.raw)
		}
	})
}

func TestStrongAuthErrors(t *testing.T) {
	h := mfaTenant(t, nil)
	const u = "errs@contoso.com"
	h.createUser(u, goodPass, nil)
	regRequired := h.passwordToken(u, bothCaps)
	wantError(t, "token", regRequired, nativeauth.ErrInvalidGrant, nativeauth.SuberrorRegistrationRequired, codeRegistrationRequired)
	ct := wantToken(t, "register introspect", h.post(nativeauth.EndpointRegisterIntrospect, vals("client_id", clientID, "continuation_token", regRequired.str("continuation_token"))))
	challenge := func(kv ...string) resp {
		return h.post(nativeauth.EndpointRegisterChallenge, vals(append([]string{"client_id", clientID, "continuation_token", ct}, kv...)...))
	}
	tests := []struct {
		name string
		r    resp
		err  nativeauth.ErrorCode
		sub  nativeauth.Suberror
		code int
	}{
		{"no challenge_target", challenge("challenge_type", "oob", "challenge_channel", "sms"), nativeauth.ErrInvalidRequest, "", codeMissingParameter},
		{"no challenge_type", challenge("challenge_target", mfaPhone), nativeauth.ErrInvalidRequest, "", codeMissingParameter},
		{"bad email", challenge("challenge_type", "oob", "challenge_channel", "email", "challenge_target", "not-an-email"), nativeauth.ErrInvalidRequest, "", nativeauth.CodeInvalidVerificationContact},
		{"bad phone", challenge("challenge_type", "oob", "challenge_channel", "sms", "challenge_target", "555"), nativeauth.ErrInvalidRequest, "", nativeauth.CodeInvalidVerificationContact},
		{"blocked number", challenge("challenge_type", "oob", "challenge_target", "+15550100666"), nativeauth.ErrAccessDenied, nativeauth.SuberrorProviderBlockedByRep, nativeauth.CodeProviderBlocked},
		{"blocked region", challenge("challenge_type", "oob", "challenge_channel", "sms", "challenge_target", "+9995550100"), nativeauth.ErrAccessDenied, nativeauth.SuberrorProviderBlockedByAdmin, nativeauth.CodeProviderBlocked},
		{"register continue before a challenge", h.post(nativeauth.EndpointRegisterContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", "1")), nativeauth.ErrInvalidRequest, "", 0},
		{"sign-in introspect with a register token", h.post(nativeauth.EndpointSignInIntrospect, vals("client_id", clientID, "continuation_token", ct)), nativeauth.ErrInvalidRequest, "", 0},
		{"mfa_oob with a register token", h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "mfa_oob", "oob", "1", "scope", "openid")), nativeauth.ErrInvalidGrant, "", 0},
		{"register introspect without client_id", h.post(nativeauth.EndpointRegisterIntrospect, vals("continuation_token", ct)), nativeauth.ErrInvalidRequest, "", codeMissingParameter},
		{"register challenge with another app's client_id", h.post(nativeauth.EndpointRegisterChallenge, vals("client_id", otherClientID, "continuation_token", ct,
			"challenge_type", "oob", "challenge_target", "other@contoso.com")), nativeauth.ErrInvalidRequest, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantError(t, tt.name, tt.r, tt.err, tt.sub, tt.code) })
	}
	// The errors left the step as it was: a good challenge still works,
	// and then continue refuses the wrong grant.
	ch := challenge("challenge_type", "oob", "challenge_channel", "email", "challenge_target", "other@contoso.com")
	ct2 := wantToken(t, "register challenge", ch)
	wantError(t, "wrong grant", h.post(nativeauth.EndpointRegisterContinue, vals("client_id", clientID, "continuation_token", ct2, "grant_type", "continuation_token")),
		nativeauth.ErrInvalidGrant, "", 0)
	wantError(t, "no grant", h.post(nativeauth.EndpointRegisterContinue, vals("client_id", clientID, "continuation_token", ct2)),
		nativeauth.ErrInvalidRequest, "", codeMissingParameter)

	t.Run("mfa challenge", func(t *testing.T) {
		intro := h.mfaIntrospect(h.passwordToken(mfaUser, bothCaps))
		ict := intro.str("continuation_token")
		wantError(t, "unknown id", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ict, "id", "nope")),
			nativeauth.ErrInvalidRequest, "", codeUnknownMethod)
		wantError(t, "no id", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ict)),
			nativeauth.ErrInvalidRequest, "", codeMissingParameter)
		wantError(t, "password grant on the second factor", h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ict,
			"grant_type", "password", "password", goodPass, "scope", "openid")), nativeauth.ErrInvalidGrant, "", 0)
		h.backdoor(http.MethodPost, "clock", map[string]string{"advance": (11 * time.Minute).String()})
		wantError(t, "expired", h.post(nativeauth.EndpointSignInIntrospect, vals("client_id", clientID, "continuation_token", ict)),
			nativeauth.ErrExpiredToken, "", nativeauth.CodeExpiredToken)
	})
}

func TestUsernameSignIn(t *testing.T) {
	h := mfaTenant(t, func(c *backdoor.Config) { c.MFA.Enabled = false; c.UsernameSignIn = true })
	wantTokens(t, "alias sign-in", h.passwordToken("mfa_user", ""))
	wantTokens(t, "alias sign-in, other case", h.passwordToken("MFA_User", ""))
	// MSAL iOS repeats the username on the password grant: the alias the
	// user typed names the flow's user too; another user's does not.
	ct := wantToken(t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "mfa_user", "challenge_type", "password redirect")))
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct)))
	wantTokens(t, "password grant with the alias as username", h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct,
		"grant_type", "password", "password", goodPass, "username", "mfa_user", "scope", "openid")))
	h.createUser("other@contoso.com", goodPass, nil)
	ct = wantToken(t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "mfa_user", "challenge_type", "password redirect")))
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct)))
	wantError(t, "password grant naming another user", h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct,
		"grant_type", "password", "password", goodPass, "username", "other@contoso.com", "scope", "openid")), nativeauth.ErrInvalidGrant, "", 0)
	wantError(t, "unknown alias", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "nobody", "challenge_type", "password redirect")),
		nativeauth.ErrUserNotFound, "", nativeauth.CodeUserNotFound)
	off := mfaTenant(t, func(c *backdoor.Config) { c.MFA.Enabled = false })
	wantError(t, "alias where the tenant does not allow it", off.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "mfa_user", "challenge_type", "password redirect")),
		nativeauth.ErrInvalidRequest, "", nativeauth.CodeInvalidUsername)
}

func TestBackdoorStrongMethods(t *testing.T) {
	h := mfaTenant(t, nil)
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
	}{
		{"set", "users/" + url.PathEscape(mfaUser) + "/strong_methods", []backdoor.StrongMethod{{Channel: "sms", Target: "+4712345678"}}, http.StatusOK},
		{"bad channel", "users/" + url.PathEscape(mfaUser) + "/strong_methods", []backdoor.StrongMethod{{Channel: "fax", Target: "1"}}, http.StatusBadRequest},
		{"bad phone", "users/" + url.PathEscape(mfaUser) + "/strong_methods", []backdoor.StrongMethod{{Channel: "sms", Target: "12"}}, http.StatusBadRequest},
		{"unknown user", "users/nobody%40contoso.com/strong_methods", []backdoor.StrongMethod{}, http.StatusNotFound},
	} {
		if r := h.backdoor(http.MethodPut, tc.path, tc.body); r.status != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, r.status, tc.status, r.raw)
		}
	}
	r := h.backdoor(http.MethodGet, "users/"+url.PathEscape(mfaUser), nil)
	ms, _ := r.body["strong_methods"].([]any)
	if len(ms) != 1 || !strings.Contains(string(r.raw), "+4712345678") || r.str("alias") != "mfa_user" {
		t.Errorf("user: want the one SMS method set and the alias, got %s", r.raw)
	}
}

func TestMFAConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(*backdoor.Config)
		want string
	}{
		{"enabled without methods", func(c *backdoor.Config) { c.MFA = backdoor.MFAConfig{Enabled: true} }, "mfa.methods"},
		{"unknown method", func(c *backdoor.Config) { c.MFA.Methods = []string{"voice"} }, "mfa.methods[0]"},
		{"bad blocked number", func(c *backdoor.Config) { c.MFA.BlockedNumbers = []string{"555"} }, "mfa.blocked_numbers[0]"},
		{"bad region", func(c *backdoor.Config) { c.MFA.BlockedRegions = []string{"999"} }, "mfa.blocked_regions[0]"},
		{"alias that is an email", func(c *backdoor.Config) {
			c.Users = []backdoor.SeedUser{{Username: "a@contoso.com", Alias: "a@contoso.com"}}
		}, "alias"},
		{"seeded method with a bad target", func(c *backdoor.Config) {
			c.Users = []backdoor.SeedUser{{Username: "a@contoso.com", StrongMethods: []backdoor.StrongMethod{{Channel: "email", Target: "x"}}}}
		}, "strong_methods[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(&cfg)
			err := validateConfig(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("want an error naming %s, got %v", tt.want, err)
			}
		})
	}
	cfg, err := ParseConfig([]byte("mfa:\n  enabled: true\n  methods: [email, sms]\n  require_registration: true\nusername_sign_in: true\nusers:\n  - username: a@contoso.com\n    password: Str0ng!Secret\n    alias: ada\n    strong_methods:\n      - {channel: sms, target: \"+15550100123\"}\n"))
	if err != nil || !cfg.MFA.Enabled || !cfg.UsernameSignIn || cfg.Users[0].StrongMethods[0].Target != "+15550100123" {
		t.Errorf("YAML: got %+v, %v", cfg.MFA, err)
	}
}
