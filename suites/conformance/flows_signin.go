package conformance

import (
	"net/http"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/check"
)

// The sign-in and password reset flows end to end.

// describeSignInFlows: refresh tokens and sign-in by passcode.
func describeSignInFlows() {
	Describe("sign-in", Serial, flowLabels("signin", ""), func() {
		flowIt("signin.refresh", "refresh_token only with offline_access, and usable", refreshOnlyWithOfflineAccess)
		flowIt("signin.otp", "signs in with an email one-time passcode", func(ctx SpecContext, id string) {
			needMethod(nativeauth.SignUpMethodOTP)
			w := env.Walker()
			u := got(w.ExistingUser(ctx))
			p := got(w.StartSignIn(ctx, u))
			_, err := w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge)
			answer(id, p, err, oobChallenge(u.Username))
			req := got(w.SignInToken(ctx, p, w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)))
			token(ctx, id, w, p, req)
		})
	})
}

func refreshOnlyWithOfflineAccess(ctx SpecContext, id string) {
	needMethod(nativeauth.SignUpMethodPassword)
	w := env.Walker()
	u := got(w.ExistingUser(ctx))
	t := signInWithPassword(ctx, id, u)
	p := &scenarios.Progress{Username: u.Username}
	token(ctx, id, w, p, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeRefreshToken, RefreshToken: t.RefreshToken,
		Scopes: w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)})
	// Without offline_access: no refresh token. The profile's scopes
	// usually hold offline_access, so it is taken out of them.
	scopes := slices.DeleteFunc(w.ScopesWith(nativeauth.ScopeOpenID), func(s string) bool { return s == nativeauth.ScopeOfflineAccess })
	p = got(w.StartSignIn(ctx, u))
	got(w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge, scenarios.PasswordTypes...))
	req := got(w.SignInToken(ctx, p, scopes))
	token(ctx, id, w, p, req)
}

// signInWithPassword runs initiate → challenge (password) → token with
// openid offline_access and checks each answer.
func signInWithPassword(ctx SpecContext, id string, user scenarios.Credential) *nativeauth.TokenResult {
	GinkgoHelper()
	w := env.Walker()
	p, err := w.StartSignIn(ctx, user)
	answer(id, p, err, continuation)
	_, err = w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge, scenarios.PasswordTypes...)
	answer(id, p, err, check.PasswordChallenge)
	return token(ctx, id, w, p, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypePassword, ContinuationToken: p.ContinuationToken,
		Password: user.Password, Scopes: w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)})
}

// describeResetFlow: a reset to the end, then signing in with its token,
// and the old password refused.
func describeResetFlow() {
	Describe("self-service password reset", Ordered, Serial, flowLabels("sspr", nativeauth.SignUpMethodPassword), func() {
		var user scenarios.Credential
		var newPassword nativeauth.Secret
		var done *scenarios.Progress
		BeforeAll(func(ctx SpecContext) {
			needMethod(nativeauth.SignUpMethodPassword)
			if !env.Expect().SSPR {
				Skip("the tenant is expected to have self-service password reset disabled")
			}
			p := got(env.Walker().CompleteSignUp(ctx, "sspr"))
			user = scenarios.Credential{Username: p.Username, Password: p.Password}
		})
		flowIt("sspr.reset", "resets to a new password and polls to completion", func(ctx SpecContext, id string) {
			done, newPassword = reset(ctx, id, user)
		})
		flowIt("sspr.signin-after-reset", "signs in directly with the poll continuation token", func(ctx SpecContext, id string) {
			needEarlier(done != nil)
			w := env.Walker()
			token(ctx, id, w, done, scenarios.ContinuationTokenRequest(done, w.ScopesWith(nativeauth.ScopeOpenID)))
		})
		flowIt("sspr.old-password-rejected", "the old password no longer works, the new one does", func(ctx SpecContext, id string) {
			needEarlier(newPassword != "")
			w := env.Walker()
			p := got(w.StartSignIn(ctx, user))
			got(w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge, scenarios.PasswordTypes...))
			req := got(w.SignInToken(ctx, p, w.ScopesWith(nativeauth.ScopeOpenID)))
			_, err := w.Token(ctx, p, req)
			answer(id, p, ignore(err, nativeauth.ErrInvalidGrant), documentedError(check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrInvalidGrant}))
			signInWithPassword(ctx, id, scenarios.Credential{Username: user.Username, Password: newPassword})
		})
	})
}

// reset walks a reset for user to a succeeded poll, checking every answer,
// and returns it with the new password.
func reset(ctx SpecContext, id string, user scenarios.Credential) (*scenarios.Progress, nativeauth.Secret) {
	w := env.Walker()
	p := got(w.StartReset(ctx, user))
	_, err := w.Challenge(ctx, p, nativeauth.EndpointResetChallenge)
	answer(id, p, err, oobChallenge(user.Username))
	code := got(w.Code(ctx, p.Username, p.Since))
	answer(id, p, w.ResetContinue(ctx, p, code), check.ResetContinue)
	pw := got(w.NewPassword())
	answer(id, p, w.ResetSubmit(ctx, p, pw), check.ResetSubmit)
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := w.Poll(ctx, p)
		answer(id, p, err, check.Poll)
		if st == nativeauth.PollStatusSucceeded {
			return p, pw
		}
		want(st != nativeauth.PollStatusFailed, id, "body.status", "succeeded (the reset of a fresh user with a valid password)", st)
		want(time.Now().Before(deadline), id, "body.status", "succeeded within 30s", st)
		// poll_interval is the minimum wait the page asks of the app.
		select {
		case <-ctx.Done():
			return nil, ""
		case <-time.After(p.PollInterval):
		}
	}
}
