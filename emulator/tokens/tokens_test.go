package tokens

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

const (
	testTenant   = "contoso.onmicrosoft.com"
	testClientID = "11111111-2222-3333-4444-555555555555"
	testResource = "api://contoso-api"
)

// testKey is generated once: key generation costs far more than the tests.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// tenantServer serves discovery and JWKS the way the emulator does, on
// loopback, and returns the Issuer bound to it.
func tenantServer(t *testing.T, key *rsa.PrivateKey) (*Issuer, *httptest.Server) {
	t.Helper()
	var is *Issuer
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := srv.URL + "/" + testTenant
	var err error
	if is, err = NewIssuer(base+"/v2.0", key); err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	mux.HandleFunc("GET /"+testTenant+"/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		b, err := is.Discovery(base)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /"+testTenant+"/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		b, _ := is.JWKS()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	return is, srv
}

func testClaims() Claims {
	return Claims{
		Subject:           "pairwise-sub-1",
		ObjectID:          "aaaaaaaa-0000-0000-0000-000000000001",
		TenantID:          "bbbbbbbb-0000-0000-0000-000000000002",
		Audience:          testClientID,
		PreferredUsername: "ada@contoso.com",
		Email:             "ada@contoso.com",
		Name:              "Ada Lovelace",
		Scopes:            []string{"openid", "offline_access"},
	}
}

func provider(t *testing.T, is *Issuer) *oidc.Provider {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), is.Issuer())
	if err != nil {
		t.Fatalf("oidc.NewProvider(%s): %v", is.Issuer(), err)
	}
	return p
}

// verifyClaims verifies raw as go-oidc does for the audience, fails the
// test for each claim of want it does not carry, and returns its claims.
func verifyClaims(t *testing.T, is *Issuer, audience, raw string, want map[string]any) map[string]any {
	t.Helper()
	tok, err := provider(t, is).Verifier(&oidc.Config{ClientID: audience}).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	var got map[string]any
	if err := tok.Claims(&got); err != nil {
		t.Fatalf("Claims: %v", err)
	}
	for _, claim := range slices.Sorted(maps.Keys(want)) {
		if got[claim] != want[claim] {
			t.Errorf("claim %s = %v, want %v", claim, got[claim], want[claim])
		}
	}
	return got
}

func TestIDTokenVerifiesWithOIDC(t *testing.T) {
	is, _ := tenantServer(t, testKey())
	now := time.Now()
	raw, err := is.IDToken(testClaims(), now, time.Hour)
	if err != nil {
		t.Fatalf("IDToken: %v", err)
	}
	c := testClaims()
	got := verifyClaims(t, is, testClientID, raw, map[string]any{
		"iss":                is.Issuer(),
		"aud":                testClientID,
		"sub":                c.Subject,
		"oid":                c.ObjectID,
		"tid":                c.TenantID,
		"preferred_username": c.PreferredUsername,
		"email":              c.Email,
		"name":               c.Name,
		"ver":                "2.0",
		"iat":                float64(now.Unix()),
		"nbf":                float64(now.Unix()),
		"exp":                float64(now.Add(time.Hour).Unix()),
	})
	if _, ok := got["scp"]; ok {
		t.Errorf("ID token carries scp %v; scopes belong to the access token", got["scp"])
	}
}

func TestAccessTokenVerifiesWithOIDC(t *testing.T) {
	is, _ := tenantServer(t, testKey())
	c := testClaims()
	c.ClientID = testClientID
	c.Scopes = []string{"openid", testResource + "/read", testResource + "/write"}
	c.Audience = Resource(c.Scopes, c.ClientID)
	now := time.Now()
	raw, err := is.AccessToken(c, now, 30*time.Minute)
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	verifyClaims(t, is, testResource, raw, map[string]any{
		"iss": is.Issuer(),
		"aud": testResource,
		"azp": testClientID,
		"scp": "openid api://contoso-api/read api://contoso-api/write",
		"sub": c.Subject,
		"oid": c.ObjectID,
		"tid": c.TenantID,
		"iat": float64(now.Unix()),
		"nbf": float64(now.Unix()),
		"exp": float64(now.Add(30 * time.Minute).Unix()),
	})
}

