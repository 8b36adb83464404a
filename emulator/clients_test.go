package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// What Microsoft's SDKs send and need (shared/spec/client-facts.md), for
// today's endpoints.

// resetToToken runs a password reset for u up to the succeeded poll and
// returns the continuation token for the token grant.
func (h *harness) resetToToken(u, newPassword string) string {
	h.t.Helper()
	ct := h.resetSubmitted(u, newPassword)
	for i := 0; i < len(h.e.Config().SSPR.PollSequence); i++ {
		ct = wantToken(h.t, "poll", h.post(nativeauth.EndpointResetPollCompletion, vals("client_id", clientID, "continuation_token", ct)))
	}
	return ct
}

// clientInfo decodes client_info and the id token's oid.
func clientInfo(t *testing.T, r resp) (uid, utid, oid string) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(r.str("client_info"))
	var ci struct{ UID, UTID string }
	if err != nil || json.Unmarshal(raw, &ci) != nil {
		t.Fatalf("client_info %q is not base64url JSON: %v", r.str("client_info"), err)
	}
	parts := strings.Split(r.str("id_token"), ".")
	if len(parts) != 3 {
		t.Fatalf("id_token is not a JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		OID string `json:"oid"`
	}
	if err != nil || json.Unmarshal(payload, &claims) != nil {
		t.Fatalf("id_token payload: %v", err)
	}
	return ci.UID, ci.UTID, claims.OID
}

// MSAL iOS: client_info=true on every token call, challenge_type on the
// password and continuation_token grants, username on the password grant.
func TestIOSTokenRequests(t *testing.T) {
	h := newHarness(t, nil)
	const u = "ios@example.com"
	h.createUser(u, goodPass, nil)
	ct := h.passwordChallenged(u)
	// Another user's name on the grant is refused and leaves the token usable.
	r := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass,
		"username", "someone-else@example.com", "challenge_type", "password redirect", "client_info", "true", "scope", "openid offline_access"))
	wantError(t, "password grant, other username", r, nativeauth.ErrInvalidGrant, "", codeInvalidOrExpiredTokens)
	r = h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass,
		"username", strings.ToUpper(u), "challenge_type", "password redirect", "client_info", "true", "scope", "openid offline_access"))
	h.verifyTokens(r, true, true, u)
	uid, utid, oid := clientInfo(t, r)
	if uid != oid || utid != DefaultTenantID {
		t.Errorf("client_info {uid %q, utid %q}: want uid = id_token oid %q, utid %q", uid, utid, oid, DefaultTenantID)
	}

	ct = h.resetToToken(u, otherPass)
	r = h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "continuation_token",
		"username", u, "challenge_type", "oob password redirect", "client_info", "true", "scope", "openid offline_access"))
	h.verifyTokens(r, true, true, u)
	if uid2, _, _ := clientInfo(t, r); uid2 != uid {
		t.Errorf("client_info uid after reset %q, want the same account %q", uid2, uid)
	}
}

// MSAL JS refreshes at /token?client-request-id=… with its library and
// telemetry fields in the form body, x-ms-lib-capability, and claims.
func TestJSRefreshForm(t *testing.T) {
	h := newHarness(t, nil)
	const u = "js@example.com"
	h.createUser(u, goodPass, nil)
	first := h.signInPassword(u, goodPass)
	const requestID = "6f1f4a5e-3c1b-4c52-9a1e-0d6c0b8d2f10"
	form := url.Values{}
	for _, kv := range [][2]string{
		{"client_id", clientID},
		{"scope", "api://" + DefaultNativeClientID + "/read openid profile offline_access"},
		{"grant_type", "refresh_token"},
		{"client_info", "1"},
		{"x-client-SKU", "msal.js.browser"},
		{"x-client-VER", "4.27.0"},
		{"x-client-OS", ""},
		{"x-client-CPU", ""},
		{"x-ms-lib-capability", "retry-after, h429"},
		{"x-client-current-telemetry", "5|61,0,,,|,"},
		{"x-client-last-telemetry", "5|0|||0,0"},
		{"refresh_token", first.str("refresh_token")},
		{"claims", `{"access_token":{"xms_cc":{"values":["CP1"]}}}`},
	} {
		form.Set(kv[0], kv[1])
	}
	req, err := http.NewRequest(http.MethodPost, h.base+string(nativeauth.EndpointToken)+"?client-request-id="+requestID, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	r := h.do(req)
	h.verifyTokens(r, true, true, u)
	if r.header.Get("client-request-id") != requestID || r.header.Get("x-ms-request-id") == "" {
		t.Errorf("headers client-request-id %q (want %s), x-ms-request-id %q", r.header.Get("client-request-id"), requestID, r.header.Get("x-ms-request-id"))
	}
	if uid, _, oid := clientInfo(t, r); uid != oid {
		t.Errorf("client_info uid %q, want the id token's oid %q", uid, oid)
	}
	if r.str("refresh_token") == first.str("refresh_token") {
		t.Error("refresh token not rotated")
	}
}

// Both x-ms-request-id and client-request-id on every answer, errors,
// faults and the backdoor included; the request's client-request-id is
// echoed, else a fresh UUID is sent.
func TestRequestIDHeadersOnEveryAnswer(t *testing.T) {
	h := newHarness(t, nil)
	const sent = "0b5e0d0c-1234-4abc-8def-0123456789ab"
	check := func(what string, req *http.Request, wantEcho bool) {
		t.Helper()
		r := h.do(req)
		got := r.header.Get("client-request-id")
		switch {
		case wantEcho && got != sent:
			t.Errorf("%s: client-request-id: want %s, got %q", what, sent, got)
		case !wantEcho && (!isUUID(got) || got == sent):
			t.Errorf("%s: client-request-id: want a fresh UUID, got %q", what, got)
		}
		if r.body["correlation_id"] != nil && r.str("correlation_id") != got {
			t.Errorf("%s: correlation_id %q, header %q: want equal", what, r.str("correlation_id"), got)
		}
	}
	newReq := func(method, u, body string) *http.Request {
		req, err := http.NewRequest(method, u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	if r := h.backdoor(http.MethodPut, "faults", map[string]any{"endpoints": map[string]any{string(nativeauth.EndpointResetStart): map[string]any{"rate_503": 1}}}); r.status != http.StatusOK {
		t.Fatalf("faults: %d %s", r.status, r.raw)
	}
	for _, c := range []struct{ what, method, url, body string }{
		{"success", "GET", h.base + string(nativeauth.EndpointOpenIDConfiguration), ""},
		{"error", "POST", h.base + string(nativeauth.EndpointSignInInitiate), "client_id=" + clientID},
		{"unknown path", "GET", h.base + "/nowhere", ""},
		{"wrong method", "GET", h.base + string(nativeauth.EndpointToken), ""},
		{"fault 503", "POST", h.base + string(nativeauth.EndpointResetStart), "client_id=" + clientID},
		{"backdoor", "GET", h.srv.URL + "/emulator/v1/clock", ""},
	} {
		check(c.what+", none sent", newReq(c.method, c.url, c.body), false)
		req := newReq(c.method, c.url, c.body)
		req.Header.Set("client-request-id", sent)
		check(c.what+", sent", req, true)
	}
}
