package conformance

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// The drivers of the 2026-02 revision's triggers. Each walks its own user
// through the MFA or registration branch (the tenant requires MFA: the
// entries need profile.CapMFA) and leaves the call to judge in r.

// tokenScopes are what the token entries document answers for.
func tokenScopes(w *scenarios.Walker) []string {
	return w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)
}

// passwordOf sends the password of a fresh user with (withMethod) or
// without a strong method: the tenant answers mfa_required or
// registration_required.
func passwordOf(withMethod bool) Driver {
	return func(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
		w := e.Walker()
		user, err := w.UserWithoutStrongMethod(ctx)
		if withMethod {
			user, err = w.UserWithStrongMethod(ctx)
		}
		setup(err, "setup: a user")
		p := got(w.StartSignIn(ctx, user))
		got(w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge))
		return reached(r, p, w.Client.Call(nativeauth.EndpointToken, scenarios.SignInTokenRequest(p, "", tokenScopes(w))))
	}
}

// mfaIntrospected walks a fresh user with a strong method to the MFA
// challenge: password, mfa_required, introspect. It returns the email
// method's id.
func mfaIntrospected(ctx context.Context, w *scenarios.Walker) (*scenarios.Progress, string) {
	GinkgoHelper()
	user, err := w.UserWithStrongMethod(ctx)
	setup(err, "setup: a user with a strong method")
	p, err := w.PasswordUntil(ctx, user, nativeauth.SuberrorMFARequired)
	setup(err, "setup: password until mfa_required")
	res, err := w.SignInIntrospect(ctx, p)
	setup(err, "setup: introspect")
	for _, m := range res.Methods {
		if m.ChallengeChannel == nativeauth.ChallengeChannelEmail {
			return p, m.ID
		}
	}
	Fail("setup: introspect lists no email method")
	return nil, ""
}

// challengeStrongMethod is the MFA challenge with the email method's id.
func challengeStrongMethod(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	w := e.Walker()
	p, id := mfaIntrospected(ctx, w)
	return reached(r, p, w.Client.Call(nativeauth.EndpointSignInChallenge, nativeauth.MFAChallengeRequest{ContinuationToken: p.ContinuationToken, ID: id}))
}

// submitMFAOOB submits the code of the MFA challenge.
func submitMFAOOB(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	w := e.Walker()
	p, id := mfaIntrospected(ctx, w)
	_, err := w.ChallengeMFA(ctx, p, id)
	setup(err, "setup: MFA challenge")
	code := got(w.Code(ctx, p.Username, p.Since))
	return reached(r, p, w.Client.Call(nativeauth.EndpointToken, scenarios.MFAOOBRequest(p, code, tokenScopes(w))))
}

// registerVerifiedEmail signs a user up, takes registration_required at
// the token call and registers the email the sign-up verified.
func registerVerifiedEmail(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	w := e.Walker()
	p, err := w.CompleteSignUp(ctx, "preverified")
	setup(err, "setup: sign-up")
	if _, err := w.Token(ctx, p, scenarios.ContinuationTokenRequest(p, w.Scopes)); !nativeauth.IsError(err, nativeauth.ErrInvalidGrant, nativeauth.SuberrorRegistrationRequired) {
		ok(fmt.Errorf("token after sign-up: want registration_required, got %v", err))
	}
	_, err = w.RegisterIntrospect(ctx, p)
	setup(err, "setup: register introspect")
	return reached(r, p, w.Client.Call(nativeauth.EndpointRegisterChallenge, nativeauth.RegisterChallengeRequest{ContinuationToken: p.ContinuationToken,
		ChallengeType: nativeauth.ChallengeTypeOOB, ChallengeChannel: nativeauth.ChallengeChannelEmail, ChallengeTarget: p.Username}))
}

// capabilityMissing starts, without capabilities, for a user the tenant
// will ask for MFA (sign-in, reset) or registration (sign-up).
func capabilityMissing(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	switch r.Call.Endpoint {
	case nativeauth.EndpointSignInInitiate, nativeauth.EndpointResetStart:
		user, err := e.Walker().UserWithStrongMethod(ctx)
		setup(err, "setup: a user with a strong method")
		r.Username = user.Username
		r.Call.Set(nativeauth.ParamUsername, user.Username)
	}
	r.Call.Set(nativeauth.ParamCapabilities, "")
	return nil
}

// blockedPhone registers a phone number the tenant blocks; edit makes the
// tenant block it.
func blockedPhone(number string, edit func(*backdoor.Config)) Driver {
	return func(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
		changed(e.ChangeTenant(ctx, edit), "the target has no backdoor to block a phone number; a tenant's fraud checks cannot be provoked on purpose")
		r.Call.Set(nativeauth.ParamChallengeChannel, nativeauth.ChallengeChannelSMS)
		r.Call.Set(nativeauth.ParamChallengeTarget, number)
		return nil
	}
}
