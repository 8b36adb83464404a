package emulator

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// jwtClaims decodes a JWS payload without verifying it (verification is
// e2e_test's verifyTokens).
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return m
}

// Access tokens are v2.0 tokens: the client is "azp" (v1.0's "appid" is
// absent), on the first answer and on a refreshed one, whatever the
// audience.
func TestAccessTokenAuthorizedParty(t *testing.T) {
	h := newHarness(t, nil)
	const u = "azp@example.com"
	h.createUser(u, goodPass, nil)
	ct := h.passwordChallenged(u)
	api := "api://" + DefaultConfidentialClient + "/read"
	r := h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", "openid offline_access "+api))
	if r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	check := func(what, raw string) {
		t.Helper()
		c := jwtClaims(t, raw)
		if c["azp"] != clientID {
			t.Errorf("%s: azp = %v, want %s", what, c["azp"], clientID)
		}
		if _, ok := c["appid"]; ok {
			t.Errorf("%s: appid present in a v2.0 token: %v", what, c["appid"])
		}
		if c["ver"] != "2.0" {
			t.Errorf("%s: ver = %v", what, c["ver"])
		}
	}
	check("access token", r.str("access_token"))
	r = h.post(nativeauth.EndpointToken, vals("client_id", clientID, "grant_type", "refresh_token", "refresh_token", r.str("refresh_token")))
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.raw)
	}
	check("refreshed access token", r.str("access_token"))
}
