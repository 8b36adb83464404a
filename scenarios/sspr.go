package scenarios

import (
	"context"
	"log/slog"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// sspr is self-service password reset: start, challenge (twice for
// sspr-resend: the user asks for a new code once), code, continue, submit
// a new password, poll until the reset is final, then sign in with the
// poll's continuation token. The user goes back to the pool with the
// password that is in force.
type sspr struct {
	pooledFlow
	resend bool
}

// Setup fills the pool to n password users through sign-up (not measured).
func (f *sspr) Setup(ctx context.Context, n int) error {
	return setupPool(ctx, f.cfg, FlowSignUpPassword, n)
}

func (f *sspr) Run(ctx context.Context, it Iteration) error {
	user, ok := f.cfg.Pool.Take()
	if !ok {
		return &StepError{Flow: f.name, Step: StepSSPRStart, Err: ErrPoolEmpty}
	}
	run := &reset{f: f, w: f.cfg.walker(f.name), r: newIter(f.name, it), user: user}
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
	f    *sspr
	w    *Walker
	r    *iter
	user Credential
	p    *Progress
	// Until submit succeeds the old password is in force; after a final
	// poll it is the new one; in between it is unknown and the user is
	// dropped rather than handed to a sign-in that would fail.
	state       pwState
	newPassword nativeauth.Secret
}

// release gives the user back to the pool with the password in force.
func (s *reset) release() {
	switch s.state {
	case pwOld:
		s.f.cfg.Pool.Put(s.user)
	case pwNew:
		s.f.cfg.Pool.Put(Credential{Username: s.user.Username, Password: s.newPassword})
	default:
		slog.Warn("user dropped from the pool: reset outcome unknown", "flow", s.f.name, "username", s.user.Username)
		s.f.cfg.Pool.Drop()
	}
}

func (s *reset) start(ctx context.Context) error {
	return s.r.do(ctx, StepSSPRStart, func(ctx context.Context) (outcome, error) {
		var err error
		s.p, err = s.w.StartReset(ctx, s.user)
		return s.p.outcome(err)
	})
}

// challenge asks for the code, twice for sspr-resend (the user asks for a
// new code once): after a resend only the new code counts.
func (s *reset) challenge(ctx context.Context) error {
	challenges := 1
	if s.f.resend {
		challenges = 2
	}
	for range challenges {
		err := s.r.do(ctx, StepSSPRChallenge, func(ctx context.Context) (outcome, error) {
			return s.p.outcome(challenged(s.w.Challenge(ctx, s.p, nativeauth.EndpointResetChallenge))(nativeauth.ChallengeTypeOOB))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// verify waits for the code and submits it.
func (s *reset) verify(ctx context.Context) error {
	code, err := s.r.waitOTP(ctx, s.w, s.p)
	if err != nil {
		return err
	}
	return s.r.do(ctx, StepSSPRContinue, func(ctx context.Context) (outcome, error) {
		return s.p.outcome(s.w.ResetContinue(ctx, s.p, code))
	})
}

func (s *reset) submit(ctx context.Context) error {
	pw, err := s.w.NewPassword()
	if err != nil {
		return &StepError{Flow: s.f.name, Step: StepSSPRSubmit, Err: err}
	}
	s.newPassword = pw
	err = s.r.do(ctx, StepSSPRSubmit, func(ctx context.Context) (outcome, error) {
		err := s.w.ResetSubmit(ctx, s.p, pw)
		if err == nil {
			s.state = pwUnknown
		}
		return s.p.outcome(err)
	})
	if s.f.cfg.PollInterval > 0 {
		s.p.PollInterval = s.f.cfg.PollInterval
	}
	return err
}

// poll polls until the reset succeeded, at most MaxPolls times.
func (s *reset) poll(ctx context.Context) error {
	var status nativeauth.PollStatus
	for polls := 0; status != nativeauth.PollStatusSucceeded; polls++ {
		if polls == s.f.cfg.MaxPolls {
			return &StepError{Flow: s.f.name, Step: StepSSPRPoll, Err: unexpected("status still %q after %d polls", status, polls)}
		}
		if polls > 0 {
			if err := s.r.pause(ctx, s.p.PollInterval); err != nil {
				return &StepError{Flow: s.f.name, Step: StepSSPRPoll, Err: err}
			}
		}
		err := s.r.do(ctx, StepSSPRPoll, func(ctx context.Context) (outcome, error) {
			var err error
			if status, err = s.w.Poll(ctx, s.p); err != nil {
				return s.p.outcome(err)
			}
			return s.p.outcome(s.polled(status))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// polled reads one poll status: what the password now is.
func (s *reset) polled(status nativeauth.PollStatus) error {
	switch status {
	case nativeauth.PollStatusSucceeded:
		s.state = pwNew
	case nativeauth.PollStatusFailed:
		s.state = pwOld
		return unexpected("password reset failed (status failed)")
	case nativeauth.PollStatusNotStarted, nativeauth.PollStatusInProgress:
	default:
		return unexpected("unknown status %q", status)
	}
	return nil
}

// signIn signs in with the poll's continuation token.
func (s *reset) signIn(ctx context.Context) error {
	return s.r.do(ctx, StepTokenContinuation, func(ctx context.Context) (outcome, error) {
		_, err := s.w.Token(ctx, s.p, ContinuationTokenRequest(s.p, s.f.cfg.Scopes))
		return s.p.outcome(err)
	})
}

// What the pool should hold for a user after a reset attempt.
type pwState int

const (
	pwOld pwState = iota
	pwNew
	pwUnknown
)
