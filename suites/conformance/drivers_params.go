package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// Client identity and request parameters: client_id, challenge types,
// usernames, grant types and scopes.

// clientID sends the reached call with the client_id id gives ("" leaves
// the parameter out); missing, when set, is why the target cannot give
// one.
func clientID(id func() string, missing string) Driver {
	return func(_ context.Context, _ Env, r *scenarios.Reached) *nativeauth.Response {
		v := id()
		if v == "" && missing != "" {
			Skip(missing)
		}
		r.Call.ClientID = v
		return nil
	}
}

// emptyClientID sends client_id present with an empty value, which the
// reached call cannot say (an empty ClientID leaves the parameter out).
func emptyClientID(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	form := r.Call.Form()
	form.Set(string(nativeauth.ParamClientID), "")
	return got(e.Walker().Client.Do(ctx, r.Call.Endpoint, form))
}

func challengeTypesWithoutRedirect(_ context.Context, _ Env, r *scenarios.Reached) *nativeauth.Response {
	types := slices.DeleteFunc(strings.Fields(r.Call.Get(nativeauth.ParamChallengeType)), func(t string) bool {
		return t == string(nativeauth.ChallengeTypeRedirect)
	})
	r.Call.Set(nativeauth.ParamChallengeType, strings.Join(types, " "))
	return nil
}

// invalidChallengeTypes is a challenge_type list with an unknown method
// next to redirect. Sign-up continue takes no challenge_type; the one table
// that names the case there is the password submission's, so there it
// goes with the password (submitPassword changes only that endpoint's call).
const invalidChallengeTypes = "oob carrier_pigeon redirect"

func unknownUsername(_ context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	r.Call.Set(nativeauth.ParamUsername, e.Walker().Users.New("nobody"))
	return nil
}

func existingUsername(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	u := got(e.Walker().ExistingUser(ctx))
	r.Call.Set(nativeauth.ParamUsername, u.Username)
	return nil
}

// sameName is a username source that always answers one name.
type sameName string

func (n sameName) New(string) string { return string(n) }

// registeredMeanwhile completes another sign-up of the same email before
// this flow's request.
func registeredMeanwhile(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	if r.Username == "" {
		ok(fmt.Errorf("username_registered_meanwhile on %s: no username", r.Call.Endpoint))
	}
	w := e.Walker()
	w.Users = sameName(r.Username)
	_, err := w.CompleteSignUp(ctx, "meanwhile")
	setup(err, "setup: the concurrent sign-up")
	return nil
}

// wrongGrant sends a grant type that exists but is not the one the step
// takes, with the parameter that grant would carry.
func wrongGrant(_ context.Context, _ Env, r *scenarios.Reached) *nativeauth.Response {
	switch nativeauth.GrantType(r.Call.Get(nativeauth.ParamGrantType)) {
	case nativeauth.GrantTypeOOB:
		if r.Call.Endpoint == nativeauth.EndpointSignUpContinue {
			r.Call.Request = nativeauth.SignUpContinueRequest{ContinuationToken: r.ContinuationToken,
				GrantType: nativeauth.GrantTypeAttributes, Attributes: nativeauth.Attributes{"city": "Oslo"}}
			return nil
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
	return nil
}

// scopeWithout asks for the walk's scopes with openid and offline_access,
// less scope.
func scopeWithout(scope string) Driver {
	return func(_ context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
		scopes := slices.DeleteFunc(e.Walker().ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess), func(s string) bool { return s == scope })
		r.Call.Set(nativeauth.ParamScope, strings.Join(scopes, " "))
		return nil
	}
}

// scopeNotConsented completes a sign-up and asks for tokens with a scope
// the client has no consent for.
func scopeNotConsented(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	if opened.Caps.UnconsentedScope == "" {
		Skip("the target profile names no API scope the client has no consent for (unconsented_scope)")
	}
	w := e.Walker()
	p := got(w.CompleteSignUp(ctx, "consent"))
	return reached(r, p, w.TokenAfterSignUp(p, []string{nativeauth.ScopeOpenID, opened.Caps.UnconsentedScope}))
}