// TestAccessTokenOpenIDOnly checks that with only OpenID scopes the access
// token's audience is the client itself.
func TestAccessTokenOpenIDOnly(t *testing.T) {
	is, _ := tenantServer(t, testKey())
	c := testClaims()
	c.Audience = ""
	c.ClientID = testClientID
	raw, err := is.AccessToken(c, time.Now(), time.Hour)
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	if _, err := provider(t, is).Verifier(&oidc.Config{ClientID: testClientID}).Verify(context.Background(), raw); err != nil {
		t.Fatalf("Verify with client ID audience: %v", err)
	}
}

func TestVerificationFailures(t *testing.T) {
	is, _ := tenantServer(t, testKey())
	p := provider(t, is)
	now := time.Now()
	good, err := is.IDToken(testClaims(), now, time.Hour)
	if err != nil {
		t.Fatalf("IDToken: %v", err)
	}

	// Same issuer URL, different key: what a forger or a rotated-away key
	// looks like to a verifier.
	otherKey, err := NewIssuer(is.Issuer(), nil)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	fromOtherKey, err := otherKey.IDToken(testClaims(), now, time.Hour)
	if err != nil {
		t.Fatalf("IDToken: %v", err)
	}
	// Same key, different tenant issuer.
	otherTenant, err := NewIssuer("http://127.0.0.1:1/fabrikam.onmicrosoft.com/v2.0", testKey())
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	fromOtherTenant, err := otherTenant.IDToken(testClaims(), now, time.Hour)
	if err != nil {
		t.Fatalf("IDToken: %v", err)
	}

	parts := strings.Split(good, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("decode signature: %v", err)
	}
	sig[len(sig)/2] ^= 0x01
	tamperedSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), "pairwise-sub-1", "pairwise-sub-2", 1))
	tamperedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	for _, tc := range []struct {
		name string
		raw  string
		cfg  oidc.Config
	}{
		{"wrong audience", good, oidc.Config{ClientID: "another-client"}},
		{"expired", good, oidc.Config{ClientID: testClientID, Now: func() time.Time { return now.Add(2 * time.Hour) }}},
		{"tampered signature", tamperedSig, oidc.Config{ClientID: testClientID}},
		{"tampered payload", tamperedPayload, oidc.Config{ClientID: testClientID}},
		{"other issuer's key", fromOtherKey, oidc.Config{ClientID: testClientID}},
		{"other tenant", fromOtherTenant, oidc.Config{ClientID: testClientID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := p.Verifier(&tc.cfg).Verify(context.Background(), tc.raw); err == nil {
				t.Fatal("Verify accepted the token")
			}
		})
	}
	// The control: the untouched token passes with the right settings.
	if _, err := p.Verifier(&oidc.Config{ClientID: testClientID}).Verify(context.Background(), good); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
}

func TestHeaders(t *testing.T) {
	is, err := NewIssuer("https://login.example/t/v2.0", testKey())
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	for name, issue := range map[string]func(Claims, time.Time, time.Duration) (string, error){
		"id": is.IDToken, "access": is.AccessToken,
	} {
		raw, err := issue(testClaims(), time.Now(), time.Minute)
		if err != nil {
			t.Fatalf("%s token: %v", name, err)
		}
		b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
		if err != nil {
			t.Fatalf("%s header: %v", name, err)
		}
		var h map[string]any
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatalf("%s header: %v", name, err)
		}
		want := map[string]any{"alg": "RS256", "kid": is.KeyID(), "typ": "JWT"}
		if len(h) != len(want) {
			t.Errorf("%s header = %v, want exactly %v", name, h, want)
		}
		for k, v := range want {
			if h[k] != v {
				t.Errorf("%s header %s = %v, want %v", name, k, h[k], v)
			}
		}
	}
}

