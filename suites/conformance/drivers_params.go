package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// Request parameters: challenge types, usernames, grant types and scopes.

func challengeTypesWithoutRedirect(_ context.Context, _ *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	types := slices.DeleteFunc(strings.Fields(r.Call.Get(nativeauth.ParamChallengeType)), func(t string) bool {
		return t == string(nativeauth.ChallengeTypeRedirect)
	})
	r.Call.Set(nativeauth.ParamChallengeType, strings.Join(types, " "))
	return nil, "", nil
}

func unknownUsername(_ context.Context, e *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	r.Call.Set(nativeauth.ParamUsername, e.Target.Users.New("nobody"))
	return nil, "", nil
}

func existingUsername(ctx context.Context, e *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	u, err := e.ExistingUser(ctx)
	if err != nil {
		return failed(err)
	}
	r.Call.Set(nativeauth.ParamUsername, u.Username)
	return nil, "", nil
}

// sameName is a username source that always answers one name.
type sameName string

func (n sameName) New(string) string { return string(n) }

// registeredMeanwhile completes another sign-up of the same email before
// this flow's request.
func registeredMeanwhile(ctx context.Context, e *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	if r.Username == "" {
		return failed(fmt.Errorf("username_registered_meanwhile on %s: no username", r.Call.Endpoint))
	}
	w := e.Walker()
	w.Users = sameName(r.Username)
	if _, err := w.CompleteSignUp(ctx, "meanwhile"); err != nil {
		return failed(fmt.Errorf("setup: the concurrent sign-up: %w", err))
	}
	return nil, "", nil
}

// wrongGrant sends a grant type that exists but is not the one the step
// takes, with the parameter that grant would carry.
func wrongGrant(_ context.Context, _ *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	switch nativeauth.GrantType(r.Call.Get(nativeauth.ParamGrantType)) {
	case nativeauth.GrantTypeOOB:
		if r.Call.Endpoint == nativeauth.EndpointSignUpContinue {
			r.Call.Request = nativeauth.SignUpContinueRequest{ContinuationToken: r.ContinuationToken,
				GrantType: nativeauth.GrantTypeAttributes, Attributes: nativeauth.Attributes{"city": "Oslo"}}
			return nil, "", nil
		}
		r.Call.Set(nativeauth.ParamGrantType, string(nativeauth.GrantTypePassword))
		r.Call.Set(nativeauth.ParamOOB, "")
		r.Call.Set(nativeauth.ParamPassword, "Some-P4ssword!")
	case nativeauth.GrantTypePassword:
		r.Call.Set(nativeauth.ParamGrantType, string(nativeauth.GrantTypeOOB))
		r.Call.Set(nativeauth.ParamPassword, "")
		r.Call.Set(nativeauth.ParamOOB, "12345678")
	default:
		r.Call.Set(nativeauth.ParamGrantType, string(nativeauth.GrantTypeRefreshToken))
	}
	return nil, "", nil
}

// scopeWithout asks for the walk's scopes with openid and offline_access,
// less scope.
func scopeWithout(scope string) Driver {
	return func(_ context.Context, e *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
		scopes := slices.DeleteFunc(e.Walker().ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess), func(s string) bool { return s == scope })
		r.Call.Set(nativeauth.ParamScope, strings.Join(scopes, " "))
		return nil, "", nil
	}
}

// scopeNotConsented completes a sign-up and asks for tokens with a scope
// the client has no consent for.
func scopeNotConsented(ctx context.Context, e *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	if e.Target.Caps.UnconsentedScope == "" {
		return skip("the target profile names no API scope the client has no consent for (unconsented_scope)")
	}
	w := e.Walker()
	p, err := w.CompleteSignUp(ctx, "consent")
	if err != nil {
		return failed(err)
	}
	*r = scenarios.Reached{Progress: *p, Call: w.TokenAfterSignUp(p, []string{nativeauth.ScopeOpenID, e.Target.Caps.UnconsentedScope})}
	return nil, "", nil
}
