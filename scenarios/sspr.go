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
	user, ok := f.cfg.Pool.Take()
	if !ok {
		return &StepError{Flow: f.name, Step: StepSSPRStart, Err: ErrPoolEmpty}
	}
	run := &reset{f: f, cfg: f.cfg, r: newIter(f.name, it), user: user, types: f.cfg.challengeTypes(f.name)}
	defer run.release()
	for _, step := range []func(context.Context) error{run.start, run.challenge, run.verify, run.submit, run.poll, run.signIn} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// reset is one iteration of the reset flow.
type reset struct {
	f     *sspr
	cfg   *Config
	r     *iter
	user  Credential
	types []nativeauth.ChallengeType
	ct    nativeauth.Secret
	since time.Time // when the last code was asked for
	// Until submit succeeds the old password is in force; after a final
	// poll it is the new one; in between it is unknown and the user is
	// dropped rather than handed to a sign-in that would fail.
	state       pwState
	newPassword nativeauth.Secret
	interval    time.Duration // between polls
}

// release gives the user back to the pool with the password in force.
func (s *reset) release() {
	switch s.state {
	case pwOld:
		s.cfg.Pool.Put(s.user)
	case pwNew:
		s.cfg.Pool.Put(Credential{Username: s.user.Username, Password: s.newPassword})
	default:
		slog.Warn("user dropped from the pool: reset outcome unknown", "flow", s.f.name, "username", s.user.Username)
		s.cfg.Pool.Drop()
	}
}

func (s *reset) start(ctx context.Context) error {
	return s.r.do(ctx, StepSSPRStart, func(ctx context.Context) (outcome, error) {
		res, err := s.cfg.Client.ResetStart(ctx, nativeauth.ResetStartRequest{Username: s.user.Username, ChallengeTypes: s.types})
		return continuationOutcome(res, err, &s.ct)
	})
}

// challenge asks for the code, twice for sspr-resend (the user asks for a
// new code once); since is the last challenge's: after a resend only the
// new code counts.
func (s *reset) challenge(ctx context.Context) error {
	challenges := 1
	if s.f.resend {
		challenges = 2
	}
	for range challenges {
		s.since = time.Now()
		err := s.r.do(ctx, StepSSPRChallenge, func(ctx context.Context) (outcome, error) {
			return challenge(s.cfg.Client.ResetChallenge, ctx, s.ct, s.types, nativeauth.ChallengeTypeOOB, &s.ct)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// verify waits for the code and submits it.
func (s *reset) verify(ctx context.Context) error {
	code, err := s.r.waitOTP(ctx, s.cfg.OTP, s.cfg.OTPTimeout, s.user.Username, s.since)
	if err != nil {
		return err
	}
	return s.r.do(ctx, StepSSPRContinue, func(ctx context.Context) (outcome, error) {
		res, err := s.cfg.Client.ResetContinue(ctx, nativeauth.ResetContinueRequest{ContinuationToken: s.ct, OOB: code})
		if err != nil || res == nil {
			return outcome{}, orNoAnswer(err)
		}
		out := outcome{resp: res.Response}
		if res.ContinuationToken == "" {
			return out, unexpected("continue without a continuation_token")
		}
		s.ct = res.ContinuationToken
		return out, nil
	})
}

func (s *reset) submit(ctx context.Context) error {
	pw, err := NewPassword(s.cfg.Password)
	if err != nil {
		return &StepError{Flow: s.f.name, Step: StepSSPRSubmit, Err: err}
	}
	s.newPassword = nativeauth.Secret(pw)
	err = s.r.do(ctx, StepSSPRSubmit, func(ctx context.Context) (outcome, error) {
		res, err := s.cfg.Client.ResetSubmit(ctx, nativeauth.ResetSubmitRequest{ContinuationToken: s.ct, NewPassword: s.newPassword})
		if err != nil || res == nil {
			return outcome{}, orNoAnswer(err)
		}
		s.state = pwUnknown
		out := outcome{resp: res.Response}
		if res.ContinuationToken == "" {
			return out, unexpected("submit without a continuation_token")
		}
		s.ct = res.ContinuationToken
		s.interval = time.Duration(res.PollInterval) * time.Second
		return out, nil
	})
	if s.cfg.PollInterval > 0 {
		s.interval = s.cfg.PollInterval
	}
	return err
}

// poll polls until the reset succeeded, at most MaxPolls times.
func (s *reset) poll(ctx context.Context) error {
	var status nativeauth.PollStatus
	for polls := 0; status != nativeauth.PollStatusSucceeded; polls++ {
		if polls == s.cfg.MaxPolls {
			return &StepError{Flow: s.f.name, Step: StepSSPRPoll, Err: unexpected("status still %q after %d polls", status, polls)}
		}
		if polls > 0 {
			if err := s.r.pause(ctx, s.interval); err != nil {
				return &StepError{Flow: s.f.name, Step: StepSSPRPoll, Err: err}
			}
		}
		err := s.r.do(ctx, StepSSPRPoll, func(ctx context.Context) (outcome, error) {
			res, err := s.cfg.Client.ResetPollCompletion(ctx, nativeauth.PollRequest{ContinuationToken: s.ct})
			if err != nil || res == nil {
				return outcome{}, orNoAnswer(err)
			}
			status = res.Status
			return outcome{resp: res.Response}, s.polled(res)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// polled reads one poll answer: what the password now is, and the token.
func (s *reset) polled(res *nativeauth.PollResult) error {
	switch res.Status {
	case nativeauth.PollStatusSucceeded:
		s.state = pwNew
		if res.ContinuationToken == "" {
			return unexpected("succeeded without a continuation_token")
		}
		s.ct = res.ContinuationToken
	case nativeauth.PollStatusFailed:
		s.state = pwOld
		return unexpected("password reset failed (status failed)")
	case nativeauth.PollStatusNotStarted, nativeauth.PollStatusInProgress:
		if res.ContinuationToken != "" {
			s.ct = res.ContinuationToken
		}
	default:
		return unexpected("unknown status %q", res.Status)
	}
	return nil
}

// signIn signs in with the poll's continuation token.
func (s *reset) signIn(ctx context.Context) error {
	return s.r.do(ctx, StepTokenContinuation, func(ctx context.Context) (outcome, error) {
		res, err := s.cfg.Client.Token(ctx, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeContinuationToken,
			ContinuationToken: s.ct, Username: s.user.Username, Scopes: s.cfg.Scopes})
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
