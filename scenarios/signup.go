package scenarios

import (
	"context"
	"slices"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// signUp is the sign-up flow in its three documented shapes:
//
//   - signup-otp: start without password, oob challenge, code, then the
//     attributes the tenant asks for, token.
//   - signup-password: password and required attributes at start; the code
//     completes it.
//   - signup-password-continue: start with the username only; after the
//     code the tenant answers credential_required, the flow asks for the
//     password challenge and sends the password, then the attributes.
//
// The API's documented interruptions (credential_required,
// attributes_required) are steps that succeed: they are how the tenant asks
// for the next item.
type signUp struct {
	cfg                *Config
	name               string
	passwordAtStart    bool
	passwordAtContinue bool
	keep               bool // put the new user in the pool (Setup)
}

func (f *signUp) Name() string { return f.name }

// maxInterruptions bounds the credential/attributes requests one sign-up
// follows, so a tenant that keeps asking cannot loop a flow forever.
const maxInterruptions = 4

func (f *signUp) Run(ctx context.Context, it Iteration) error {
	cfg := f.cfg
	r := newIter(f.name, it)
	username := cfg.Users.New(f.name)
	types := cfg.challengeTypes(f.name)
	var password nativeauth.Secret
	if f.passwordAtStart || f.passwordAtContinue {
		pw, err := NewPassword(cfg.Password)
		if err != nil {
			return &StepError{Flow: f.name, Step: StepSignUpStart, Err: err}
		}
		password = nativeauth.Secret(pw)
	}

	var ct nativeauth.Secret
	err := r.do(ctx, StepSignUpStart, func(ctx context.Context) (outcome, error) {
		req := nativeauth.SignUpStartRequest{Username: username, ChallengeTypes: types}
		if f.passwordAtStart {
			req.Password = password
			req.Attributes = cfg.Attributes
		}
		res, err := cfg.Client.SignUpStart(ctx, req)
		return f.continuation(res, err, &ct)
	})
	if err != nil {
		return err
	}

	since := time.Now()
	err = r.do(ctx, StepSignUpChallenge, func(ctx context.Context) (outcome, error) {
		return challenge(cfg.Client.SignUpChallenge, ctx, ct, types, nativeauth.ChallengeTypeOOB, &ct)
	})
	if err != nil {
		return err
	}
	code, err := r.waitOTP(ctx, cfg.OTP, cfg.OTPTimeout, username, since)
	if err != nil {
		return err
	}

	var next nativeauth.ErrorCode // the interruption the tenant answered, "" when done
	err = r.do(ctx, StepSignUpContinueOOB, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.SignUpContinue(ctx, nativeauth.SignUpContinueRequest{ContinuationToken: ct, GrantType: nativeauth.GrantTypeOOB, OOB: code})
		return f.interruptible(res, err, &ct, &next, f.passwordAtContinue)
	})
	if err != nil {
		return err
	}

	if err := f.followTurns(ctx, r, password, types, &ct, next); err != nil {
		return err
	}

	err = r.do(ctx, StepTokenContinuation, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.Token(ctx, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeContinuationToken, ContinuationToken: ct, Username: username, Scopes: cfg.Scopes})
		return tokenOutcome(res, err, nil)
	})
	if err != nil {
		return err
	}
	if f.keep {
		cfg.Pool.Put(Credential{Username: username, Password: password})
	}
	return nil
}

