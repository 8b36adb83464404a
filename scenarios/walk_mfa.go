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
	if res != nil {
		p.record(res.Response, res.ContinuationToken, nil)
		return redirected(res.Redirect)
	}
	p.record(nil, "", err)
	return err
}

// ChallengeMFA challenges the strong method id (from SignInIntrospect): a
// code goes to it.
func (w *Walker) ChallengeMFA(ctx context.Context, p *Progress, id string) (*nativeauth.ChallengeResult, error) {
	p.Since = w.since()
	res, err := w.Client.SignInChallengeMFA(ctx, nativeauth.MFAChallengeRequest{ContinuationToken: p.ContinuationToken, ID: id})
	if res != nil {
		p.record(res.Response, res.ContinuationToken, nil)
		return res, redirected(res.Redirect)
	}
	p.record(nil, "", err)
	return nil, err
}

// RegisterChallenge asks to register target on channel: a code goes to it,
// or the answer is preverified.
func (w *Walker) RegisterChallenge(ctx context.Context, p *Progress, channel, target string) (*nativeauth.RegisterChallengeResult, error) {
	p.Since = w.since()
	res, err := w.Client.RegisterChallenge(ctx, nativeauth.RegisterChallengeRequest{ContinuationToken: p.ContinuationToken,
		ChallengeType: nativeauth.ChallengeTypeOOB, ChallengeChannel: channel, ChallengeTarget: target})
	if res != nil {
		p.record(res.Response, res.ContinuationToken, nil)
		return res, redirected(res.Redirect)
	}
	p.record(nil, "", err)
	return nil, err
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
