package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/suites/check"
)

// Challenge type lists the pages use for each flow; all include redirect.
const (
	signUpChallengeTypes = "oob password redirect"
	signInChallengeTypes = "oob password redirect"
	resetChallengeTypes  = "oob redirect"
)

// Form builds a request form with the native client's client_id and the
// given key/value pairs; an empty value is left out.
func (e *Env) Form(kv ...string) url.Values {
	f := url.Values{"client_id": {e.ClientID}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			f.Set(kv[i], kv[i+1])
		}
	}
	return f
}

// attributesJSON encodes attributes as the JSON object string the API takes.
func attributesJSON(a nativeauth.Attributes) string {
	if len(a) == 0 {
		return ""
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// Step is one exchange a setup made, kept so a spec can assert on it.
type Step struct {
	Resp *nativeauth.Response
	Body check.Body
}

// CT is the continuation token of the answer ("" when none).
func (s Step) CT() string { return s.Body.String("continuation_token") }

// Error is the error member of the answer ("" when none).
func (s Step) Error() string { return s.Body.String("error") }

// call posts and decodes; a transport failure or a non-JSON answer is an
// error, any JSON answer is a Step.
func (e *Env) call(ctx context.Context, ep nativeauth.Endpoint, form url.Values) (Step, error) {
	resp, err := e.Post(ctx, ep, form)
	if err != nil {
		return Step{}, err
	}
	b, err := check.Decode(resp.Body)
	if err != nil {
		return Step{Resp: resp}, fmt.Errorf("%s answered %d with a body that is not a JSON object: %w", ep, resp.HTTPStatus, err)
	}
	return Step{Resp: resp, Body: b}, nil
}

// expectOK runs a setup step that must succeed with a continuation token.
func (e *Env) expectOK(ctx context.Context, what string, ep nativeauth.Endpoint, form url.Values) (Step, error) {
	s, err := e.call(ctx, ep, form)
	if err != nil {
		return s, fmt.Errorf("setup %s: %w", what, err)
	}
	if s.Resp.HTTPStatus != http.StatusOK || s.CT() == "" {
		return s, fmt.Errorf("setup %s: %s answered %d %s, want 200 with a continuation_token", what, ep, s.Resp.HTTPStatus, s.Body.String("error")+" "+s.Body.String("suberror"))
	}
	return s, nil
}

// SignUp is a sign-up in progress.
type SignUp struct {
	Username string
	Password string // "" on an OTP tenant or when not yet sent
	Since    time.Time
	CT       string
	Last     Step
}

// SignUpStart starts a sign-up for a fresh user. withPassword sends the
// password at start (password tenants only); attrs are sent at start.
func (e *Env) SignUpStart(ctx context.Context, tag string, withPassword bool, attrs nativeauth.Attributes) (*SignUp, error) {
	su := &SignUp{Username: e.NewUsername(tag), Since: e.Now().Add(-time.Second)}
	if withPassword {
		su.Password = e.NewPassword()
	}
	s, err := e.expectOK(ctx, "sign-up start", nativeauth.EndpointSignUpStart, e.Form(
		"username", su.Username, "challenge_type", signUpChallengeTypes, "password", su.Password, "attributes", attributesJSON(attrs)))
	su.Last = s
	su.CT = s.CT()
	return su, err
}

// Challenge asks for the oob challenge and returns it.
func (e *Env) SignUpChallenge(ctx context.Context, su *SignUp) (Step, error) {
	s, err := e.expectOK(ctx, "sign-up challenge", nativeauth.EndpointSignUpChallenge, e.Form(
		"continuation_token", su.CT, "challenge_type", signUpChallengeTypes))
	su.Last = s
	if err == nil {
		su.CT = s.CT()
	}
	return s, err
}

// Code fetches the latest OTP sent to username since the given instant.
func (e *Env) Code(ctx context.Context, username string, since time.Time) (string, error) {
	if e.OTP == nil {
		return "", fmt.Errorf("no OTP source configured")
	}
	c, err := e.OTP(ctx, username, since)
	if err != nil {
		return "", fmt.Errorf("read OTP for %s: %w", username, err)
	}
	return c, nil
}

// SignUpSubmitOTP submits the right code on sign-up continue and returns
// the answer whatever it is (200, credential_required, attributes_required).
func (e *Env) SignUpSubmitOTP(ctx context.Context, su *SignUp) (Step, error) {
	code, err := e.Code(ctx, su.Username, su.Since)
	if err != nil {
		return Step{}, err
	}
	s, err := e.call(ctx, nativeauth.EndpointSignUpContinue, e.Form(
		"continuation_token", su.CT, "grant_type", "oob", "oob", code))
	su.Last = s
	if err == nil && s.CT() != "" {
		su.CT = s.CT()
	}
	return s, err
}

// SignUpContinue posts grant_type with the given extra fields on sign-up
// continue and returns the answer.
func (e *Env) SignUpContinue(ctx context.Context, su *SignUp, kv ...string) (Step, error) {
	s, err := e.call(ctx, nativeauth.EndpointSignUpContinue, e.Form(append([]string{"continuation_token", su.CT}, kv...)...))
	su.Last = s
	if err == nil && s.CT() != "" {
		su.CT = s.CT()
	}
	return s, err
}

// CompleteSignUp runs a whole sign-up for a fresh user with every required
// attribute at start and returns the user and the continuation token for
// the token endpoint.
func (e *Env) CompleteSignUp(ctx context.Context, tag string) (*SignUp, error) {
	password := e.Tenant.SignUpMethod == "password"
	su, err := e.SignUpStart(ctx, tag, password, e.Tenant.RequiredAttributes())
	if err != nil {
		return su, err
	}
	if _, err := e.SignUpChallenge(ctx, su); err != nil {
		return su, err
	}
	s, err := e.SignUpSubmitOTP(ctx, su)
	if err != nil {
		return su, err
	}
	// Tenants may still ask for attributes the profile did not list.
	for i := 0; i < 2 && s.Error() == string(nativeauth.ErrAttributesRequired); i++ {
		attrs := nativeauth.Attributes{}
		for _, name := range s.Body.AttributeNames("required_attributes") {
			attrs[name] = "ciamcheck"
		}
		if s, err = e.SignUpContinue(ctx, su, "grant_type", "attributes", "attributes", attributesJSON(attrs)); err != nil {
			return su, err
		}
	}
	if s.Resp.HTTPStatus != http.StatusOK || su.CT == "" {
		return su, fmt.Errorf("setup sign-up of %s: continue answered %d %s %s", su.Username, s.Resp.HTTPStatus, s.Error(), s.Body.String("suberror"))
	}
	return su, nil
}

// Token posts to the token endpoint.
func (e *Env) Token(ctx context.Context, kv ...string) (Step, error) {
	return e.call(ctx, nativeauth.EndpointToken, e.Form(kv...))
}

// Scope is the scope string asked for, with extra scopes appended.
func (e *Env) Scope(extra ...string) string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, e.Scopes...), extra...) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// SignIn is a sign-in in progress.
type SignIn struct {
	Username string
	Since    time.Time
	CT       string
	Last     Step
}