// followTurns answers what the tenant asks for after the code
// (credential_required, attributes_required) until it asks no more, at most
// maxInterruptions times.
func (f *signUp) followTurns(ctx context.Context, r *iter, password nativeauth.Secret, types []nativeauth.ChallengeType, ct *nativeauth.Secret, next nativeauth.ErrorCode) error {
	cfg := f.cfg
	for i := 0; next != ""; i++ {
		if i == maxInterruptions {
			return &StepError{Flow: f.name, Step: StepSignUpContinueAttributes, Err: unexpected("tenant still answers %s after %d submissions", next, i)}
		}
		switch next {
		case nativeauth.ErrCredentialRequired:
			if err := f.submitPassword(ctx, r, password, types, ct, &next); err != nil {
				return err
			}
		case nativeauth.ErrAttributesRequired:
			next = ""
			err := r.do(ctx, StepSignUpContinueAttributes, func(ctx context.Context) (outcome, error) {
				res, err := cfg.Client.SignUpContinue(ctx, nativeauth.SignUpContinueRequest{ContinuationToken: *ct, GrantType: nativeauth.GrantTypeAttributes, Attributes: cfg.Attributes})
				return f.continuation(res, err, ct)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// submitPassword answers credential_required: the password challenge, then
// the password.
func (f *signUp) submitPassword(ctx context.Context, r *iter, password nativeauth.Secret, types []nativeauth.ChallengeType, ct *nativeauth.Secret, next *nativeauth.ErrorCode) error {
	cfg := f.cfg
	err := r.do(ctx, StepSignUpChallengePassword, func(ctx context.Context) (outcome, error) {
		return challenge(cfg.Client.SignUpChallenge, ctx, *ct, types, nativeauth.ChallengeTypePassword, ct)
	})
	if err != nil {
		return err
	}
	*next = ""
	return r.do(ctx, StepSignUpContinuePassword, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.SignUpContinue(ctx, nativeauth.SignUpContinueRequest{ContinuationToken: *ct, GrantType: nativeauth.GrantTypePassword, Password: password})
		return f.interruptible(res, err, ct, next, false)
	})
}

// continuation turns a ContinuationResult into a step outcome and keeps its
// continuation token.
func (f *signUp) continuation(res *nativeauth.ContinuationResult, err error, ct *nativeauth.Secret) (outcome, error) {
	return continuationOutcome(res, err, ct)
}

// interruptible is continuation for the calls that may answer
// attributes_required or, when credential is true, credential_required:
// those set next and carry the continuation token to go on with. A
// credential_required the flow does not expect (it sent the password at
// start, or it has none to send on an OTP sign-up) stays a failure.
func (f *signUp) interruptible(res *nativeauth.ContinuationResult, err error, ct *nativeauth.Secret, next *nativeauth.ErrorCode, credential bool) (outcome, error) {
	out, err := continuationOutcome(res, err, ct)
	out.expected = []nativeauth.ErrorCode{nativeauth.ErrAttributesRequired}
	if credential {
		out.expected = append(out.expected, nativeauth.ErrCredentialRequired)
	}
	if ae, ok := asAPIError(err); ok && slices.Contains(out.expected, ae.code) {
		if ae.continuationToken == "" {
			// Without a token the flow cannot go on: a failure, not a turn.
			out.expected = nil
			return out, err
		}
		*ct = ae.continuationToken
		*next = ae.code
	}
	return out, err
}

func continuationOutcome(res *nativeauth.ContinuationResult, err error, ct *nativeauth.Secret) (outcome, error) {
	if err != nil || res == nil {
		if err == nil {
			err = unexpected("no answer")
		}
		return outcome{}, err
	}
	out := outcome{resp: res.Response, redirect: res.Redirect}
	if res.Redirect == nil {
		if res.ContinuationToken == "" {
			return out, unexpected("success without a continuation_token")
		}
		*ct = res.ContinuationToken
	}
	return out, nil
}

// challenge calls a challenge endpoint and requires the given challenge
// type in the answer.
func challenge(call func(context.Context, nativeauth.ChallengeRequest) (*nativeauth.ChallengeResult, error), ctx context.Context, ct nativeauth.Secret, types []nativeauth.ChallengeType, want nativeauth.ChallengeType, next *nativeauth.Secret) (outcome, error) {
	res, err := call(ctx, nativeauth.ChallengeRequest{ContinuationToken: ct, ChallengeTypes: types})
	if err != nil || res == nil {
		if err == nil {
			err = unexpected("no answer")
		}
		return outcome{}, err
	}
	out := outcome{resp: res.Response, redirect: res.Redirect}
	if res.Redirect != nil {
		return out, nil
	}
	if res.ChallengeType != want {
		return out, unexpected("challenge_type %q, want %q", res.ChallengeType, want)
	}
	if res.ContinuationToken == "" {
		return out, unexpected("challenge without a continuation_token")
	}
	*next = res.ContinuationToken
	return out, nil
}

// tokenOutcome keeps the token answer for the caller.
func tokenOutcome(res *nativeauth.TokenResult, err error, keep **nativeauth.TokenResult) (outcome, error) {
	if err != nil || res == nil {
		if err == nil {
			err = unexpected("no answer")
		}
		return outcome{}, err
	}
	if keep != nil {
		*keep = res
	}
	if res.AccessToken == "" && res.IDToken == "" {
		return outcome{resp: res.Response}, unexpected("token answer without access_token or id_token")
	}
	return outcome{resp: res.Response}, nil
}
