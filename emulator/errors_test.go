package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/emulator/faults"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

func TestClientErrors(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		name, client string
		want         nativeauth.ErrorCode
		sub          nativeauth.Suberror
		code         int
	}{
		{"missing", "", nativeauth.ErrInvalidRequest, "", codeMissingParameter},
		{"not a guid", "my-app", nativeauth.ErrInvalidRequest, "", codeInvalidClientID},
		{"unknown", "11111111-2222-4333-8444-555555555555", nativeauth.ErrUnauthorizedClient, "", codeUnknownClient},
		{"disabled", DefaultDisabledClientID, nativeauth.ErrInvalidClient, nativeauth.SuberrorNativeAuthAPIDisabled, codeNativeAuthDisabled},
		{"confidential", DefaultConfidentialClient, nativeauth.ErrInvalidClient, "", codeConfidentialClient},
	}
	for _, c := range cases {
		for _, ep := range nativeauth.Endpoints {
			r := h.post(ep, vals("client_id", c.client, "username", "x@example.com", "challenge_type", "oob password redirect"))
			wantError(t, c.name+" "+string(ep), r, c.want, c.sub, c.code)
		}
	}
}

func TestStartErrors(t *testing.T) {
	h := newHarness(t, nil)
	h.createUser("taken@example.com", goodPass, nil)
	type tc struct {
		name string
		ep   nativeauth.Endpoint
		form url.Values
		want nativeauth.ErrorCode
		sub  nativeauth.Suberror
		code int
	}
	su, in, rs := nativeauth.EndpointSignUpStart, nativeauth.EndpointSignInInitiate, nativeauth.EndpointResetStart
	cases := []tc{
		{"signup no username", su, vals("client_id", clientID, "challenge_type", "oob password redirect"), nativeauth.ErrInvalidRequest, "", nativeauth.CodeInvalidUsername},
		{"signup bad username", su, vals("client_id", clientID, "username", "nope", "challenge_type", "oob password redirect"), nativeauth.ErrInvalidRequest, "", nativeauth.CodeInvalidUsername},
		{"signup no redirect", su, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "oob password"), nativeauth.ErrUnsupportedChallengeType, "", nativeauth.CodeRedirectMissing},
		{"signup unknown type", su, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "oob fido redirect"), nativeauth.ErrInvalidRequest, "", codeInvalidChallengeType},
		{"signup no challenge_type", su, vals("client_id", clientID, "username", "n@example.com"), nativeauth.ErrInvalidRequest, "", codeMissingParameter},
		{"signup exists", su, vals("client_id", clientID, "username", "TAKEN@example.com", "challenge_type", "oob password redirect"), nativeauth.ErrUserAlreadyExists, "", nativeauth.CodeUserAlreadyExists},
		{"signup bad attributes json", su, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "oob password redirect", "attributes", "{displayName:"), nativeauth.ErrInvalidRequest, "", codeMalformedRequest},
		{"signup attribute regex", su, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "oob password redirect", "attributes", `{"extension_`+strings.ReplaceAll(DefaultExtensionsAppID, "-", "")+`_age":"0x"}`), nativeauth.ErrInvalidGrant, nativeauth.SuberrorAttributeValidationFailed, nativeauth.CodeAttributesInvalid},
		{"signup weak password", su, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "oob password redirect", "password", "alllowercase"), nativeauth.ErrInvalidGrant, nativeauth.SuberrorPasswordTooWeak, 0},
		{"signup banned password", su, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "oob password redirect", "password", "Contoso123!"), nativeauth.ErrInvalidGrant, nativeauth.SuberrorPasswordBanned, 0},
		{"signup long password", su, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "oob password redirect", "password", "Aa1"+strings.Repeat("z", 300)), nativeauth.ErrInvalidGrant, nativeauth.SuberrorPasswordTooLong, 0},
		{"signup invalid password", su, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "oob password redirect", "password", "Abcdefg1\x01"), nativeauth.ErrInvalidGrant, nativeauth.SuberrorPasswordIsInvalid, 0},
		{"initiate unknown user", in, vals("client_id", clientID, "username", "ghost@example.com", "challenge_type", "password redirect"), nativeauth.ErrUserNotFound, "", nativeauth.CodeUserNotFound},
		{"initiate bad username", in, vals("client_id", clientID, "username", "ghost", "challenge_type", "password redirect"), nativeauth.ErrInvalidRequest, "", nativeauth.CodeInvalidUsername},
		{"initiate no redirect", in, vals("client_id", clientID, "username", "taken@example.com", "challenge_type", "password"), nativeauth.ErrUnsupportedChallengeType, "", nativeauth.CodeRedirectMissing},
		{"reset unknown user", rs, vals("client_id", clientID, "username", "ghost@example.com", "challenge_type", "oob redirect"), nativeauth.ErrUserNotFound, "", nativeauth.CodeUserNotFound},
		{"reset no redirect", rs, vals("client_id", clientID, "username", "taken@example.com", "challenge_type", "oob"), nativeauth.ErrUnsupportedChallengeType, "", nativeauth.CodeRedirectMissing},
	}
	for _, c := range cases {
		wantError(t, c.name, h.post(c.ep, c.form), c.want, c.sub, c.code)
	}
}

