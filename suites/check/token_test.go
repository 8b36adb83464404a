package check

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

func TestToken(t *testing.T) {
	full := `{"token_type":"Bearer","scope":"openid offline_access","expires_in":3600,"access_token":"a","refresh_token":"r","id_token":"i"}`
	noRefresh := `{"token_type":"Bearer","scope":"openid","expires_in":3600,"access_token":"a","id_token":"i"}`
	both := TokenWant{Scopes: []string{"openid", "offline_access"}}
	openid := TokenWant{Scopes: []string{"openid"}}
	tests := []struct {
		name string
		r    *nativeauth.Response
		want TokenWant
		fail []string
	}{
		{"full", resp(200, full, "Cache-Control", "no-store"), both, nil},
		{"no-store among directives", resp(200, full, "Cache-Control", "no-cache, no-store"), both, nil},
		{"cache-control missing", resp(200, full), both, []string{"header Cache-Control"}},
		{"refresh without offline_access", resp(200, full, "Cache-Control", "no-store"), openid, []string{"body.refresh_token"}},
		{"no refresh when asked", resp(200, noRefresh, "Cache-Control", "no-store"), both, []string{"body.refresh_token"}},
		{"no refresh not asked", resp(200, noRefresh, "Cache-Control", "no-store"), openid, nil},
		{"id_token without openid", resp(200, noRefresh, "Cache-Control", "no-store"), TokenWant{}, []string{"body.id_token"}},
		{"token type", resp(200, strings.Replace(noRefresh, "Bearer", "MAC", 1), "Cache-Control", "no-store"), openid, []string{"body.token_type"}},
		{"expires_in string", resp(200, strings.Replace(noRefresh, "3600", `"3600"`, 1), "Cache-Control", "no-store"), openid, []string{"body.expires_in"}},
	}
	for _, tt := range tests {
		_, err := Token(tt.r, tt.want)
		sameFields(t, tt.name, err, tt.fail)
	}
}

// tenant is a fake OpenID provider publishing one RSA key.
type tenant struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	issuer string
}

func newTenant(t *testing.T) *tenant {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tn := &tenant{key: key}
	mux := http.NewServeMux()
	tn.srv = httptest.NewServer(mux)
	t.Cleanup(tn.srv.Close)
	// The issuer differs from the discovery URL, as on Entra.
	tn.issuer = tn.srv.URL + "/tenant-id/v2.0"
	mux.HandleFunc("/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": tn.issuer, "jwks_uri": tn.srv.URL + "/keys",
			"authorization_endpoint": tn.srv.URL + "/authorize", "token_endpoint": tn.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	return tn
}

func sign(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestIDTokenVerifier(t *testing.T) {
	tn := newTenant(t)
	ctx := context.Background()
	const clientID = "11110000-aaaa-bbbb-cccc-000011112222"
	v, err := NewIDTokenVerifier(ctx, tn.srv.Client(), tn.srv.URL+"/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", clientID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Issuer() != tn.issuer {
		t.Errorf("Issuer() = %q, want %q", v.Issuer(), tn.issuer)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := func() map[string]any {
		return map[string]any{"iss": tn.issuer, "aud": clientID, "sub": "u", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) map[string]any {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name  string
		key   *rsa.PrivateKey
		claim map[string]any
		field string // "" when valid
	}{
		{"valid", tn.key, good(), ""},
		{"signed by another key", other, good(), "body.id_token"},
		{"wrong issuer", tn.key, with("iss", "https://evil/v2.0"), "body.id_token"},
		{"wrong audience", tn.key, with("aud", "someone-else"), "body.id_token"},
		{"expired", tn.key, with("exp", now.Add(-time.Minute).Unix()), "body.id_token"},
		{"no iat", tn.key, with("iat", nil), "id_token.iat"},
		{"iat in the future", tn.key, with("iat", now.Add(time.Hour).Unix()), "id_token.iat"},
	}
	for _, tt := range tests {
		_, err := v.Verify(ctx, sign(t, tt.key, tt.claim))
		var want []string
		if tt.field != "" {
			want = []string{tt.field}
		}
		sameFields(t, tt.name, err, want)
	}
	if _, err := v.Verify(ctx, "not-a-jwt"); err == nil {
		t.Error("garbage id_token verified")
	}
}

func TestIDTokenVerifierDiscoveryErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing/.well-known/openid-configuration":
			_, _ = w.Write([]byte(`{"issuer":"x"}`))
		case "/garbage/.well-known/openid-configuration":
			_, _ = w.Write([]byte(`<html>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, path := range []string{"/missing", "/garbage", "/nothing"} {
		if _, err := NewIDTokenVerifier(context.Background(), srv.Client(), srv.URL+path+"/.well-known/openid-configuration", "c", nil); err == nil {
			t.Errorf("discovery at %s: want an error", path)
		}
	}
}
