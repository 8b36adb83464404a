package profile

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// PreflightError says why a target cannot be judged before anything is
// judged: the check that failed and its cause, named so the user can act
// (a profile key with the expected and observed values, a host that does
// not resolve). A run that fails its preflight could not judge: it is
// never reported as a deviation of the target.
type PreflightError struct {
	Check string // "dns", "connect", "tls", "discovery", "client", "expect.code_length", …
	Err   error
}

func (e *PreflightError) Error() string { return fmt.Sprintf("preflight %s: %v", e.Check, e.Err) }

// Unwrap returns the cause.
func (e *PreflightError) Unwrap() error { return e.Err }

// preflightTimeout bounds each network step of the preflight.
const preflightTimeout = 10 * time.Second

// Preflight checks, before the first spec or load arrival, that the target
// can be judged at all: its host resolves and accepts a connection (and a
// TLS handshake), it serves OpenID discovery, it knows the client, and it
// is configured as the profile's expect block says — read from the
// backdoor's configuration where there is one, otherwise probed cheaply
// (the one-time passcode length from a sign-up challenge to a fresh,
// never-completed sign-up). The embedded emulator is started from the
// profile itself and needs none of this.
func (t *Target) Preflight(ctx context.Context) error {
	if t.emu != nil {
		return nil
	}
	for _, step := range []func(context.Context) error{t.reachable, t.discovery, t.clientKnown, t.expectMatches} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// reachable resolves the host, connects, and for https completes a TLS
// handshake, naming the first step that fails.
func (t *Target) reachable(ctx context.Context) error {
	u, err := url.Parse(t.BaseURL)
	if err != nil || u.Host == "" {
		return &PreflightError{"base_url", fmt.Errorf("%q is not an absolute URL", t.BaseURL)}
	}
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	if net.ParseIP(host) == nil {
		if _, err := net.DefaultResolver.LookupHost(ctx, host); err != nil {
			return &PreflightError{"dns", fmt.Errorf("%s does not resolve: %w", host, err)}
		}
	}
	addr := net.JoinHostPort(host, port)
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return &PreflightError{"connect", fmt.Errorf("%s (%s): %w", addr, nativeauth.ClassifyTransport(err), err)}
	}
	defer conn.Close()
	if u.Scheme != "https" {
		return nil
	}
	tc := tls.Client(conn, &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		return &PreflightError{"tls", fmt.Errorf("handshake with %s: %w", addr, err)}
	}
	return nil
}

