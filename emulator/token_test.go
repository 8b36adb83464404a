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

// apiScope is the read scope of the default confidential client's API.
const apiScope = "api://" + DefaultConfidentialClient + "/read"

// signInForAPI signs in a new user u with a password, asking for scope and
// apiScope, and returns the token answer.
func (h *harness) signInForAPI(u, scope string) resp {
	h.t.Helper()
	h.createUser(u, goodPass, nil)
	ct := h.passwordChallenged(u)
	return h.post(nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", scope+" "+apiScope))
}

// An access token for another registered app's API has that API as its
// audience and this app as azp, as a resource server checks.
func TestAccessTokenForAnAPI(t *testing.T) {
	h := newHarness(t, nil)
	const u = "api@example.com"
	r := h.signInForAPI(u, "openid")
	h.verifyTokens(r, true, false, u)
	aud, _ := jwtClaims(t, r.str("access_token"))["aud"].(string)
	if aud == clientID || !strings.Contains(aud, DefaultConfidentialClient) {
		t.Errorf("access token aud = %q, want the API %s", aud, DefaultConfidentialClient)
	}
}

// Access tokens are v2.0 tokens: the client is "azp" (v1.0's "appid" is
// absent), on the first answer and on a refreshed one, whatever the
// audience.
func TestAccessTokenAuthorizedParty(t *testing.T) {
	h := newHarness(t, nil)
	r := h.signInForAPI("azp@example.com", "openid offline_access")
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
