package scenarios

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// ErrRedirect is wrapped by a flow's error when the API answered
// {"challenge_type":"redirect"}: the flow cannot go on natively.
var ErrRedirect = errors.New("API asked for a web-based fallback (challenge_type redirect)")

// ErrUnexpected is wrapped when an answer is well-formed but not the one
// the flow needs (a password challenge where an oob one was due).
var ErrUnexpected = errors.New("unexpected answer")

// StepError is a flow's failure: which flow, which step, and why.
type StepError struct {
	Flow string
	Step StepName
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Flow, e.Step, e.Err) }

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// iter runs the steps of one iteration and reports each to the observer.
type iter struct {
	flow     string
	obs      Observer
	intended time.Time // IntendedStart of the next step
}

func newIter(flow string, it Iteration) *iter {
	start := it.IntendedStart
	if start.IsZero() {
		start = time.Now()
	}
	return &iter{flow: flow, obs: it.Observer, intended: start}
}

// outcome is what a step's call returned, for the StepResult.
type outcome struct {
	resp *nativeauth.Response
	// expected lists API errors that are a documented turn of this flow
	// rather than a failure (credential_required, attributes_required).
	expected []nativeauth.ErrorCode
	// expectedSuberrors are the same for an error whose suberror alone
	// marks the turn (invalid_grant + mfa_required).
	expectedSuberrors []nativeauth.Suberror
}

// do runs one step: call is the request; it returns what it observed. The
// step's error (nil when the answer was expected) is returned wrapped in a
// *StepError.
func (r *iter) do(ctx context.Context, step StepName, call func(ctx context.Context) (outcome, error)) error {
	before := time.Now()
	out, err := call(ctx)
	done := time.Now()
	res := StepResult{Flow: r.flow, Step: step, IntendedStart: r.intended, Sent: before, Done: done}
	resp := out.resp
	if resp == nil {
		resp = nativeauth.ResponseOf(err)
	}
	if ra, ok := nativeauth.RetryAfter(err); ok {
		res.RetryAfter = ra
	}
	if ae, ok := asAPIError(err); ok {
		res.Error, res.Suberror = ae.code, ae.sub
		for _, c := range out.expected {
			if c == ae.code {
				err = nil
				res.Expected = true
			}
		}
		for _, s := range out.expectedSuberrors {
			if s == ae.sub {
				err = nil
				res.Expected = true
			}
		}
	}
	if resp != nil {
		res.HTTPStatus = resp.HTTPStatus
		if t := resp.Timing.WroteRequest; !t.IsZero() {
			res.Sent = t
		} else if t := resp.Timing.Start; !t.IsZero() {
			res.Sent = t
		}
	}
	res.Redirect = errors.Is(err, ErrRedirect)
	res.Err = err
	r.intended = done
	if r.obs != nil {
		r.obs.ObserveStep(res)
	}
	if err != nil {
		return &StepError{Flow: r.flow, Step: step, Err: err}
	}
	return nil
}

// waitThen makes the next step's intended start the end of a deliberate
// pause (a poll interval), so the pause is not counted as latency.
func (r *iter) pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if err := sleep(ctx, d); err != nil {
		return err
	}
	r.intended = r.intended.Add(d)
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// unexpected builds the error for an answer the flow cannot use.
func unexpected(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnexpected, fmt.Sprintf(format, args...))
}