func TestJWKS(t *testing.T) {
	key := testKey()
	is, err := NewIssuer("https://login.example/t/v2.0", key)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	b, err := is.JWKS()
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	for m, want := range map[string]string{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": is.KeyID(),
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": "AQAB",
	} {
		if k[m] != want {
			t.Errorf("JWKS %s = %v, want %v", m, k[m], want)
		}
	}
	if _, ok := k["d"]; ok {
		t.Error("JWKS publishes the private exponent")
	}
	// Mutating the returned bytes must not change what the Issuer serves.
	b[0] = 'X'
	again, _ := is.JWKS()
	if again[0] != '{' {
		t.Error("JWKS returned the Issuer's own buffer")
	}
}

func TestKeyIDStableAcrossIssuers(t *testing.T) {
	a, err := NewIssuer("https://a.example/v2.0", testKey())
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewIssuer("https://b.example/v2.0", testKey())
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() == "" || a.KeyID() != b.KeyID() {
		t.Errorf("key IDs %q and %q for one key; want equal and non-empty", a.KeyID(), b.KeyID())
	}
}

func TestDiscovery(t *testing.T) {
	base := "http://127.0.0.1:8080/contoso.onmicrosoft.com"
	is, err := NewIssuer(base+"/v2.0", testKey())
	if err != nil {
		t.Fatal(err)
	}
	b, err := is.Discovery(base)
	if err != nil {
		t.Fatalf("Discovery: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("discovery is not JSON: %v", err)
	}
	for _, tc := range []struct {
		member string
		want   string
	}{
		{"issuer", base + "/v2.0"},
		{"jwks_uri", base + "/discovery/v2.0/keys"},
		{"token_endpoint", base + "/oauth2/v2.0/token"},
		{"authorization_endpoint", base + "/oauth2/v2.0/authorize"},
	} {
		if doc[tc.member] != tc.want {
			t.Errorf("%s = %v, want %v", tc.member, doc[tc.member], tc.want)
		}
	}
	for _, tc := range []struct {
		member string
		want   string
	}{
		{"subject_types_supported", "pairwise"},
		{"id_token_signing_alg_values_supported", "RS256"},
		{"scopes_supported", "openid"},
		{"response_types_supported", "code"},
		{"claims_supported", "preferred_username"},
	} {
		list, _ := doc[tc.member].([]any)
		found := false
		for _, v := range list {
			found = found || v == tc.want
		}
		if !found {
			t.Errorf("%s = %v, want it to contain %q", tc.member, doc[tc.member], tc.want)
		}
	}
	if v, ok := doc["tenant_region_scope"]; !ok || v != nil {
		t.Errorf("tenant_region_scope = %v (present %v), want null", v, ok)
	}
	if _, err := is.Discovery("http://127.0.0.1:8080/fabrikam.onmicrosoft.com"); err == nil {
		t.Error("Discovery for another base URL succeeded; its issuer would not match the tokens'")
	}
}

func TestIssueRejectsBadInput(t *testing.T) {
	is, err := NewIssuer("https://login.example/t/v2.0", testKey())
	if err != nil {
		t.Fatal(err)
	}
	ok := testClaims()
	noSub := ok
	noSub.Subject = ""
	noAud := ok
	noAud.Audience, noAud.ClientID = "", ""
	for _, tc := range []struct {
		name string
		c    Claims
		ttl  time.Duration
		want string
	}{
		{"no subject", noSub, time.Hour, "subject"},
		{"no audience", noAud, time.Hour, "audience"},
		{"zero lifetime", ok, 0, "lifetime"},
		{"negative lifetime", ok, -time.Second, "lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for kind, issue := range map[string]func(Claims, time.Time, time.Duration) (string, error){
				"id": is.IDToken, "access": is.AccessToken,
			} {
				_, err := issue(tc.c, time.Now(), tc.ttl)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s token: err = %v, want one mentioning %q", kind, err, tc.want)
				}
			}
		})
	}
	if _, err := NewIssuer("", testKey()); err == nil {
		t.Error("NewIssuer with empty issuer succeeded")
	}
}

