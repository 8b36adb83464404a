package scenarios

import (
	"context"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// signIn is sign-in with a password (signin-password) or an emailed code
// (signin-otp), then one refresh when a refresh token was issued. It takes
// a user from the pool and puts it back.
type signIn struct {
	pooledFlow
	password bool
}

// Setup fills the pool to n users through sign-up (not measured): password
// users for signin-password, passcode users for signin-otp.
func (f *signIn) Setup(ctx context.Context, n int) error {
	if f.password {
		return setupPool(ctx, f.cfg, FlowSignUpPassword, n)
	}
	return setupPool(ctx, f.cfg, FlowSignUpOTP, n)
}

// pooledFlow is the name and config of a flow that takes its users from
// the pool (sign-in, its second factor, reset).
type pooledFlow struct {
	cfg  *Config
	name string
}

func (f *pooledFlow) Name() string { return f.name }

// Ready fails when the pool has no user, or fewer than concurrency: an
// iteration without a user fails without sending a request.
func (f *pooledFlow) Ready(concurrency int) error { return f.cfg.Pool.ready(concurrency) }

func (f *signIn) Run(ctx context.Context, it Iteration) error {
	w, r := f.cfg.walker(f.name), newIter(f.name, it)
	user, ok := f.cfg.Pool.Take()
	if !ok {
		return &StepError{Flow: f.name, Step: StepSignInInitiate, Err: ErrPoolEmpty}
	}
	defer f.cfg.Pool.Put(user)
	want := nativeauth.ChallengeTypeOOB
	if f.password {
		want = nativeauth.ChallengeTypePassword
	}
	p, err := challengedSignIn(ctx, r, w, user, want)
	if err != nil {
		return err
	}
	var code nativeauth.Secret
	step := StepTokenPassword
	if !f.password {
		if code, err = r.waitOTP(ctx, w, p); err != nil {
			return err
		}
		step = StepTokenOOB
	}
	var tok *nativeauth.TokenResult
	err = r.do(ctx, step, func(ctx context.Context) (outcome, error) {
		var err error
		tok, err = w.Token(ctx, p, SignInTokenRequest(p, code, f.cfg.Scopes))
		return p.outcome(err)
	})
	if err != nil {
		return err
	}
	return refresh(ctx, r, w, p, tok)
}

// challengedSignIn runs initiate and the challenge for user, measured, and
// fails unless the challenge answers want.
func challengedSignIn(ctx context.Context, r *iter, w *Walker, user Credential, want nativeauth.ChallengeType) (*Progress, error) {
	var p *Progress
	err := r.do(ctx, StepSignInInitiate, func(ctx context.Context) (outcome, error) {
		var err error
		p, err = w.StartSignIn(ctx, user)
		return p.outcome(err)
	})
	if err != nil {
		return nil, err
	}
	err = r.do(ctx, StepSignInChallenge, func(ctx context.Context) (outcome, error) {
		return p.outcome(challenged(w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge))(want))
	})
	return p, err
}

// refresh redeems the refresh token once, when one was issued (the scopes
// include offline_access).
func refresh(ctx context.Context, r *iter, w *Walker, p *Progress, tok *nativeauth.TokenResult) error {
	if tok == nil || tok.RefreshToken == "" {
		return nil
	}
	return r.do(ctx, StepTokenRefresh, func(ctx context.Context) (outcome, error) {
		_, err := w.Token(ctx, p, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeRefreshToken, RefreshToken: tok.RefreshToken, Scopes: w.Scopes})
		return p.outcome(err)
	})
}
