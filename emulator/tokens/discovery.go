package tokens

import (
	"encoding/json"
	"fmt"
	"strings"
)

// discovery is the OpenID Provider Metadata a tenant publishes at
// {base}/v2.0/.well-known/openid-configuration. The members are those of an
// External ID tenant's document; tenant_region_scope is null because the
// emulator has no region.
type discovery struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	UserInfoEndpoint                  string   `json:"userinfo_endpoint"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name,omitempty"`
}

// Discovery returns the openid-configuration document for the tenant base URL
// (e.g. http://127.0.0.1:8080/contoso.onmicrosoft.com). Its issuer is
// {base}/v2.0, which must be this Issuer's: a verifier rejects a document
// whose issuer differs from the URL it fetched it under, so a mismatch is a
// wiring bug reported here rather than at every client.
func (i *Issuer) Discovery(base string) ([]byte, error) {
	base = strings.TrimRight(base, "/")
	if got := base + "/v2.0"; got != i.issuer {
		return nil, fmt.Errorf("tokens: discovery for %q: issuer would be %q, but this issuer signs as %q", base, got, i.issuer)
	}
	doc := discovery{
		TokenEndpoint:                     base + "/oauth2/v2.0/token",
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		JWKSURI:                           base + "/discovery/v2.0/keys",
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ResponseTypesSupported:            []string{"code", "id_token", "code id_token", "id_token token"},
		ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
		Issuer:                            i.issuer,
		RequestURIParameterSupported:      false,
		UserInfoEndpoint:                  base + "/openid/v2.0/userinfo",
		AuthorizationEndpoint:             base + "/oauth2/v2.0/authorize",
		DeviceAuthorizationEndpoint:       base + "/oauth2/v2.0/devicecode",
		HTTPLogoutSupported:               true,
		FrontchannelLogoutSupported:       true,
		EndSessionEndpoint:                base + "/oauth2/v2.0/logout",
		ClaimsSupported: []string{
			"sub", "iss", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "ver",
			"oid", "tid", "azp", "scp", "name", "email", "preferred_username",
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("tokens: marshal discovery: %w", err)
	}
	return b, nil
}