func TestResource(t *testing.T) {
	for _, tc := range []struct {
		scopes []string
		want   string
	}{
		{nil, testClientID},
		{[]string{"openid", "profile", "offline_access", "email"}, testClientID},
		{[]string{"openid", "api://contoso-api/read"}, "api://contoso-api"},
		{[]string{"https://contoso.com/api/tasks.read"}, "https://contoso.com/api"},
		{[]string{"api://contoso-api/.default"}, "api://contoso-api"},
		{[]string{"99999999-0000-0000-0000-000000000000/read"}, "99999999-0000-0000-0000-000000000000"},
		{[]string{"User.Read"}, GraphAppID},
		{[]string{"api://contoso-api"}, "api://contoso-api"},
		{[]string{"https://contoso.com"}, "https://contoso.com"},
		{[]string{"api://one/read", "api://two/write"}, "api://one"},
	} {
		if got := Resource(tc.scopes, testClientID); got != tc.want {
			t.Errorf("Resource(%q) = %q, want %q", tc.scopes, got, tc.want)
		}
	}
}

// TestConcurrentIssue signs from many goroutines at once (run with -race)
// and checks every token verifies.
func TestConcurrentIssue(t *testing.T) {
	is, _ := tenantServer(t, testKey())
	v := provider(t, is).Verifier(&oidc.Config{ClientID: testClientID})
	const workers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				raw, err := is.IDToken(testClaims(), time.Now(), time.Hour)
				if err == nil {
					_, err = v.Verify(context.Background(), raw)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkIssue is one token answer's signing work: an ID token and an
// access token. The emulator's goal is 1,500 answers/s on 2 cores, i.e.
// ≤ ~1.3ms per op per core. rsa2048 is what a tenant uses; rsa1024 shows
// what a smaller key (for load rehearsal only) would buy.
func BenchmarkIssue(b *testing.B) {
	for _, bits := range []int{2048, 1024} {
		key := testKey()
		if bits != 2048 {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				b.Fatal(err)
			}
			key = k
		}
		is, err := NewIssuer("https://login.example/t/v2.0", key)
		if err != nil {
			b.Fatal(err)
		}
		c := testClaims()
		now := time.Now()
		b.Run(fmt.Sprintf("rsa%d", bits), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := is.IDToken(c, now, time.Hour); err != nil {
					b.Fatal(err)
				}
				if _, err := is.AccessToken(c, now, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("rsa%d-parallel", bits), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := is.IDToken(c, now, time.Hour); err != nil {
						b.Error(err)
						return
					}
					if _, err := is.AccessToken(c, now, time.Hour); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
		})
	}
}

// TestSmallKeyVerifies backs the package doc's claim that a 1024-bit key
// (load rehearsal only) still yields tokens go-oidc accepts.
func TestSmallKeyVerifies(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	is, _ := tenantServer(t, k)
	raw, err := is.IDToken(testClaims(), time.Now(), time.Hour)
	if err != nil {
		t.Fatalf("IDToken: %v", err)
	}
	if _, err := provider(t, is).Verifier(&oidc.Config{ClientID: testClientID}).Verify(context.Background(), raw); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

// A key assembled from its parts (no CRT values) is precomputed once by
// NewIssuer, not on every signature.
func TestNewIssuerPrecomputesKey(t *testing.T) {
	k := testKey()
	bare := &rsa.PrivateKey{PublicKey: k.PublicKey, D: k.D, Primes: k.Primes}
	is, err := NewIssuer("https://login.example/t/v2.0", bare)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	if bare.Precomputed.Dp == nil || bare.Precomputed.Qinv == nil {
		t.Fatal("key not precomputed by NewIssuer")
	}
	if _, err := is.AccessToken(testClaims(), time.Now(), time.Hour); err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
}
