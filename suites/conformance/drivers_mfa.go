package conformance

import (
	"context"
	"fmt"

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
	return func(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
		w := e.Walker()
		user, err := w.UserWithoutStrongMethod(ctx)
		if withMethod {
			user, err = w.UserWithStrongMethod(ctx)
		}
		if err != nil {
			return failed(fmt.Errorf("setup: a user: %w", err))
		}
		p, err := w.StartSignIn(ctx, user)
		if err == nil {
			_, err = w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge)
		}
		if err != nil {
			return failed(fmt.Errorf("setup: sign in: %w", err))
		}
		return reached(r, p, w.Client.Call(nativeauth.EndpointToken, scenarios.SignInTokenRequest(p, "", tokenScopes(w))))
	}
}

// mfaIntrospected walks a fresh user with a strong method to the MFA
// challenge: password, mfa_required, introspect. It returns the email
// method's id.
func mfaIntrospected(ctx context.Context, w *scenarios.Walker) (*scenarios.Progress, string, error) {
	user, err := w.UserWithStrongMethod(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("setup: a user with a strong method: %w", err)
	}
	p, err := w.PasswordUntil(ctx, user, nativeauth.SuberrorMFARequired)
	if err != nil {
		return nil, "", fmt.Errorf("setup: password until mfa_required: %w", err)
	}
	res, err := w.SignInIntrospect(ctx, p)
	if err != nil {
		return nil, "", fmt.Errorf("setup: introspect: %w", err)
	}
	for _, m := range res.Methods {
		if m.ChallengeChannel == nativeauth.ChallengeChannelEmail {
			return p, m.ID, nil
		}
	}
	return nil, "", fmt.Errorf("setup: introspect lists no email method")
}

// challengeStrongMethod is the MFA challenge with the email method's id.
func challengeStrongMethod(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	w := e.Walker()
	p, id, err := mfaIntrospected(ctx, w)
	if err != nil {
		return failed(err)
	}
	return reached(r, p, w.Client.Call(nativeauth.EndpointSignInChallenge, nativeauth.MFAChallengeRequest{ContinuationToken: p.ContinuationToken, ID: id}))
}

// submitMFAOOB submits the code of the MFA challenge.
func submitMFAOOB(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	w := e.Walker()
	p, id, err := mfaIntrospected(ctx, w)
	if err != nil {
		return failed(err)
	}
	if _, err := w.ChallengeMFA(ctx, p, id); err != nil {
		return failed(fmt.Errorf("setup: MFA challenge: %w", err))
	}
	code, err := w.Code(ctx, p.Username, p.Since)
	if err != nil {
		return failed(fmt.Errorf("setup: %w", err))
	}
	return reached(r, p, w.Client.Call(nativeauth.EndpointToken, scenarios.MFAOOBRequest(p, code, tokenScopes(w))))
}

// registerVerifiedEmail signs a user up, takes registration_required at
// the token call and registers the email the sign-up verified.
func registerVerifiedEmail(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	w := e.Walker()
	p, err := w.CompleteSignUp(ctx, "preverified")
	if err != nil {
		return failed(fmt.Errorf("setup: sign-up: %w", err))
	}
	if _, err := w.Token(ctx, p, scenarios.ContinuationTokenRequest(p, w.Scopes)); !nativeauth.IsError(err, nativeauth.ErrInvalidGrant, nativeauth.SuberrorRegistrationRequired) {
		return failed(fmt.Errorf("setup: token after sign-up: want registration_required, got %v", err))
	}
	if _, err := w.RegisterIntrospect(ctx, p); err != nil {
		return failed(fmt.Errorf("setup: register introspect: %w", err))
	}
	return reached(r, p, w.Client.Call(nativeauth.EndpointRegisterChallenge, nativeauth.RegisterChallengeRequest{ContinuationToken: p.ContinuationToken,
		ChallengeType: nativeauth.ChallengeTypeOOB, ChallengeChannel: nativeauth.ChallengeChannelEmail, ChallengeTarget: p.Username}))
}

// capabilityMissing starts, without capabilities, for a user the tenant
// will ask for MFA (sign-in, reset) or registration (sign-up).
func capabilityMissing(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	switch r.Call.Endpoint {
	case nativeauth.EndpointSignInInitiate, nativeauth.EndpointResetStart:
		user, err := e.Walker().UserWithStrongMethod(ctx)
		if err != nil {
			return failed(fmt.Errorf("setup: a user with a strong method: %w", err))
		}
		r.Username = user.Username
		r.Call.Set(nativeauth.ParamUsername, user.Username)
	}
	r.Call.Set(nativeauth.ParamCapabilities, "")
	return nil, "", nil
}

// blockedPhone registers a phone number the tenant blocks; edit makes the
// tenant block it.
func blockedPhone(number string, edit func(*backdoor.Config)) Driver {
	return func(ctx context.Context, e Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
		if err := e.ChangeTenant(ctx, edit, nil); err != nil {
			return changed(err, "the target has no backdoor to block a phone number; a tenant's fraud checks cannot be provoked on purpose")
		}
		r.Call.Set(nativeauth.ParamChallengeChannel, nativeauth.ChallengeChannelSMS)
		r.Call.Set(nativeauth.ParamChallengeTarget, number)
		return nil, "", nil
	}
}