func TestRedirects(t *testing.T) {
	h := newHarness(t, nil)
	h.createUser("pw@example.com", goodPass, nil)
	check := func(name string, r resp) {
		t.Helper()
		if r.status != http.StatusOK || r.str("challenge_type") != "redirect" || r.str("continuation_token") != "" {
			t.Errorf("%s: want 200 redirect, got %d %s", name, r.status, r.raw)
		}
	}
	check("signup oob only on password tenant", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "oob redirect")))
	check("signup password only", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "password redirect")))
	check("signin oob for password user", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "pw@example.com", "challenge_type", "oob redirect")))
	check("reset password only", h.post(nativeauth.EndpointResetStart, vals("client_id", clientID, "username", "pw@example.com", "challenge_type", "password redirect")))
	check("signin redirect only", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "pw@example.com", "challenge_type", "redirect")))

	// At signup challenge: an app that drops oob when an OTP is needed.
	ct := wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", "n@example.com", "challenge_type", "oob password redirect")))
	check("signup challenge password redirect", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "password redirect")))

	otp := newHarness(t, func(c *backdoor.Config) { c.SignUpMethod = nativeauth.SignUpMethodOTP })
	otp.createUser("o@example.com", "", nil)
	check("otp tenant signin with password list", otp.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "o@example.com", "challenge_type", "password redirect")))
}

func TestVerificationRequired(t *testing.T) {
	h := newHarness(t, nil)
	const u = "early@example.com"
	ct := wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", u, "challenge_type", "oob password redirect")))
	r := h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "attributes", "attributes", `{"displayName":"Early","city":"Rome"}`))
	wantError(t, "attributes before verification", r, nativeauth.ErrVerificationRequired, "", codeVerificationRequired)
	ua, _ := r.body["unverified_attributes"].([]any)
	if len(ua) != 1 || r.str("continuation_token") == "" {
		t.Fatalf("verification_required body %s", r.raw)
	}
	ct = r.str("continuation_token")
	r = h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass))
	wantError(t, "password before verification", r, nativeauth.ErrVerificationRequired, "", codeVerificationRequired)
	ct = r.str("continuation_token")
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct)))
	// Password and attributes were kept: the OTP completes the sign-up.
	ct = wantToken(t, "continue", h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(u))))
	h.verifyTokens(h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "continuation_token", "username", u, "scope", "openid")), true, false, u)
	ur := h.backdoor(http.MethodGet, "users/"+u, nil)
	if attrs, _ := ur.body["attributes"].(map[string]any); attrs["city"] != "Rome" {
		t.Errorf("optional attribute before verification not kept: %s", ur.raw)
	}
}

