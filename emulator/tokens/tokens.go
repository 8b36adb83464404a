// Package tokens signs security tokens as an External ID tenant signs them:
// RS256 JWTs (ID and access tokens), the JWKS that verifies them and the
// OpenID discovery document that points at both.
//
// One Issuer serves one tenant issuer URL. Several Issuers may share one RSA
// key (the emulator serves many tenant base URLs with a single key); the key ID
// is the RFC 7638 thumbprint of the public key, so it is the same for all of
// them and stable across restarts when the key is.
//
// Signing is the cost of the emulator's token endpoint, so an Issuer builds its
// jose.Signer, JWKS and key ID once; IDToken and AccessToken only marshal the
// claims and sign. An Issuer is safe for concurrent use.
//
// Verifying with go-oidc works out of the box: serve Discovery at
// {base}/v2.0/.well-known/openid-configuration and JWKS at
// {base}/discovery/v2.0/keys, then
//
//	provider, _ := oidc.NewProvider(ctx, issuer.Issuer())
//	idToken, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, raw)
//
// # Audiences
//
// An ID token's "aud" is the client ID. An access token's "aud" is the
// resource its scopes belong to; Resource derives it from the requested
// scopes ("api://app/read" → "api://app"), and falls back to the client ID
// for openid/profile/email/offline_access-only requests.
//
// # Cost
//
// Each token is one RSA-2048 PKCS#1 v1.5 signature, about 0.75ms of one core
// on the reference machine; JSON and JOSE add under 2% to it (see
// BenchmarkIssue). A token answer with an ID and an access token therefore
// costs ~1.5ms of CPU, which caps a 2-core emulator near 1,300 answers/s. A
// load rehearsal that needs more can hand NewIssuer a 1024-bit key (~2.7x
// faster); such tokens still verify with go-oidc but are not what a tenant
// issues, so conformance runs keep the 2048-bit default.
package tokens

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// keyBits is the size of a generated key: what Entra publishes, and the
// smallest size verifiers accept without complaint.
const keyBits = 2048

// tokenVersion is the "ver" claim of v2.0 endpoint tokens.
const tokenVersion = "2.0"

// Claims describes the user and the grant a token is issued for.
type Claims struct {
	Subject           string // "sub": pairwise subject identifier
	ObjectID          string // "oid": the user's object ID in the tenant
	TenantID          string // "tid"
	Audience          string // ID token: the client ID; access token: the resource (see AccessToken)
	PreferredUsername string
	Email             string
	Name              string
	Scopes            []string // granted scopes, as requested (e.g. "openid", "api://x/read")

	// ClientID is the application the token is issued to ("azp" of an access
	// token). Optional: when empty, Audience stands in for it, and when
	// Audience is empty ClientID stands in for Audience.
	ClientID string
}

// Issuer signs tokens for one issuer URL.
type Issuer struct {
	issuer string
	kid    string
	signer jose.Signer
	jwks   []byte
}

