package conformance

import (
	"context"
	"fmt"
	"net/url"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Reached is a valid request for an endpoint, prepared by walking the flow
// up to it, plus what a mutation may need to break it.
type Reached struct {
	Endpoint nativeauth.Endpoint
	Form     url.Values
	Username string
	Password string // the user's current password, when known
	// Previous is the continuation token of the step before (replays).
	Previous string
	// PollInterval is the poll_interval the reset submit answered.
	PollInterval int64
}

// Reach walks the flow that leads to ep with fresh or existing users and
// returns a request to ep that a conforming tenant accepts. Mutations then
// break exactly one thing in it.
func (e *Env) Reach(ctx context.Context, ep nativeauth.Endpoint) (*Reached, error) {
	r := &Reached{Endpoint: ep}
	switch ep {
	case nativeauth.EndpointSignUpStart:
		r.Username = e.NewUsername("start")
		if e.Tenant.SignUpMethod == "password" {
			r.Password = e.NewPassword()
		}
		r.Form = e.Form("username", r.Username, "challenge_type", signUpChallengeTypes, "password", r.Password, "attributes", attributesJSON(e.Tenant.RequiredAttributes()))
		return r, nil
	case nativeauth.EndpointSignUpChallenge, nativeauth.EndpointSignUpContinue:
		su, err := e.SignUpStart(ctx, "su", e.Tenant.SignUpMethod == "password", e.Tenant.RequiredAttributes())
		if err != nil {
			return nil, err
		}
		r.Username, r.Password = su.Username, su.Password
		if ep == nativeauth.EndpointSignUpChallenge {
			r.Form = e.Form("continuation_token", su.CT, "challenge_type", signUpChallengeTypes)
			return r, nil
		}
		r.Previous = su.CT
		if _, err := e.SignUpChallenge(ctx, su); err != nil {
			return nil, err
		}
		code, err := e.Code(ctx, su.Username, su.Since)
		if err != nil {
			return nil, err
		}
		r.Form = e.Form("continuation_token", su.CT, "grant_type", "oob", "oob", code)
		return r, nil
	case nativeauth.EndpointSignInInitiate:
		u, p, err := e.ExistingUser(ctx)
		if err != nil {
			return nil, err
		}
		r.Username, r.Password = u, p
		r.Form = e.Form("username", u, "challenge_type", signInChallengeTypes)
		return r, nil
	case nativeauth.EndpointSignInChallenge, nativeauth.EndpointToken:
		u, p, err := e.ExistingUser(ctx)
		if err != nil {
			return nil, err
		}
		r.Username, r.Password = u, p
		types := "password redirect"
		if e.Tenant.SignUpMethod != "password" {
			types = "oob redirect"
		}
		si, err := e.SignInInitiate(ctx, u, types)
		if err != nil {
			return nil, err
		}
		if ep == nativeauth.EndpointSignInChallenge {
			r.Form = e.Form("continuation_token", si.CT, "challenge_type", types)
			return r, nil
		}
		r.Previous = si.CT
		if _, err := e.SignInChallenge(ctx, si, types); err != nil {
			return nil, err
		}
		// The token entries document a refresh_token and an id_token as
		// present because offline_access and openid were asked: ask for
		// them whatever the profile's scopes, or a conforming tenant fails.
		scope := e.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)
		if e.Tenant.SignUpMethod == "password" {
			r.Form = e.Form("continuation_token", si.CT, "grant_type", "password", "password", p, "scope", scope)
			return r, nil
		}
		code, err := e.Code(ctx, u, si.Since)
		if err != nil {
			return nil, err
		}
		r.Form = e.Form("continuation_token", si.CT, "grant_type", "oob", "oob", code, "scope", scope)
		return r, nil
	case nativeauth.EndpointResetStart, nativeauth.EndpointResetChallenge, nativeauth.EndpointResetContinue,
		nativeauth.EndpointResetSubmit, nativeauth.EndpointResetPollCompletion:
		return e.reachReset(ctx, r)
	}
	return nil, fmt.Errorf("reach: no flow leads to %s", ep)
}

func (e *Env) reachReset(ctx context.Context, r *Reached) (*Reached, error) {
	// A reset changes the password: use a user of its own so the shared
	// existing user keeps a known password.
	su, err := e.CompleteSignUp(ctx, "reset")
	if err != nil {
		return nil, err
	}
	r.Username, r.Password = su.Username, su.Password
	if r.Endpoint == nativeauth.EndpointResetStart {
		r.Form = e.Form("username", su.Username, "challenge_type", resetChallengeTypes)
		return r, nil
	}
	step := map[nativeauth.Endpoint]string{
		nativeauth.EndpointResetChallenge:      "start",
		nativeauth.EndpointResetContinue:       "challenge",
		nativeauth.EndpointResetSubmit:         "continue",
		nativeauth.EndpointResetPollCompletion: "continue",
	}[r.Endpoint]
	rs, err := e.ResetTo(ctx, su.Username, step)
	if err != nil {
		return nil, err
	}
	switch r.Endpoint {
	case nativeauth.EndpointResetChallenge:
		r.Form = e.Form("continuation_token", rs.CT, "challenge_type", resetChallengeTypes)
	case nativeauth.EndpointResetContinue:
		code, err := e.Code(ctx, su.Username, rs.Since)
		if err != nil {
			return nil, err
		}
		r.Form = e.Form("continuation_token", rs.CT, "grant_type", "oob", "oob", code)
	case nativeauth.EndpointResetSubmit:
		r.Form = e.Form("continuation_token", rs.CT, "new_password", e.NewPassword())
	case nativeauth.EndpointResetPollCompletion:
		r.Previous = rs.CT
		s, err := e.expectOK(ctx, "reset submit", nativeauth.EndpointResetSubmit, e.Form("continuation_token", rs.CT, "new_password", e.NewPassword()))
		if err != nil {
			return nil, err
		}
		r.Form = e.Form("continuation_token", s.CT())
		r.PollInterval, _ = s.Body.Int("poll_interval")
	}
	return r, nil
}
