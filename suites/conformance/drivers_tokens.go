package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

// Continuation tokens: missing, changed, replayed, foreign, stale.

// tokenTriggers are the triggers whose protocol entries are shown at an
// endpoint that takes a continuation token (endpointOf).
var tokenTriggers = map[catalog.TriggerName]bool{
	catalog.TriggerTokenMissing: true, catalog.TriggerTokenTampered: true, catalog.TriggerTokenReplayed: true,
	catalog.TriggerTokenOtherFlow: true, catalog.TriggerTokenOtherStep: true, catalog.TriggerTokenExpired: true,
}

// tamper flips characters in the middle of a token, keeping its alphabet,
// so the change is in the protected content, not in padding.
func tamper(tok string) string {
	if len(tok) < 4 {
		return tok + "x"
	}
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func tamperedToken(_ context.Context, _ Env, r *scenarios.Reached) *nativeauth.Response {
	r.Call.Set(nativeauth.ParamContinuationToken, tamper(r.Call.Get(nativeauth.ParamContinuationToken)))
	return nil
}

// replayedToken makes the valid request once, then the spec sends the
// same continuation token to the same call again: the pages make each
// token good for one subsequent request.
func replayedToken(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	first, err := e.Walker().Client.Send(ctx, r.Call)
	setup(err, "setup: first use of the token")
	if first.HTTPStatus != http.StatusOK {
		ok(fmt.Errorf("first use of the token answered %d", first.HTTPStatus))
	}
	return nil
}

// otherFlowToken sends a valid continuation token issued by another flow:
// sign-up's for sign-in endpoints, sign-in's for sign-up and reset ones.
func otherFlowToken(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	w := e.Walker()
	var foreign *scenarios.Progress
	if strings.HasPrefix(string(r.Call.Endpoint), "/oauth2/") {
		foreign = got(w.StartSignUp(ctx, "foreign", e.Expect().SignUpMethod != nativeauth.SignUpMethodOTP, w.Attributes))
	} else {
		foreign = got(w.StartSignIn(ctx, got(w.ExistingUser(ctx))))
	}
	r.Call.Set(nativeauth.ParamContinuationToken, foreign.ContinuationToken.Reveal())
	return nil
}

// otherStepToken sends this flow's token of the step before.
func otherStepToken(_ context.Context, _ Env, r *scenarios.Reached) *nativeauth.Response {
	if r.Previous == "" {
		ok(fmt.Errorf("continuation_token_other_step on %s: no earlier token", r.Call.Endpoint))
	}
	r.Call.Set(nativeauth.ParamContinuationToken, r.Previous.Reveal())
	return nil
}

// expiredToken makes the continuation token outlive its lifetime by moving
// the target's clock. Without a clock backdoor the real-expiry specs (label
// slow) cover the case: they share one wait (describeRealExpiry).
func expiredToken(ctx context.Context, e Env, _ *scenarios.Reached) *nativeauth.Response {
	return advanceClock(ctx, e, defaultContinuationLifetime+time.Minute,
		"the target has no clock backdoor; the real-expiry variant (label slow) covers this case")
}

// advanceClock moves the target's clock by d, or skips with noClock.
func advanceClock(ctx context.Context, e Env, d time.Duration, noClock string) *nativeauth.Response {
	changed(e.AdvanceClock(ctx, d), noClock)
	return nil
}
