// Package scenarios writes the native authentication flows once, on the
// nativeauth client. A Walker holds each step of each flow (sign-up start,
// a challenge, a continue, a reset submit, a poll, a token request): it
// builds the typed request, sends it and keeps the answer and the
// continuation token in a Progress. The load generator runs the flows as
// Flows of named, timed steps (signup.start, otp.wait, …) on Walker steps;
// the conformance suites walk the same steps one call at a time, checking
// each answer, and Reach hands them the typed call a flow is about to send
// to any endpoint, for a trigger to change.
package scenarios

import (
	"context"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// StepName is a stable, dotted step name such as "signup.start" or "otp.wait".
// Reports and thresholds key on it, so a name never changes meaning.
type StepName string

// StepResult is what one step of one flow iteration observed. Timestamps are
// wall-clock instants taken from one monotonic clock.
type StepResult struct {
	Flow string
	Step StepName
	// IntendedStart is when the step should have started: the scheduled
	// arrival for a flow's first step, the previous step's Done for later
	// ones. Response time is Done-IntendedStart (coordinated-omission
	// correct); service time is Done-Sent.
	IntendedStart time.Time
	Sent          time.Time
	Done          time.Time
	// HTTPStatus is 0 when no HTTP answer was read (transport error, otp.wait).
	HTTPStatus int
	Error      nativeauth.ErrorCode
	Suberror   nativeauth.Suberror
	// Redirect is set when the API answered {"challenge_type":"redirect"}.
	Redirect bool
	// RetryAfter is the server's Retry-After on a 429/503, zero otherwise.
	RetryAfter time.Duration
	// Expected is set when Error is a documented turn of this flow
	// (credential_required, attributes_required answered where the flow
	// asks for them next), not a failure: Err is then nil.
	Expected bool
	// Err is any failure of the step: an API error, a protocol error, a
	// transport error or an unexpected outcome. Nil means the step succeeded.
	Err error
}

// Observer receives every step result as it happens. Implementations must be
// safe for concurrent use by many iterations.
type Observer interface {
	ObserveStep(StepResult)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(StepResult)

// ObserveStep calls f(r).
func (f ObserverFunc) ObserveStep(r StepResult) { f(r) }

// Iteration carries what one run of a flow needs from its driver.
type Iteration struct {
	// IntendedStart is the scheduled start of the iteration (open model) or
	// the moment the virtual user began it (closed model).
	IntendedStart time.Time
	// Seq is a number unique within the run, used to derive fresh usernames.
	Seq uint64
	// Observer gets every step; nil discards them.
	Observer Observer
}

// Flow runs one iteration of a named flow and returns its first failure.
type Flow interface {
	Name() string
	Run(ctx context.Context, it Iteration) error
}
