package scenarios

import (
	"context"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// The walk's steps of the 2026-02 revision's second-factor branches. Each
// records its answer in p like the other steps; a redirect is an
// ErrRedirect.

// SignInIntrospect lists the user's strong methods after mfa_required.
func (w *Walker) SignInIntrospect(ctx context.Context, p *Progress) (*nativeauth.IntrospectResult, error) {
	res, err := w.Client.SignInIntrospect(ctx, nativeauth.IntrospectRequest{ContinuationToken: p.ContinuationToken})
	return res, p.introspected(res, err)
}

// RegisterIntrospect lists the strong methods the user may register after
// registration_required.
func (w *Walker) RegisterIntrospect(ctx context.Context, p *Progress) (*nativeauth.IntrospectResult, error) {
	res, err := w.Client.RegisterIntrospect(ctx, nativeauth.IntrospectRequest{ContinuationToken: p.ContinuationToken})
	return res, p.introspected(res, err)
}

func (p *Progress) introspected(res *nativeauth.IntrospectResult, err error) error {
	if res == nil {
		return p.failed(err)
	}
	return p.answered(res.Response, res.ContinuationToken, res.Redirect)
}

// ChallengeMFA challenges the strong method id (from SignInIntrospect): a
// code goes to it.
func (w *Walker) ChallengeMFA(ctx context.Context, p *Progress, id string) (*nativeauth.ChallengeResult, error) {
	p.Since = w.since()
	res, err := w.Client.SignInChallengeMFA(ctx, nativeauth.MFAChallengeRequest{ContinuationToken: p.ContinuationToken, ID: id})
	if res == nil {
		return nil, p.failed(err)
	}
	return res, p.answered(res.Response, res.ContinuationToken, res.Redirect)
}

// RegisterChallenge asks to register target on channel: a code goes to it,
// or the answer is preverified.
func (w *Walker) RegisterChallenge(ctx context.Context, p *Progress, channel, target string) (*nativeauth.RegisterChallengeResult, error) {
	p.Since = w.since()
	res, err := w.Client.RegisterChallenge(ctx, nativeauth.RegisterChallengeRequest{ContinuationToken: p.ContinuationToken,
		ChallengeType: nativeauth.ChallengeTypeOOB, ChallengeChannel: channel, ChallengeTarget: target})
	if res == nil {
		return nil, p.failed(err)
	}
	return res, p.answered(res.Response, res.ContinuationToken, res.Redirect)
}

// RegisterContinue completes the registration: the code when one was sent,
// grant_type continuation_token after preverified.
func (w *Walker) RegisterContinue(ctx context.Context, p *Progress, code nativeauth.Secret) error {
	req := nativeauth.RegisterContinueRequest{ContinuationToken: p.ContinuationToken, GrantType: nativeauth.GrantTypeContinuationToken}
	if code != "" {
		req.GrantType, req.OOB = nativeauth.GrantTypeOOB, code
	}
	res, err := w.Client.RegisterContinue(ctx, req)
	return p.continued(res, err)
}

// TokenAfterRegistration is the token request after register continue:
// without username, as the JS client sends it.
func TokenAfterRegistration(p *Progress, scopes []string) nativeauth.TokenRequest {
	return nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeContinuationToken, ContinuationToken: p.ContinuationToken, Scopes: scopes}
}

// MFAOOBRequest is the token request that submits the second factor's code.
func MFAOOBRequest(p *Progress, code nativeauth.Secret, scopes []string) nativeauth.TokenRequest {
	return nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeMFAOOB, ContinuationToken: p.ContinuationToken, OOB: code, Scopes: scopes}
}

// UserWithoutStrongMethod signs a fresh user up (the account exists once
// sign-up continue succeeds; no token is asked for, so nothing is
// registered).
func (w *Walker) UserWithoutStrongMethod(ctx context.Context) (Credential, error) {
	p, err := w.capable().CompleteSignUp(ctx, "mfa")
	if err != nil {
		return Credential{}, err
	}
	return Credential{Username: p.Username, Password: p.Password}, nil
}

// PasswordUntil signs user in with the password and requires the token
// call to answer invalid_grant with the suberror want (mfa_required or
// registration_required); p then holds its continuation token.
func (w *Walker) PasswordUntil(ctx context.Context, user Credential, want nativeauth.Suberror) (*Progress, error) {
	w = w.capable()
	p, err := w.StartSignIn(ctx, user)
	if err != nil {
		return p, err
	}
	if err := challenged(w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge))(nativeauth.ChallengeTypePassword); err != nil {
		return p, err
	}
	_, err = w.Token(ctx, p, SignInTokenRequest(p, "", w.Scopes))
	switch {
	case err == nil:
		return p, unexpected("tokens where the tenant should answer %s", want)
	case !nativeauth.IsError(err, nativeauth.ErrInvalidGrant, want):
		return p, err
	}
	if ae, _ := nativeauth.AsError(err); ae.ContinuationToken == "" {
		return p, unexpected("%s without a continuation_token", want)
	}
	return p, nil
}

