package scenarios

import (
	"context"
	"log/slog"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// sspr is self-service password reset: start, challenge (twice for
// sspr-resend: the user asks for a new code once), code, continue, submit
// a new password, poll until the reset is final, then sign in with the
// poll's continuation token. The user goes back to the pool with the
// password that is in force.
type sspr struct {
	cfg    *Config
	name   string
	resend bool
}

func (f *sspr) Name() string { return f.name }

// Setup fills the pool to n password users through sign-up (not measured).
func (f *sspr) Setup(ctx context.Context, n int) error {
	return setupPool(ctx, f.cfg, FlowSignUpPassword, n)
}

// Ready fails when the pool has no user, or fewer than concurrency: an
// iteration without a user fails without sending a request.
func (f *sspr) Ready(concurrency int) error { return f.cfg.Pool.ready(concurrency) }

func (f *sspr) Run(ctx context.Context, it Iteration) error {
	cfg := f.cfg
	r := newIter(f.name, it)
	user, ok := cfg.Pool.Take()
	if !ok {
		return &StepError{Flow: f.name, Step: StepSSPRStart, Err: ErrPoolEmpty}
	}
	// Until submit succeeds the old password is in force; after a final
	// poll it is the new one; in between it is unknown and the user is
	// dropped rather than handed to a sign-in that would fail.
	state := pwOld
	newPassword := nativeauth.Secret("")
	defer func() {
		switch state {
		case pwOld:
			cfg.Pool.Put(user)
		case pwNew:
			cfg.Pool.Put(Credential{Username: user.Username, Password: newPassword})
		default:
			slog.Warn("user dropped from the pool: reset outcome unknown", "flow", f.name, "username", user.Username)
			cfg.Pool.Drop()
		}
	}()
	types := cfg.challengeTypes(f.name)

	var ct nativeauth.Secret
	err := r.do(ctx, StepSSPRStart, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.ResetStart(ctx, nativeauth.ResetStartRequest{Username: user.Username, ChallengeTypes: types})
		return continuationOutcome(res, err, &ct)
	})
	if err != nil {
		return err
	}
	challenges := 1
	if f.resend {
		challenges = 2
	}
	var since time.Time
	for range challenges {
		since = time.Now()
		err = r.do(ctx, StepSSPRChallenge, func(ctx context.Context) (outcome, error) {
			return challenge(cfg.Client.ResetChallenge, ctx, ct, types, nativeauth.ChallengeTypeOOB, &ct)
		})
		if err != nil {
			return err
		}
	}
	// since is the last challenge's: after a resend only the new code counts.
	code, err := r.waitOTP(ctx, cfg.OTP, cfg.OTPTimeout, user.Username, since)
	if err != nil {
		return err
	}

	err = r.do(ctx, StepSSPRContinue, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.ResetContinue(ctx, nativeauth.ResetContinueRequest{ContinuationToken: ct, OOB: code})
		if err != nil || res == nil {
			return outcome{}, orNoAnswer(err)
		}
		out := outcome{resp: res.Response}
		if res.ContinuationToken == "" {
			return out, unexpected("continue without a continuation_token")
		}
		ct = res.ContinuationToken
		return out, nil
	})
	if err != nil {
		return err
	}

	pw, err := NewPassword(cfg.Password)
	if err != nil {
		return &StepError{Flow: f.name, Step: StepSSPRSubmit, Err: err}
	}
	newPassword = nativeauth.Secret(pw)
	interval := time.Duration(0)
	err = r.do(ctx, StepSSPRSubmit, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.ResetSubmit(ctx, nativeauth.ResetSubmitRequest{ContinuationToken: ct, NewPassword: newPassword})
		if err != nil || res == nil {
			return outcome{}, orNoAnswer(err)
		}
		state = pwUnknown
		out := outcome{resp: res.Response}
		if res.ContinuationToken == "" {
			return out, unexpected("submit without a continuation_token")
		}
		ct = res.ContinuationToken
		interval = time.Duration(res.PollInterval) * time.Second
		return out, nil
	})
	if err != nil {
		return err
	}
	if cfg.PollInterval > 0 {
		interval = cfg.PollInterval
	}

	var status nativeauth.PollStatus
	for polls := 0; status != nativeauth.PollStatusSucceeded; polls++ {
		if polls == cfg.MaxPolls {
			return &StepError{Flow: f.name, Step: StepSSPRPoll, Err: unexpected("status still %q after %d polls", status, polls)}
		}
		if polls > 0 {
			if err := r.pause(ctx, interval); err != nil {
				return &StepError{Flow: f.name, Step: StepSSPRPoll, Err: err}
			}
		}
		err = r.do(ctx, StepSSPRPoll, func(ctx context.Context) (outcome, error) {
			res, err := cfg.Client.ResetPollCompletion(ctx, nativeauth.PollRequest{ContinuationToken: ct})
			if err != nil || res == nil {
				return outcome{}, orNoAnswer(err)
			}
			out := outcome{resp: res.Response}
			status = res.Status
			switch status {
			case nativeauth.PollStatusSucceeded:
				state = pwNew
				if res.ContinuationToken == "" {
					return out, unexpected("succeeded without a continuation_token")
				}
				ct = res.ContinuationToken
			case nativeauth.PollStatusFailed:
				state = pwOld
				return out, unexpected("password reset failed (status failed)")
			case nativeauth.PollStatusNotStarted, nativeauth.PollStatusInProgress:
				if res.ContinuationToken != "" {
					ct = res.ContinuationToken
				}
			default:
				return out, unexpected("unknown status %q", status)
			}
			return out, nil
		})
		if err != nil {
			return err
		}
	}

	return r.do(ctx, StepTokenContinuation, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.Token(ctx, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeContinuationToken, ContinuationToken: ct, Username: user.Username, Scopes: cfg.Scopes})
		return tokenOutcome(res, err, nil)
	})
}

// What the pool should hold for a user after a reset attempt.
type pwState int

const (
	pwOld pwState = iota
	pwNew
	pwUnknown
)

func orNoAnswer(err error) error {
	if err == nil {
		return unexpected("no answer")
	}
	return err
}
