package scenarios

import (
	"context"
	"slices"

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
	// registration is what registration_required at the token call means
	// (a setup sign-up on a tenant that requires MFA).
	registration registration
}

func (f *signUp) Name() string { return f.name }

// maxInterruptions bounds the credential/attributes requests one sign-up
// follows, so a tenant that keeps asking cannot loop a flow forever.
const maxInterruptions = 4

func (f *signUp) Run(ctx context.Context, it Iteration) error {
	w, r := f.cfg.walker(f.name), newIter(f.name, it)
	p := &Progress{Username: f.cfg.Users.New(f.name)}
	if f.passwordAtStart || f.passwordAtContinue {
		pw, err := w.NewPassword()
		if err != nil {
			return &StepError{Flow: f.name, Step: StepSignUpStart, Err: err}
		}
		p.Password = pw
	}
	var attrs nativeauth.Attributes
	if f.passwordAtStart {
		attrs = f.cfg.Attributes
	}
	err := r.do(ctx, StepSignUpStart, func(ctx context.Context) (outcome, error) {
		return p.outcome(w.SignUpStart(ctx, p, f.passwordAtStart, attrs))
	})
	if err != nil {
		return err
	}
	err = r.do(ctx, StepSignUpChallenge, func(ctx context.Context) (outcome, error) {
		return p.outcome(challenged(w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge))(nativeauth.ChallengeTypeOOB))
	})
	if err != nil {
		return err
	}
	code, err := r.waitOTP(ctx, w, p)
	if err != nil {
		return err
	}
	var next nativeauth.ErrorCode // the interruption the tenant answered, "" when done
	err = r.do(ctx, StepSignUpContinueOOB, func(ctx context.Context) (outcome, error) {
		err := w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypeOOB, OOB: code})
		return turn(p, err, &next, f.passwordAtContinue)
	})
	if err != nil {
		return err
	}
	if err := f.followTurns(ctx, r, w, p, next); err != nil {
		return err
	}
	registered := false
	err = r.do(ctx, StepTokenContinuation, func(ctx context.Context) (outcome, error) {
		_, err := w.Token(ctx, p, ContinuationTokenRequest(p, f.cfg.Scopes))
		if f.registration != registrationFails && nativeauth.IsError(err, nativeauth.ErrInvalidGrant, nativeauth.SuberrorRegistrationRequired) {
			registered = true
			return secondFactorTurn(p, err, nativeauth.SuberrorRegistrationRequired)
		}
		return p.outcome(err)
	})
	if err != nil {
		return err
	}
	if registered && f.registration == registerAfterSignUp {
		if _, err := registerEmail(ctx, r, w, p); err != nil {
			return err
		}
	}
	if f.keep {
		f.cfg.Pool.Put(Credential{Username: p.Username, Password: p.Password})
	}
	return nil
}

// followTurns answers what the tenant asks for after the code
// (credential_required, attributes_required) until it asks no more, at most
// maxInterruptions times.
func (f *signUp) followTurns(ctx context.Context, r *iter, w *Walker, p *Progress, next nativeauth.ErrorCode) error {
	for i := 0; next != ""; i++ {
		if i == maxInterruptions {
			return &StepError{Flow: f.name, Step: StepSignUpContinueAttributes, Err: unexpected("tenant still answers %s after %d submissions", next, i)}
		}
		switch next {
		case nativeauth.ErrCredentialRequired:
			if err := f.submitPassword(ctx, r, w, p, &next); err != nil {
				return err
			}
		case nativeauth.ErrAttributesRequired:
			next = ""
			err := r.do(ctx, StepSignUpContinueAttributes, func(ctx context.Context) (outcome, error) {
				return p.outcome(w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypeAttributes, Attributes: f.cfg.Attributes}))
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
func (f *signUp) submitPassword(ctx context.Context, r *iter, w *Walker, p *Progress, next *nativeauth.ErrorCode) error {
	err := r.do(ctx, StepSignUpChallengePassword, func(ctx context.Context) (outcome, error) {
		return p.outcome(challenged(w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge))(nativeauth.ChallengeTypePassword))
	})
	if err != nil {
		return err
	}
	*next = ""
	return r.do(ctx, StepSignUpContinuePassword, func(ctx context.Context) (outcome, error) {
		err := w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypePassword, Password: p.Password})
		return turn(p, err, next, false)
	})
}

// turn is the outcome of a call that may answer attributes_required or,
// when credential is true, credential_required: those set next, and p
// carries the continuation token to go on with. A credential_required the
// flow does not expect (it sent the password at start, or it has none to
// send on an OTP sign-up) stays a failure, as does a turn without a token.
func turn(p *Progress, err error, next *nativeauth.ErrorCode, credential bool) (outcome, error) {
	out := outcome{resp: p.Last, expected: []nativeauth.ErrorCode{nativeauth.ErrAttributesRequired}}
	if credential {
		out.expected = append(out.expected, nativeauth.ErrCredentialRequired)
	}
	if ae, ok := asAPIError(err); ok && slices.Contains(out.expected, ae.code) {
		if ae.continuationToken == "" {
			// Without a token the flow cannot go on: a failure, not a turn.
			out.expected = nil
			return out, err
		}
		*next = ae.code
	}
	return out, err
}

// outcome is a step's outcome from what the walk recorded.
func (p *Progress) outcome(err error) (outcome, error) { return outcome{resp: p.Last}, err }

// challenged requires the challenge type a flow needs in a challenge
// answer: challenged(w.Challenge(…))(want).
func challenged(res *nativeauth.ChallengeResult, err error) func(want nativeauth.ChallengeType) error {
	return func(want nativeauth.ChallengeType) error {
		if err == nil && res.ChallengeType != want {
			return unexpected("challenge_type %q, want %q", res.ChallengeType, want)
		}
		return err
	}
}