// freshUntil signs in a fresh user (from newUser) with the password until
// the token call answers want, as PasswordUntil does.
func (w *Walker) freshUntil(ctx context.Context, newUser func(context.Context) (Credential, error), want nativeauth.Suberror) (Credential, *Progress, error) {
	user, err := newUser(ctx)
	if err != nil {
		return user, nil, err
	}
	p, err := w.PasswordUntil(ctx, user, want)
	return user, p, err
}

// RegisterEmailMethod registers the user's email as a strong method from
// p's registration_required token, then takes the tokens.
func (w *Walker) RegisterEmailMethod(ctx context.Context, p *Progress) error {
	if _, err := w.RegisterIntrospect(ctx, p); err != nil {
		return err
	}
	res, err := w.RegisterChallenge(ctx, p, nativeauth.ChallengeChannelEmail, p.Username)
	if err != nil {
		return err
	}
	var code nativeauth.Secret
	if res.ChallengeType != nativeauth.ChallengeTypePreverified {
		if code, err = w.Code(ctx, p.Username, p.Since); err != nil {
			return err
		}
	}
	if err := w.RegisterContinue(ctx, p, code); err != nil {
		return err
	}
	_, err = w.Token(ctx, p, TokenAfterRegistration(p, w.Scopes))
	return err
}

// UserWithStrongMethod is a fresh user who registered the account's email
// as a strong method.
func (w *Walker) UserWithStrongMethod(ctx context.Context) (Credential, error) {
	user, p, err := w.freshUntil(ctx, w.UserWithoutStrongMethod, nativeauth.SuberrorRegistrationRequired)
	if err != nil {
		return user, err
	}
	return user, w.RegisterEmailMethod(ctx, p)
}

// reachSecondFactor walks to an endpoint of the MFA and registration
// branches, on a tenant that requires MFA.
func (w *Walker) reachSecondFactor(ctx context.Context, ep nativeauth.Endpoint) (*Reached, error) {
	w = w.capable()
	newUser, want := w.UserWithoutStrongMethod, nativeauth.SuberrorRegistrationRequired
	if ep == nativeauth.EndpointSignInIntrospect {
		newUser, want = w.UserWithStrongMethod, nativeauth.SuberrorMFARequired
	}
	_, p, err := w.freshUntil(ctx, newUser, want)
	if err != nil {
		return nil, err
	}
	if ep == nativeauth.EndpointSignInIntrospect || ep == nativeauth.EndpointRegisterIntrospect {
		return &Reached{Progress: *p, Call: w.Client.Call(ep, nativeauth.IntrospectRequest{ContinuationToken: p.ContinuationToken})}, nil
	}
	if _, err := w.RegisterIntrospect(ctx, p); err != nil {
		return nil, err
	}
	// The account's email: a sign-in has not verified it, so a code is
	// sent (after sign-up or reset it would be preverified).
	target := p.Username
	if ep == nativeauth.EndpointRegisterChallenge {
		return &Reached{Progress: *p, Call: w.Client.Call(ep, nativeauth.RegisterChallengeRequest{ContinuationToken: p.ContinuationToken,
			ChallengeType: nativeauth.ChallengeTypeOOB, ChallengeChannel: nativeauth.ChallengeChannelEmail, ChallengeTarget: target})}, nil
	}
	if _, err := w.RegisterChallenge(ctx, p, nativeauth.ChallengeChannelEmail, target); err != nil {
		return nil, err
	}
	code, err := w.Code(ctx, p.Username, p.Since)
	if err != nil {
		return nil, err
	}
	return &Reached{Progress: *p, Call: w.Client.Call(ep, nativeauth.RegisterContinueRequest{ContinuationToken: p.ContinuationToken,
		GrantType: nativeauth.GrantTypeOOB, OOB: code})}, nil
}

// capable is w advertising DefaultCapabilities unless it has its own list:
// the second-factor branches are for an app that handles them.
func (w *Walker) capable() *Walker {
	if w.Capabilities != nil {
		return w
	}
	c := *w
	c.Capabilities = DefaultCapabilities
	return &c
}