// discovery fetches the OpenID configuration the suites verify id_tokens
// with: a target without it cannot have its tokens judged.
func (t *Target) discovery(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	where := strings.TrimSuffix(t.BaseURL, "/") + string(nativeauth.EndpointOpenIDConfiguration)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return &PreflightError{"discovery", err}
	}
	resp, err := t.HTTPClient.Do(req)
	if err != nil {
		return &PreflightError{"discovery", fmt.Errorf("GET %s: %w", where, err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if resp.StatusCode != http.StatusOK {
		return &PreflightError{"discovery", fmt.Errorf("GET %s: status: want 200, got %d", where, resp.StatusCode)}
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Issuer == "" || doc.JWKSURI == "" {
		return &PreflightError{"discovery", fmt.Errorf("GET %s: want a JSON document with issuer and jwks_uri, got %.120q", where, body)}
	}
	return nil
}

// clientKnown starts a sign-in for a user nobody has: a tenant that knows
// the client answers user_not_found (or a challenge, or a redirect); one
// that does not, invalid_client or unauthorized_client.
func (t *Target) clientKnown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	_, err := t.Client.SignInInitiate(ctx, nativeauth.InitiateRequest{
		Username:       t.Users.New("preflight"),
		ChallengeTypes: []nativeauth.ChallengeType{nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypeRedirect},
	})
	var apiErr *nativeauth.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && (apiErr.Code == nativeauth.ErrInvalidClient || apiErr.Code == nativeauth.ErrUnauthorizedClient):
		answer := string(apiErr.Code)
		if apiErr.Suberror != "" {
			answer += "/" + string(apiErr.Suberror)
		}
		return &PreflightError{"client", fmt.Errorf("client_id %s: the tenant answers %s: the profile names an app it does not know, or one with native authentication off", t.ClientID, answer)}
	case errors.As(err, &apiErr):
		return nil // any other documented answer means the client is known
	}
	return &PreflightError{"client", fmt.Errorf("sign-in initiate: %w", err)}
}

// expectMatches compares the profile's expect block with what the target
// shows.
func (t *Target) expectMatches(ctx context.Context) error {
	if t.Backdoor != nil && t.Caps.Backdoor {
		cfg, err := t.Backdoor.Config(ctx)
		if err != nil {
			return &PreflightError{"backdoor", fmt.Errorf("read the target's configuration: %w", err)}
		}
		return compareExpect(t.Expect, cfg)
	}
	return t.probeCodeLength(ctx)
}

// compareExpect names the first expect key the backdoor's configuration
// contradicts.
func compareExpect(x Expectations, cfg backdoor.Config) error {
	mismatch := func(key string, want, got any) error {
		return &PreflightError{"expect." + key, fmt.Errorf("the profile expects %v, the target is configured with %v", want, got)}
	}
	switch {
	case x.SignUpMethod != cfg.SignUpMethod:
		return mismatch("signup_method", x.SignUpMethod, cfg.SignUpMethod)
	case x.SSPR != cfg.SSPR.Enabled:
		return mismatch("sspr", x.SSPR, cfg.SSPR.Enabled)
	case cfg.OTP.CodeLength != 0 && x.CodeLength != cfg.OTP.CodeLength:
		return mismatch("code_length", x.CodeLength, cfg.OTP.CodeLength)
	case cfg.PasswordPolicy.MinLength != 0 && x.PasswordPolicy.MinLength != cfg.PasswordPolicy.MinLength:
		return mismatch("password_policy.min_length", x.PasswordPolicy.MinLength, cfg.PasswordPolicy.MinLength)
	case cfg.PasswordPolicy.MaxLength != 0 && x.PasswordPolicy.MaxLength != cfg.PasswordPolicy.MaxLength:
		return mismatch("password_policy.max_length", x.PasswordPolicy.MaxLength, cfg.PasswordPolicy.MaxLength)
	case x.MFA.Enabled != cfg.MFA.Enabled:
		return mismatch("mfa.enabled", x.MFA.Enabled, cfg.MFA.Enabled)
	case x.MFA.Enabled && x.MFA.RequireRegistration != cfg.MFA.RequireRegistration:
		return mismatch("mfa.require_registration", x.MFA.RequireRegistration, cfg.MFA.RequireRegistration)
	case x.MFA.Enabled && !sameSet(x.MFA.Methods, cfg.MFA.Methods):
		return mismatch("mfa.methods", x.MFA.Methods, cfg.MFA.Methods)
	case x.UsernameSignIn != cfg.UsernameSignIn:
		return mismatch("username_sign_in", x.UsernameSignIn, cfg.UsernameSignIn)
	}
	for _, a := range x.Attributes {
		i := slices.IndexFunc(cfg.Attributes, func(c backdoor.Attribute) bool { return c.Name == a.Name })
		switch {
		case i < 0:
			return mismatch("attributes["+a.Name+"]", "the attribute", "no such attribute")
		case cfg.Attributes[i].Required != a.Required:
			return mismatch("attributes["+a.Name+"].required", a.Required, cfg.Attributes[i].Required)
		case a.Regex != "" && cfg.Attributes[i].Regex != a.Regex:
			return mismatch("attributes["+a.Name+"].regex", a.Regex, cfg.Attributes[i].Regex)
		}
	}
	for _, c := range cfg.Attributes {
		if c.Required && !slices.ContainsFunc(x.Attributes, func(a AttributeSpec) bool { return a.Name == c.Name }) {
			return mismatch("attributes", "no required attribute "+c.Name, "it required")
		}
	}
	return nil
}

// sameSet reports whether a and b hold the same values, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// probeCodeLength starts a sign-up for a fresh user and asks for the
// one-time passcode: the challenge says the code's length. The sign-up is
// never completed.
func (t *Target) probeCodeLength(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	types := []nativeauth.ChallengeType{nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect}
	start, err := t.Client.SignUpStart(ctx, nativeauth.SignUpStartRequest{Username: t.Users.New("preflight"), ChallengeTypes: types})
	if err != nil || start.IsRedirect() {
		// A tenant that will not start a sign-up here leaves the code
		// length to the specs that need it.
		return nil
	}
	ch, err := t.Client.SignUpChallenge(ctx, nativeauth.ChallengeRequest{ContinuationToken: start.ContinuationToken, ChallengeTypes: types})
	if err != nil || ch.IsRedirect() || ch.ChallengeType != nativeauth.ChallengeTypeOOB || ch.CodeLength == 0 {
		return nil
	}
	if ch.CodeLength != t.Expect.CodeLength {
		return &PreflightError{"expect.code_length", fmt.Errorf("the profile expects %d, the target's sign-up challenge says code_length %d", t.Expect.CodeLength, ch.CodeLength)}
	}
	return nil
}
