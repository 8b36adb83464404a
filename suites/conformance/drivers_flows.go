package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

// Whole flows and protocol rules: the steps after a completed sign-up or
// reset, the refresh grant, polling to the end, and requests a form cannot
// express.

// tokenAfterSignUp leaves the token call that signs in with the token of
// a completed sign-up to be judged.
func tokenAfterSignUp(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	w := e.Walker()
	p := got(w.CompleteSignUp(ctx, "tok"))
	return reached(r, p, w.TokenAfterSignUp(p, tokenScopes(w)))
}

func tokenAfterSSPR(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	if !e.Expect().SSPR {
		Skip("the tenant is expected to have self-service password reset disabled")
	}
	w := e.Walker()
	p := got(w.ResetToSucceeded(ctx))
	return reached(r, p, w.TokenAfterSignUp(p, tokenScopes(w)))
}

// refreshTokenGrant signs in with offline_access, then sends the refresh
// token it got.
func refreshTokenGrant(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	onlyAt(r, catalog.TriggerRefreshToken, nativeauth.EndpointToken)
	first, _ := r.Call.Request.(nativeauth.TokenRequest)
	client := e.Walker().Client
	res, err := client.Token(ctx, first)
	setup(err, "setup: token with offline_access")
	if res.RefreshToken == "" {
		ok(fmt.Errorf("token with offline_access answered without a refresh_token"))
	}
	r.Call = client.Call(nativeauth.EndpointToken, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeRefreshToken,
		RefreshToken: res.RefreshToken, Scopes: first.Scopes})
	return nil
}

// pollUntilFinal polls after submit, waiting poll_interval between calls as
// the page asks, and returns the final answer (succeeded or failed).
func pollUntilFinal(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	onlyAt(r, catalog.TriggerPollAfterSubmit, nativeauth.EndpointResetPollCompletion)
	p := r.Progress
	_, err := e.Walker().PollUntilFinal(ctx, &p, 30)
	if p.Last != nil && p.Last.Endpoint == nativeauth.EndpointResetPollCompletion {
		// An error answer is the answer to judge, not a setup failure.
		return p.Last
	}
	ok(err)
	return nil
}

// signUpComplete runs a whole sign-up, then signs the user in; every
// answer is kept as the spec's evidence (the code entries check them all).
func signUpComplete(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	w := e.Walker()
	p := got(w.CompleteSignUp(ctx, "complete"))
	r.Progress = *p
	scopes := w.ScopesWith(nativeauth.ScopeOpenID)
	last, err := w.Client.Send(ctx, w.TokenAfterSignUp(p, scopes))
	if err != nil || e.Expect().SignUpMethod == nativeauth.SignUpMethodOTP {
		return got(last, err)
	}
	si := got(w.StartSignIn(ctx, scenarios.Credential{Username: p.Username, Password: p.Password}))
	got(w.Challenge(ctx, si, nativeauth.EndpointSignInChallenge, scenarios.PasswordTypes...))
	return got(w.Client.Send(ctx, w.Client.Call(nativeauth.EndpointToken, nativeauth.TokenRequest{
		GrantType: nativeauth.GrantTypePassword, ContinuationToken: si.ContinuationToken, Password: p.Password, Scopes: scopes})))
}

// corsRequest sends the valid request (or its preflight) with an Origin of
// another site, as a browser would.
func corsRequest(preflight bool) Driver {
	return func(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
		method, body := http.MethodPost, io.Reader(strings.NewReader(r.Call.Form().Encode()))
		if preflight {
			method, body = http.MethodOptions, nil
		}
		client := e.Walker().Client
		req := got(http.NewRequestWithContext(ctx, method, client.EndpointURL(r.Call.Endpoint), body))
		req.Header.Set("Origin", "https://app.ciamcheck.example")
		if preflight {
			req.Header.Set("Access-Control-Request-Method", http.MethodPost)
			req.Header.Set("Access-Control-Request-Headers", "content-type")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		start := time.Now()
		resp := got(client.HTTPClient.Do(req))
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return got(&nativeauth.Response{Endpoint: r.Call.Endpoint, HTTPStatus: resp.StatusCode, Header: resp.Header, Body: b,
			Timing: nativeauth.Timing{Start: start, Done: time.Now()}}, err)
	}
}
