package conformance

import (
	"context"
	"fmt"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

// Tenant changes: cases the tenant's configuration provokes, changed
// through the emulator's backdoor for the rest of the spec.

// noConfigBackdoor is the reason a case that changes the tenant mid-flow
// skips on a target without the emulator's configuration backdoor.
const noConfigBackdoor = "the case changes the tenant's configuration mid-flow, which needs the emulator's configuration backdoor"

// editing is a driver that changes the tenant configuration before the
// reached call is sent.
func editing(edit func(*backdoor.Config)) Driver {
	return func(ctx context.Context, e Env, _ *scenarios.Reached) *nativeauth.Response {
		changed(e.ChangeTenant(ctx, edit), noConfigBackdoor)
		return nil
	}
}

// pollWith makes the tenant answer the given poll statuses after the
// reached submit.
func pollWith(seq ...nativeauth.PollStatus) Driver {
	return editing(func(cfg *backdoor.Config) { cfg.SSPR.PollSequence = seq })
}

// userCreationFails makes the tenant fail the account creation that the
// reached continue (the last step of the sign-up) would do.
var userCreationFails = editing(func(cfg *backdoor.Config) { cfg.FailUserCreation = true })

// emailOTPDisabled turns email one-time passcode off for the tenant's
// users before the reached continue.
var emailOTPDisabled = editing(func(cfg *backdoor.Config) { cfg.OTP.EmailDisabled = true })

// ssprDisabled turns self-service password reset off after the flow
// reached this step (or finds it off on the tenant).
func ssprDisabled(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	if !e.Expect().SSPR {
		return nil
	}
	return editing(func(cfg *backdoor.Config) { cfg.SSPR.Enabled = false })(ctx, e, r)
}

// redirectForced starts a sign-up whose challenge_type list suits a
// passcode tenant, verifies the email, then switches the tenant to email
// with password: at continue the tenant needs a password the app never said
// it could give, and must fall back to the web.
func redirectForced(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	changed(setMethod(ctx, e, nativeauth.SignUpMethodOTP), noConfigBackdoor)
	untilCode(ctx, e, r, "redirect", false, e.Expect().RequiredAttributes())
	ok(setMethod(ctx, e, nativeauth.SignUpMethodPassword))
	return nil
}

// setMethod switches the tenant to sign-up method m for the rest of the
// spec.
func setMethod(ctx context.Context, e Env, m nativeauth.SignUpMethod) error {
	return e.ChangeTenant(ctx, methodSwitch(m).config)
}

// resubmitAfterPollFailed, once the tenant will fail the reset
// (pollWith), submits the reached new password, polls until failed, then
// leaves a submit of another password with the failed poll's token to be
// judged.
func resubmitAfterPollFailed(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	onlyAt(r, catalog.TriggerResubmitAfterFailed, nativeauth.EndpointResetSubmit)
	submit, isSubmit := r.Call.Request.(nativeauth.ResetSubmitRequest)
	if !isSubmit {
		ok(fmt.Errorf("the reached reset submit is a %T", r.Call.Request))
	}
	w := e.Walker()
	p := r.Progress
	ok(w.ResetSubmit(ctx, &p, submit.NewPassword))
	st := got(w.PollUntilFinal(ctx, &p, 30))
	if st != nativeauth.PollStatusFailed {
		ok(fmt.Errorf("the poll answered %q, want %q", st, nativeauth.PollStatusFailed))
	}
	pw := got(w.NewPassword())
	return reached(r, &p, w.Client.Call(nativeauth.EndpointResetSubmit, nativeauth.ResetSubmitRequest{ContinuationToken: p.ContinuationToken, NewPassword: pw}))
}
