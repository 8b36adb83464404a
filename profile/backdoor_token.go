package profile

import (
	"fmt"
	"net/http"
	"os"
	"strings"
)

// backdoorPathPrefix is where the emulator's backdoor is served; only
// requests below it carry the backdoor token.
const backdoorPathPrefix = "/emulator/v1/"

// backdoorClient is the HTTP client for backdoor calls (the backdoor client
// and the outbox): hc itself, or, when tokenEnv names a variable, hc with
// "Authorization: Bearer $tokenEnv" added to backdoor requests.
func backdoorClient(hc *http.Client, tokenEnv string) (*http.Client, error) {
	if tokenEnv == "" {
		return hc, nil
	}
	tok, ok := os.LookupEnv(tokenEnv)
	if !ok || strings.TrimSpace(tok) == "" {
		return nil, fmt.Errorf("capabilities.backdoor_token_env: environment variable %s is not set", tokenEnv)
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c := *hc
	c.Transport = bearerTransport{token: strings.TrimSpace(tok), base: base}
	return &c, nil
}

// bearerTransport adds the backdoor token to backdoor requests only, so it
// never travels to the tenant endpoints beside them.
type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (b bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, backdoorPathPrefix) {
		return b.base.RoundTrip(req)
	}
	// A RoundTripper must not change the caller's request.
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}