// SignInInitiate starts a sign-in for username.
func (e *Env) SignInInitiate(ctx context.Context, username, challengeTypes string) (*SignIn, error) {
	si := &SignIn{Username: username, Since: e.Now().Add(-time.Second)}
	s, err := e.expectOK(ctx, "sign-in initiate", nativeauth.EndpointSignInInitiate, e.Form(
		"username", username, "challenge_type", challengeTypes))
	si.Last, si.CT = s, s.CT()
	return si, err
}

// SignInChallenge asks the sign-in challenge.
func (e *Env) SignInChallenge(ctx context.Context, si *SignIn, challengeTypes string) (Step, error) {
	si.Since = e.Now().Add(-time.Second)
	s, err := e.expectOK(ctx, "sign-in challenge", nativeauth.EndpointSignInChallenge, e.Form(
		"continuation_token", si.CT, "challenge_type", challengeTypes))
	si.Last = s
	if err == nil {
		si.CT = s.CT()
	}
	return s, err
}

// Reset is a password reset in progress.
type Reset struct {
	Username string
	Since    time.Time
	CT       string
	Last     Step
}

// ResetTo walks a reset up to and including step ("start", "challenge",
// "continue", "submit") and returns it; the continuation token is the one
// for the step after.
func (e *Env) ResetTo(ctx context.Context, username, step string) (*Reset, error) {
	r := &Reset{Username: username, Since: e.Now().Add(-time.Second)}
	s, err := e.expectOK(ctx, "reset start", nativeauth.EndpointResetStart, e.Form("username", username, "challenge_type", resetChallengeTypes))
	r.Last, r.CT = s, s.CT()
	if err != nil || step == "start" {
		return r, err
	}
	s, err = e.expectOK(ctx, "reset challenge", nativeauth.EndpointResetChallenge, e.Form("continuation_token", r.CT, "challenge_type", resetChallengeTypes))
	r.Last, r.CT = s, s.CT()
	if err != nil || step == "challenge" {
		return r, err
	}
	code, err := e.Code(ctx, username, r.Since)
	if err != nil {
		return r, err
	}
	s, err = e.expectOK(ctx, "reset continue", nativeauth.EndpointResetContinue, e.Form("continuation_token", r.CT, "grant_type", "oob", "oob", code))
	r.Last, r.CT = s, s.CT()
	if err != nil || step == "continue" {
		return r, err
	}
	return r, fmt.Errorf("ResetTo: unknown step %q", step)
}