// NewIssuer returns an Issuer for the issuer URL (a tenant's is
// "{base}/v2.0"). A nil key generates a fresh 2048-bit RSA key.
func NewIssuer(issuer string, key *rsa.PrivateKey) (*Issuer, error) {
	if issuer == "" {
		return nil, errors.New("tokens: issuer URL is empty")
	}
	if key == nil {
		k, err := rsa.GenerateKey(rand.Reader, keyBits)
		if err != nil {
			return nil, fmt.Errorf("tokens: generate %d-bit RSA key: %w", keyBits, err)
		}
		key = k
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("tokens: invalid RSA key: %w", err)
	}
	// Generated and parsed keys come precomputed; one assembled from its
	// parts does not, and crypto/rsa would then rebuild and re-check the CRT
	// values on every signature. Precompute is a no-op when already done.
	key.Precompute()
	pub := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("tokens: key thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)

	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		return nil, fmt.Errorf("tokens: marshal JWKS: %w", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: pub.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("tokens: RS256 signer: %w", err)
	}
	return &Issuer{issuer: issuer, kid: pub.KeyID, signer: signer, jwks: jwks}, nil
}

// Issuer returns the "iss" of every token this Issuer signs.
func (i *Issuer) Issuer() string { return i.issuer }

// KeyID returns the "kid" header of every token and of the JWKS entry.
func (i *Issuer) KeyID() string { return i.kid }

// JWKS returns the JSON Web Key Set with the public signing key. The caller
// gets its own copy.
func (i *Issuer) JWKS() ([]byte, error) {
	return append([]byte(nil), i.jwks...), nil
}

// registeredClaims are the claims every token of an Issuer carries first:
// its audience, its issuer and when it is valid.
type registeredClaims struct {
	Audience  string `json:"aud"`
	Issuer    string `json:"iss"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	Expiry    int64  `json:"exp"`
}

// registered are the registered claims of a token for aud valid from now
// for ttl.
func (i *Issuer) registered(aud string, now time.Time, ttl time.Duration) registeredClaims {
	return registeredClaims{Audience: aud, Issuer: i.issuer, IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(ttl).Unix()}
}

// idClaims is the payload of an ID token. Field order follows what a tenant
// emits, which only matters to humans reading decoded tokens.
type idClaims struct {
	registeredClaims
	Email             string `json:"email,omitempty"`
	Name              string `json:"name,omitempty"`
	ObjectID          string `json:"oid,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Subject           string `json:"sub"`
	TenantID          string `json:"tid,omitempty"`
	Version           string `json:"ver"`
}

// accessClaims is the payload of an access token.
type accessClaims struct {
	registeredClaims
	AuthorizedParty   string `json:"azp,omitempty"`
	Name              string `json:"name,omitempty"`
	ObjectID          string `json:"oid,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Scope             string `json:"scp,omitempty"`
	Subject           string `json:"sub"`
	TenantID          string `json:"tid,omitempty"`
	Version           string `json:"ver"`
}

// IDToken signs an ID token valid from now for ttl. Its "aud" is the client
// ID: c.ClientID, or c.Audience when ClientID is empty.
func (i *Issuer) IDToken(c Claims, now time.Time, ttl time.Duration) (string, error) {
	aud := firstNonEmpty(c.ClientID, c.Audience)
	if err := checkClaims(c, aud, ttl); err != nil {
		return "", fmt.Errorf("tokens: id token: %w", err)
	}
	return i.sign(idClaims{
		registeredClaims:  i.registered(aud, now, ttl),
		Email:             c.Email,
		Name:              c.Name,
		ObjectID:          c.ObjectID,
		PreferredUsername: c.PreferredUsername,
		Subject:           c.Subject,
		TenantID:          c.TenantID,
		Version:           tokenVersion,
	})
}

// AccessToken signs an access token valid from now for ttl. Its "aud" is
// c.Audience, the resource the scopes belong to (see Resource); a request for
// openid/profile/email/offline_access only has no resource, and the caller
// passes the client ID, or leaves Audience empty to get c.ClientID. "scp" is
// the space-separated c.Scopes and "azp" the client ID.
func (i *Issuer) AccessToken(c Claims, now time.Time, ttl time.Duration) (string, error) {
	aud := firstNonEmpty(c.Audience, c.ClientID)
	if err := checkClaims(c, aud, ttl); err != nil {
		return "", fmt.Errorf("tokens: access token: %w", err)
	}
	return i.sign(accessClaims{
		registeredClaims:  i.registered(aud, now, ttl),
		AuthorizedParty:   firstNonEmpty(c.ClientID, c.Audience),
		Name:              c.Name,
		ObjectID:          c.ObjectID,
		PreferredUsername: c.PreferredUsername,
		Scope:             strings.Join(c.Scopes, " "),
		Subject:           c.Subject,
		TenantID:          c.TenantID,
		Version:           tokenVersion,
	})
}

// oidcScopes are the scopes that name no resource: a token request for only
// these gets an access token for the client itself.
var oidcScopes = map[string]bool{
	"openid": true, "profile": true, "email": true, "offline_access": true,
}

// Resource returns the audience of an access token granted for scopes: the
// resource prefix shared by the resource scopes ("api://app/read" →
// "api://app", "https://graph.microsoft.com/User.Read" →
// "https://graph.microsoft.com"), or clientID when the scopes are OpenID ones
// only. A scope without a resource prefix ("User.Read") is a Microsoft Graph
// scope, as the v2.0 endpoint reads it, so its resource is Graph's app ID. A
// resource URI with no scope path ("api://app") is its own resource. When
// scopes name several resources the first wins, as a token has one audience.
func Resource(scopes []string, clientID string) string {
	for _, s := range scopes {
		if s == "" || oidcScopes[s] {
			continue
		}
		j := strings.LastIndexByte(s, '/')
		switch {
		case j < 0:
			return GraphAppID
		case j > 0 && !strings.HasSuffix(s[:j], "/") && !strings.HasSuffix(s[:j], ":"):
			return s[:j]
		default:
			return s
		}
	}
	return clientID
}

// GraphAppID is Microsoft Graph's application ID, the audience of tokens for
// unprefixed scopes.
const GraphAppID = "00000003-0000-0000-c000-000000000000"

func checkClaims(c Claims, aud string, ttl time.Duration) error {
	switch {
	case c.Subject == "":
		return errors.New("subject is empty")
	case aud == "":
		return errors.New("audience and client ID are both empty")
	case ttl <= 0:
		return fmt.Errorf("lifetime %v is not positive", ttl)
	}
	return nil
}

func (i *Issuer) sign(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("tokens: marshal claims: %w", err)
	}
	jws, err := i.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("tokens: sign: %w", err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("tokens: serialize: %w", err)
	}
	return raw, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
