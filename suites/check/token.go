package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// TokenWant is what a token answer must carry given what was asked.
type TokenWant struct {
	// Scopes asked for; openid asks for an id_token, offline_access for a
	// refresh_token, and each is issued only when asked.
	Scopes []string
}

func (w TokenWant) asked(scope string) bool { return slices.Contains(w.Scopes, scope) }

// Token checks a successful token answer: token_type Bearer, integer
// expires_in, scope, an access token, Cache-Control no-store, an id_token
// exactly when openid was asked and a refresh_token exactly when
// offline_access was asked.
func Token(resp *nativeauth.Response, want TokenWant) (Body, error) {
	return succeeds(resp,
		equals("token_type", "Bearer"),
		intIn("expires_in", 1, 0),
		field("scope", KindString),
		field("access_token", KindString),
		func(Body) error {
			if cc := resp.Header.Values("Cache-Control"); !hasDirective(cc, "no-store") {
				return fail("header Cache-Control", "no-store", fmt.Sprintf("%q", strings.Join(cc, ", ")))
			}
			return nil
		},
		presentIff("id_token", want.asked(nativeauth.ScopeOpenID), "openid"),
		presentIff("refresh_token", want.asked(nativeauth.ScopeOfflineAccess), "offline_access"))
}

func presentIff(member string, asked bool, scope string) rule {
	return func(b Body) error {
		if asked {
			if err := b.Field(member, KindString); err != nil {
				return fail("body."+member, "present because "+scope+" was asked", "absent or not a string")
			}
			return nil
		}
		if _, ok := b[member]; ok {
			return fail("body."+member, "absent because "+scope+" was not asked", "present")
		}
		return nil
	}
}

func hasDirective(values []string, directive string) bool {
	for _, v := range values {
		for _, d := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), directive) {
				return true
			}
		}
	}
	return false
}

// IDTokenVerifier checks id_tokens against the keys the tenant publishes,
// found through its OpenID discovery document.
type IDTokenVerifier struct {
	verifier *oidc.IDTokenVerifier
	issuer   string
	now      func() time.Time
}

// Discovery is the part of the OpenID configuration the checks use.
type Discovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// NewIDTokenVerifier reads the OpenID configuration at discoveryURL with
// client, then builds a go-oidc verifier for clientID. Entra serves the
// discovery document below the tenant-name path while its issuer names the
// tenant ID, so the document's own issuer is trusted for iss (the
// InsecureIssuerURLContext case go-oidc documents for Entra). now is the
// target's clock (nil: time.Now); the emulator's clock may be moved.
func NewIDTokenVerifier(ctx context.Context, client *http.Client, discoveryURL, clientID string, now func() time.Time) (*IDTokenVerifier, error) {
	if client == nil {
		client = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, discoveryURL, nil)
	if err != nil {
		return nil, fmt.Errorf("openid discovery: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("openid discovery: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("openid discovery: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("openid discovery %s: status %d", discoveryURL, resp.StatusCode)
	}
	var d Discovery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("openid discovery: decode: %w", err)
	}
	if d.Issuer == "" || d.JWKSURI == "" {
		return nil, fmt.Errorf("openid discovery %s: issuer %q, jwks_uri %q: both are required", discoveryURL, d.Issuer, d.JWKSURI)
	}
	pctx := oidc.ClientContext(oidc.InsecureIssuerURLContext(ctx, d.Issuer), client)
	provider, err := oidc.NewProvider(pctx, strings.TrimSuffix(discoveryURL, "/.well-known/openid-configuration"))
	if err != nil {
		return nil, fmt.Errorf("openid discovery: %w", err)
	}
	v := provider.VerifierContext(oidc.ClientContext(context.WithoutCancel(ctx), client), &oidc.Config{ClientID: clientID, Now: now})
	return &IDTokenVerifier{verifier: v, issuer: d.Issuer, now: now}, nil
}

// Issuer is the issuer the discovery document names.
func (v *IDTokenVerifier) Issuer() string { return v.issuer }

// ClockSkew is the leeway allowed on iat.
const ClockSkew = 5 * time.Minute

// Verify checks an id_token: signature by a published key, iss, aud = the
// client ID, exp in the future, and iat present, not in the future and not
// after exp.
func (v *IDTokenVerifier) Verify(ctx context.Context, raw string) (*oidc.IDToken, error) {
	tok, err := v.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fail("body.id_token", "signed by a published key with iss, aud = client ID and exp valid", err.Error())
	}
	var errs []error
	if tok.IssuedAt.IsZero() {
		errs = append(errs, fail("id_token.iat", "present", "absent"))
	} else {
		if tok.IssuedAt.After(v.now().Add(ClockSkew)) {
			errs = append(errs, fail("id_token.iat", "not in the future", tok.IssuedAt.UTC().Format(time.RFC3339)))
		}
		if tok.IssuedAt.After(tok.Expiry) {
			errs = append(errs, fail("id_token.iat", "before exp", tok.IssuedAt.UTC().Format(time.RFC3339)))
		}
	}
	return tok, errors.Join(errs...)
}
