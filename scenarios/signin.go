package scenarios

import (
	"context"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// signIn is sign-in with a password (signin-password) or an emailed code
// (signin-otp), then one refresh when a refresh token was issued. It takes
// a user from the pool and puts it back.
type signIn struct {
	cfg      *Config
	name     string
	password bool
}

func (f *signIn) Name() string { return f.name }

// Setup fills the pool to n users through sign-up (not measured): password
// users for signin-password, passcode users for signin-otp.
func (f *signIn) Setup(ctx context.Context, n int) error {
	if f.password {
		return setupPool(ctx, f.cfg, FlowSignUpPassword, n)
	}
	return setupPool(ctx, f.cfg, FlowSignUpOTP, n)
}

// Ready fails when the pool has no user, or fewer than concurrency: an
// iteration without a user fails without sending a request.
func (f *signIn) Ready(concurrency int) error { return f.cfg.Pool.ready(concurrency) }

func (f *signIn) Run(ctx context.Context, it Iteration) error {
	cfg := f.cfg
	r := newIter(f.name, it)
	user, ok := cfg.Pool.Take()
	if !ok {
		return &StepError{Flow: f.name, Step: StepSignInInitiate, Err: ErrPoolEmpty}
	}
	defer cfg.Pool.Put(user)
	types := cfg.challengeTypes(f.name)

	var ct nativeauth.Secret
	err := r.do(ctx, StepSignInInitiate, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.SignInInitiate(ctx, nativeauth.InitiateRequest{Username: user.Username, ChallengeTypes: types})
		return continuationOutcome(res, err, &ct)
	})
	if err != nil {
		return err
	}

	want := nativeauth.ChallengeTypeOOB
	if f.password {
		want = nativeauth.ChallengeTypePassword
	}
	since := time.Now()
	err = r.do(ctx, StepSignInChallenge, func(ctx context.Context) (outcome, error) {
		return challenge(cfg.Client.SignInChallenge, ctx, ct, types, want, &ct)
	})
	if err != nil {
		return err
	}

	var tok *nativeauth.TokenResult
	if f.password {
		err = r.do(ctx, StepTokenPassword, func(ctx context.Context) (outcome, error) {
			res, err := cfg.Client.Token(ctx, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypePassword, ContinuationToken: ct, Password: user.Password, Scopes: cfg.Scopes})
			return tokenOutcome(res, err, &tok)
		})
	} else {
		var code nativeauth.Secret
		if code, err = r.waitOTP(ctx, cfg.OTP, cfg.OTPTimeout, user.Username, since); err != nil {
			return err
		}
		err = r.do(ctx, StepTokenOOB, func(ctx context.Context) (outcome, error) {
			res, err := cfg.Client.Token(ctx, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeOOB, ContinuationToken: ct, OOB: code, Scopes: cfg.Scopes})
			return tokenOutcome(res, err, &tok)
		})
	}
	if err != nil {
		return err
	}
	return refresh(ctx, r, cfg, tok)
}

// refresh redeems the refresh token once, when one was issued (the scopes
// include offline_access).
func refresh(ctx context.Context, r *iter, cfg *Config, tok *nativeauth.TokenResult) error {
	if tok == nil || tok.RefreshToken == "" {
		return nil
	}
	return r.do(ctx, StepTokenRefresh, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.Token(ctx, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeRefreshToken, RefreshToken: tok.RefreshToken, Scopes: cfg.Scopes})
		return tokenOutcome(res, err, nil)
	})
}
