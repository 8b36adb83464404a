package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

// Whole flows and protocol rules: the steps after a completed sign-up or
// reset, the refresh grant, polling to the end, and requests a form cannot
// express.

// signInAfter leaves the token call that signs in with the token of a
// completed sign-up or reset (p, or err) to be judged.
func signInAfter(w *scenarios.Walker, r *scenarios.Reached, p *scenarios.Progress, err error) (*nativeauth.Response, string, error) {
	if err != nil {
		return failed(err)
	}
	return reached(r, p, w.TokenAfterSignUp(p, tokenScopes(w)))
}

func tokenAfterSignUp(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	w := e.Walker()
	p, err := w.CompleteSignUp(ctx, "tok")
	return signInAfter(w, r, p, err)
}

func tokenAfterSSPR(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	if !e.Expect().SSPR {
		return skip("the tenant is expected to have self-service password reset disabled")
	}
	w := e.Walker()
	p, err := w.ResetToSucceeded(ctx)
	return signInAfter(w, r, p, err)
}

// refreshTokenGrant signs in with offline_access, then sends the refresh
// token it got.
func refreshTokenGrant(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	if err := onlyAt(r, catalog.TriggerRefreshToken, nativeauth.EndpointToken); err != nil {
		return failed(err)
	}
	first, _ := r.Call.Request.(nativeauth.TokenRequest)
	res, err := e.Walker().Client.Token(ctx, first)
	if err != nil {
		return failed(fmt.Errorf("setup: token with offline_access: %w", err))
	}
	if res.RefreshToken == "" {
		return failed(fmt.Errorf("setup: token with offline_access answered without a refresh_token"))
	}
	r.Call = e.Walker().Client.Call(nativeauth.EndpointToken, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeRefreshToken,
		RefreshToken: res.RefreshToken, Scopes: first.Scopes})
	return nil, "", nil
}

// pollUntilFinal polls after submit, waiting poll_interval between calls as
// the page asks, and returns the final answer (succeeded or failed).
func pollUntilFinal(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	if err := onlyAt(r, catalog.TriggerPollAfterSubmit, nativeauth.EndpointResetPollCompletion); err != nil {
		return failed(err)
	}
	p := r.Progress
	_, err := e.Walker().PollUntilFinal(ctx, &p, 30)
	if p.Last != nil && p.Last.Endpoint == nativeauth.EndpointResetPollCompletion {
		// An error answer is the answer to judge, not a setup failure.
		return answered(p.Last, nil)
	}
	return failed(err)
}

// signUpComplete runs a whole sign-up, then signs the user in; every
// answer is kept as the spec's evidence (the code entries check them all).
func signUpComplete(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	w := e.Walker()
	p, err := w.CompleteSignUp(ctx, "complete")
	if err != nil {
		return failed(err)
	}
	r.Progress = *p
	scopes := w.ScopesWith(nativeauth.ScopeOpenID)
	last, err := e.Walker().Client.Send(ctx, w.TokenAfterSignUp(p, scopes))
	if err != nil || e.Expect().SignUpMethod == nativeauth.SignUpMethodOTP {
		return answered(last, err)
	}
	si, err := w.StartSignIn(ctx, scenarios.Credential{Username: p.Username, Password: p.Password})
	if err != nil {
		return failed(err)
	}
	if _, err := w.Challenge(ctx, si, nativeauth.EndpointSignInChallenge, scenarios.PasswordTypes...); err != nil {
		return failed(err)
	}
	return answered(e.Walker().Client.Send(ctx, e.Walker().Client.Call(nativeauth.EndpointToken, nativeauth.TokenRequest{
		GrantType: nativeauth.GrantTypePassword, ContinuationToken: si.ContinuationToken, Password: p.Password, Scopes: scopes})))
}

// corsRequest sends the valid request (or its preflight) with an Origin of
// another site, as a browser would.
func corsRequest(preflight bool) Driver {
	return func(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
		method, body := http.MethodPost, io.Reader(strings.NewReader(r.Call.Form().Encode()))
		if preflight {
			method, body = http.MethodOptions, nil
		}
		req, err := http.NewRequestWithContext(ctx, method, e.Walker().Client.EndpointURL(r.Call.Endpoint), body)
		if err != nil {
			return failed(err)
		}
		req.Header.Set("Origin", "https://app.ciamcheck.example")
		if preflight {
			req.Header.Set("Access-Control-Request-Method", http.MethodPost)
			req.Header.Set("Access-Control-Request-Headers", "content-type")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		start := time.Now()
		resp, err := e.Walker().Client.HTTPClient.Do(req)
		if err != nil {
			return failed(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return answered(&nativeauth.Response{Endpoint: r.Call.Endpoint, HTTPStatus: resp.StatusCode, Header: resp.Header, Body: b,
			Timing: nativeauth.Timing{Start: start, Done: time.Now()}}, err)
	}
}