// continuationFixture starts a sign-up and a sign-in and returns their
// tokens.
func continuationFixture(t *testing.T, h *harness) (signUp, signIn string) {
	t.Helper()
	h.createUser("in@example.com", goodPass, nil)
	signUp = wantToken(t, "signup", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", "up@example.com", "challenge_type", "oob password redirect")))
	signIn = wantToken(t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "in@example.com", "challenge_type", "password redirect")))
	return signUp, signIn
}

func TestContinuationTokens(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) {
		c.Apps = append(c.Apps, backdoor.App{Name: "second", ClientID: "00000000-0000-4000-8000-0000000000b2", PublicClient: true, NativeAuth: true})
	})
	signUp, signIn := continuationFixture(t, h)

	// Another flow's token.
	wantError(t, "signin token at signup challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", signIn)), nativeauth.ErrInvalidGrant, "", nativeauth.CodeInvalidContinuation)
	wantError(t, "signup token at reset challenge", h.post(nativeauth.EndpointResetChallenge, vals("client_id", clientID, "continuation_token", signUp)), nativeauth.ErrInvalidRequest, "", nativeauth.CodeInvalidContinuation)
	// Another step's token: a start token cannot reach the token endpoint.
	wantError(t, "start token at token", h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", signUp, "grant_type", "continuation_token", "username", "up@example.com", "scope", "openid")), nativeauth.ErrInvalidGrant, "", nativeauth.CodeInvalidContinuation)
	wantError(t, "wrong grant for step", h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", signIn, "grant_type", "password", "password", goodPass, "scope", "openid")), nativeauth.ErrInvalidGrant, "", 0)
	// Another client.
	wantError(t, "other client", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", "00000000-0000-4000-8000-0000000000b2", "continuation_token", signUp)), nativeauth.ErrInvalidGrant, "", nativeauth.CodeInvalidContinuation)
	// Tampered: flip one character in the middle.
	b := []byte(signUp)
	if b[10] == 'A' {
		b[10] = 'B'
	} else {
		b[10] = 'A'
	}
	wantError(t, "tampered", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", string(b))), nativeauth.ErrInvalidGrant, "", nativeauth.CodeInvalidContinuation)
	wantError(t, "garbage", h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", "AQABAAEAAA", "grant_type", "oob", "oob", "1")), nativeauth.ErrInvalidRequest, "", nativeauth.CodeInvalidContinuation)
	wantError(t, "missing", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID)), nativeauth.ErrInvalidRequest, "", codeMissingParameter)

	// Replay: once the flow moved on, the older token is dead.
	next := wantToken(t, "challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", signUp)))
	wantError(t, "replayed", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", signUp)), nativeauth.ErrInvalidGrant, "", nativeauth.CodeInvalidContinuation)

	// Expiry by the emulator clock; the OTP expires too.
	code := h.lastCode("up@example.com")
	adv := h.backdoor(http.MethodPost, "clock", map[string]string{"advance": "10m1s"})
	if adv.status != http.StatusOK || adv.str("offset") != "10m1s" {
		t.Fatalf("clock advance: %s", adv.raw)
	}
	wantError(t, "expired", h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", next, "grant_type", "oob", "oob", code)), nativeauth.ErrExpiredToken, "", nativeauth.CodeExpiredToken)
	wantError(t, "expired signin", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", signIn)), nativeauth.ErrExpiredToken, "", nativeauth.CodeExpiredToken)
}

func TestOTPExpiry(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) { c.OTP.Lifetime = backdoor.Duration(time.Minute) })
	const u = "late@example.com"
	ct := wantToken(t, "start", h.post(nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", u, "challenge_type", "oob password redirect")))
	ct = wantToken(t, "challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct)))
	code := h.lastCode(u)
	h.backdoor(http.MethodPost, "clock", map[string]string{"advance": "61s"})
	r := h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", code))
	wantError(t, "expired otp", r, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, nativeauth.CodeOTPExpired)
	// A new challenge sends a fresh code that works.
	ct = wantToken(t, "resend", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct)))
	r = h.post(nativeauth.EndpointSignUpContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(u)))
	wantError(t, "fresh otp", r, nativeauth.ErrCredentialRequired, "", nativeauth.CodeCredentialRequired)
}

func TestTokenEndpointErrors(t *testing.T) {
	h := newHarness(t, nil)
	_, signIn := continuationFixture(t, h)
	tok := nativeauth.EndpointToken
	cases := []struct {
		name string
		form url.Values
		want nativeauth.ErrorCode
		code int
	}{
		{"no grant", vals("client_id", clientID, "scope", "openid"), nativeauth.ErrInvalidRequest, codeMissingParameter},
		{"unknown grant", vals("client_id", clientID, "grant_type", "client_credentials", "scope", "openid"), nativeauth.ErrUnsupportedGrantType, codeUnsupportedGrantType},
		{"attributes grant at token", vals("client_id", clientID, "grant_type", "attributes", "scope", "openid"), nativeauth.ErrUnsupportedGrantType, codeUnsupportedGrantType},
		{"no scope", vals("client_id", clientID, "grant_type", "password", "continuation_token", signIn, "password", "x"), nativeauth.ErrInvalidRequest, codeMissingParameter},
		{"unknown scope", vals("client_id", clientID, "grant_type", "password", "continuation_token", signIn, "password", "x", "scope", "openid User.Read"), nativeauth.ErrInvalidScope, codeInvalidScope},
		{"foreign api", vals("client_id", clientID, "grant_type", "password", "continuation_token", signIn, "password", "x", "scope", "api://99999999-2222-4333-8444-555555555555/read"), nativeauth.ErrInvalidScope, codeInvalidScope},
		{"two resources", vals("client_id", clientID, "grant_type", "password", "continuation_token", signIn, "password", "x", "scope", DefaultNativeClientID+"/.default api://"+DefaultConfidentialClient+"/read"), nativeauth.ErrInvalidScope, codeInvalidScope},
		{"no consent", vals("client_id", clientID, "grant_type", "password", "continuation_token", signIn, "password", "x", "scope", "openid api://"+DefaultConfidentialClient+"/Admin"), nativeauth.ErrInvalidRequest, codeConsentRequired},
		{"no refresh token", vals("client_id", clientID, "grant_type", "refresh_token"), nativeauth.ErrInvalidRequest, codeMissingParameter},
		{"unknown refresh token", vals("client_id", clientID, "grant_type", "refresh_token", "refresh_token", "nope"), nativeauth.ErrInvalidGrant, codeInvalidRefreshToken},
	}
	for _, c := range cases {
		wantError(t, c.name, h.post(tok, c.form), c.want, "", c.code)
	}
	// API scopes of a registered app are accepted, with extra SDK fields
	// and a client-request-id query parameter.
	ct := wantToken(t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", signIn)))
	form := vals("client_id", clientID, "grant_type", "password", "continuation_token", ct, "password", goodPass,
		"scope", "openid api://"+DefaultNativeClientID+"/read offline_access", "client_info", "true", "claims", `{"access_token":{}}`,
		"capabilities", "cp1", "challenge_type", "password redirect", "x-client-SKU", "MSAL.Android", "X-AnchorMailbox", "upn:in@example.com")
	req, _ := http.NewRequest(http.MethodPost, h.base+string(tok)+"?client-request-id=abc-123", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := h.do(req)
	h.verifyTokens(r, true, true, "in@example.com")
	if r.str("client_info") == "" || r.header.Get("client-request-id") != "abc-123" {
		t.Errorf("client_info / client-request-id echo missing: %s %v", r.raw, r.header)
	}
}

func TestCorrelationID(t *testing.T) {
	h := newHarness(t, nil)
	req, _ := http.NewRequest(http.MethodPost, h.base+string(nativeauth.EndpointSignInInitiate), strings.NewReader("client_id="+clientID))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("client-request-id", "0b5e0d0c-1234-4abc-8def-0123456789ab")
	r := h.do(req)
	if r.str("correlation_id") != "0b5e0d0c-1234-4abc-8def-0123456789ab" {
		t.Errorf("correlation_id %q", r.str("correlation_id"))
	}
	r2 := h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID))
	if !isGUID(r2.str("correlation_id")) || !isGUID(r2.str("trace_id")) || r2.str("trace_id") == r.str("trace_id") {
		t.Errorf("fresh ids: %s", r2.raw)
	}
	if _, err := time.Parse(faults.TimestampLayout, r2.str("timestamp")); err != nil {
		t.Errorf("timestamp %q: %v", r2.str("timestamp"), err)
	}
}

func TestBadRequests(t *testing.T) {
	h := newHarness(t, nil)
	ep := h.base + string(nativeauth.EndpointSignUpStart)
	send := func(method, url, ct, body string) resp {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		return h.do(req)
	}
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name, method, url, ct, body string
		status                      int
	}{
		{"json body", "POST", ep, "application/json", `{"client_id":"x"}`, 400},
		{"no content type", "POST", ep, "", "client_id=" + clientID, 400},
		{"bad media type", "POST", ep, "application/x-www-form-urlencoded; charset", "client_id=" + clientID, 400},
		{"latin1", "POST", ep, form + "; charset=iso-8859-1", "client_id=" + clientID, 400},
		{"bad escape", "POST", ep, form, "client_id=%zz", 400},
		{"semicolon", "POST", ep, form, "client_id=a;b", 400},
		{"duplicate", "POST", ep, form, "client_id=" + clientID + "&client_id=" + clientID, 400},
		{"invalid utf8", "POST", ep, form, "client_id=" + clientID + "&username=%ff%fe", 400},
		{"oversized", "POST", ep, form, "client_id=" + clientID + "&pad=" + strings.Repeat("a", maxBodyBytes), 400},
		{"get", "GET", ep, "", "", 405},
		{"options", "OPTIONS", ep, "", "", 405},
		{"put", "PUT", ep, form, "", 405},
		{"unknown path", "POST", h.base + "/signup/v1.0/finish", form, "", 404},
		{"other tenant", "POST", h.srv.URL + "/fabrikam.onmicrosoft.com/signup/v1.0/start", form, "", 404},
		{"root", "GET", h.srv.URL + "/", "", "", 404},
		{"post discovery", "POST", h.base + "/v2.0/.well-known/openid-configuration", form, "", 405},
		{"backdoor unknown", "GET", h.srv.URL + "/emulator/v1/nothing", "", "", 404},
	}
	for _, c := range cases {
		r := send(c.method, c.url, c.ct, c.body)
		if r.status != c.status || r.str("error") == "" || r.str("trace_id") == "" {
			t.Errorf("%s: %d %s, want %d with an error body", c.name, r.status, r.raw, c.status)
		}
		if c.status == 405 && r.header.Get("Allow") == "" {
			t.Errorf("%s: no Allow header", c.name)
		}
	}
}

func TestDiscoveryByTenantID(t *testing.T) {
	h := newHarness(t, nil)
	for _, p := range []string{"/" + DefaultTenant + ".onmicrosoft.com", "/" + DefaultTenantID} {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+p+"/v2.0/.well-known/openid-configuration", nil)
		r := h.do(req)
		if r.status != 200 || !strings.HasSuffix(r.str("issuer"), "/v2.0") || r.str("jwks_uri") == "" {
			t.Errorf("%s: %d %s", p, r.status, r.raw)
		}
		req, _ = http.NewRequest(http.MethodGet, r.str("jwks_uri"), nil)
		if k := h.do(req); k.status != 200 || k.body["keys"] == nil {
			t.Errorf("jwks: %d %s", k.status, k.raw)
		}
	}
}
