package conformance

import (
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
	"github.com/ciamcheck/ciamcheck/suites/check"
)

// The 2026-02 revision's branches end to end, on a tenant that requires MFA
// (the emulator is switched to one through its backdoor).

func describeMFAFlows() {
	Describe("multifactor authentication", Serial, flowLabels("signin", nativeauth.SignUpMethodPassword), Label("revision:2026-02"), func() {
		flowIt("mfa.email", "signs in with a password and an emailed second factor", mfaEmailFlow)
		flowIt("mfa.sms", "registers a phone number, then signs in with an SMS second factor", mfaSMSFlow)
		flowIt("mfa.register-then-sign-in", "registers the email just in time, signs in, and is asked for MFA the next time", mfaRegisterThenSignInFlow)
		flowIt("mfa.after-sign-up", "registers the email the sign-up verified without a code, then signs in", mfaAfterSignUpFlow)
		flowIt("mfa.after-reset", "resets the password, then the token call asks for MFA", mfaAfterResetFlow)
	})
}

// mfaEmailFlow signs in with a password and an emailed second factor.
func mfaEmailFlow(ctx SpecContext, id string) {
	need(profile.CapMFA)
	w := env.Walker()
	u := got(w.UserWithStrongMethod(ctx))
	secondFactor(ctx, id, w, u, nativeauth.ChallengeChannelEmail, nil)
}

// mfaSMSFlow registers a phone number, then signs in with an SMS second factor.
func mfaSMSFlow(ctx SpecContext, id string) {
	need(profile.CapMFA)
	need(profile.CapOutbox) // SMS codes are read from the emulator outbox only
	w := env.Walker()
	u := got(w.UserWithoutStrongMethod(ctx))
	p := got(w.PasswordUntil(ctx, u, nativeauth.SuberrorRegistrationRequired))
	got(w.RegisterIntrospect(ctx, p))
	got(w.RegisterChallenge(ctx, p, nativeauth.ChallengeChannelSMS, "+15550100123"))
	code := got(w.Code(ctx, p.Username, p.Since))
	ok(w.RegisterContinue(ctx, p, code))
	got(w.Token(ctx, p, scenarios.TokenAfterRegistration(p, w.Scopes)))
	secondFactor(ctx, id, w, u, nativeauth.ChallengeChannelSMS, []nativeauth.ChallengeType{nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypeRedirect})
}

// mfaRegisterThenSignInFlow registers the email just in time, signs in, and is asked for MFA the next time.
func mfaRegisterThenSignInFlow(ctx SpecContext, id string) {
	need(profile.CapMFA)
	w := env.Walker()
	u := got(w.UserWithoutStrongMethod(ctx))
	p := got(w.StartSignIn(ctx, u))
	got(w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge))
	_, err := w.Token(ctx, p, scenarios.SignInTokenRequest(p, "", w.Scopes))
	answer(id, p, allowTurn(err), documentedError(check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrInvalidGrant,
		Suberror: nativeauth.SuberrorRegistrationRequired}))
	_, err = w.RegisterIntrospect(ctx, p)
	answer(id, p, err, continuation)
	res, err := w.RegisterChallenge(ctx, p, nativeauth.ChallengeChannelEmail, u.Username)
	answer(id, p, err, continuation)
	if res.ChallengeType != nativeauth.ChallengeTypeOOB {
		must(id, fmt.Errorf("register challenge after a sign-in: challenge_type: want oob, got %s", res.ChallengeType))
	}
	code := got(w.Code(ctx, p.Username, p.Since))
	answer(id, p, w.RegisterContinue(ctx, p, code), continuation)
	token(ctx, id, w, p, scenarios.TokenAfterRegistration(p, w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)))
	_, err = w.PasswordUntil(ctx, u, nativeauth.SuberrorMFARequired)
	must(id, err)
}

// mfaAfterSignUpFlow registers the email the sign-up verified without a code, then signs in.
func mfaAfterSignUpFlow(ctx SpecContext, id string) {
	need(profile.CapMFA)
	w := env.Walker()
	p := got(w.CompleteSignUp(ctx, "mfa-signup"))
	_, err := w.Token(ctx, p, scenarios.ContinuationTokenRequest(p, w.Scopes))
	if !nativeauth.IsError(err, nativeauth.ErrInvalidGrant, nativeauth.SuberrorRegistrationRequired) {
		must(id, fmt.Errorf("token after sign-up: want invalid_grant/registration_required, got %v", err))
	}
	got(w.RegisterIntrospect(ctx, p))
	res := got(w.RegisterChallenge(ctx, p, nativeauth.ChallengeChannelEmail, p.Username))
	if res.ChallengeType != nativeauth.ChallengeTypePreverified {
		must(id, fmt.Errorf("register challenge for the email the sign-up verified: challenge_type: want preverified, got %s", res.ChallengeType))
	}
	answer(id, p, w.RegisterContinue(ctx, p, ""), continuation)
	token(ctx, id, w, p, scenarios.TokenAfterRegistration(p, w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)))
}

// mfaAfterResetFlow resets the password, then the token call asks for MFA.
func mfaAfterResetFlow(ctx SpecContext, id string) {
	need(profile.CapMFA)
	need(profile.CapSSPR)
	w := env.Walker()
	u := got(w.UserWithStrongMethod(ctx))
	p := got(w.StartReset(ctx, u))
	got(w.Challenge(ctx, p, nativeauth.EndpointResetChallenge))
	code := got(w.Code(ctx, p.Username, p.Since))
	ok(w.ResetContinue(ctx, p, code))
	pw := got(w.NewPassword())
	ok(w.ResetSubmit(ctx, p, pw))
	st := got(w.PollUntilFinal(ctx, p, 30))
	if st != nativeauth.PollStatusSucceeded {
		ok(fmt.Errorf("the reset ended %q", st))
	}
	_, err := w.Token(ctx, p, scenarios.ContinuationTokenRequest(p, w.Scopes))
	answer(id, p, allowTurn(err), documentedError(check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrInvalidGrant,
		Suberror: nativeauth.SuberrorMFARequired}))
	mfaFromIntrospect(ctx, id, w, p, nativeauth.ChallengeChannelEmail, nil)
}

// allowTurn makes a documented turn (an error answer carrying a
// continuation token) not a setup failure: answer checks its shape.
func allowTurn(err error) error {
	if ae, isAPI := nativeauth.AsError(err); isAPI && ae.ContinuationToken != "" {
		return nil
	}
	return err
}

// secondFactor signs u in with the password and the second factor on
// channel, checking each answer.
func secondFactor(ctx SpecContext, id string, w *scenarios.Walker, u scenarios.Credential, channel string, types []nativeauth.ChallengeType) {
	GinkgoHelper()
	p, err := w.StartSignIn(ctx, u)
	answer(id, p, err, continuation)
	_, err = w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge, scenarios.PasswordTypes...)
	answer(id, p, err, check.PasswordChallenge)
	_, err = w.Token(ctx, p, scenarios.SignInTokenRequest(p, "", w.Scopes))
	answer(id, p, allowTurn(err), documentedError(check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrInvalidGrant,
		Suberror: nativeauth.SuberrorMFARequired}))
	mfaFromIntrospect(ctx, id, w, p, channel, types)
}

// mfaFromIntrospect runs introspect, the challenge of the method on
// channel (with types as challenge_type, none when nil) and mfa_oob.
func mfaFromIntrospect(ctx SpecContext, id string, w *scenarios.Walker, p *scenarios.Progress, channel string, types []nativeauth.ChallengeType) {
	GinkgoHelper()
	res, err := w.SignInIntrospect(ctx, p)
	answer(id, p, err, continuation)
	intro, _ := catalog.ByID("signin.introspect.success")
	must(id, Answer(intro, p.Last, p.Username, nil))
	var method string
	for _, m := range res.Methods {
		if m.ChallengeChannel == channel {
			method = m.ID
		}
	}
	if method == "" {
		must(id, fmt.Errorf("introspect: methods: want one on channel %s, got %v", channel, res.Methods))
	}
	p.Since = w.Now()
	ch := got(w.Client.SignInChallengeMFA(ctx, nativeauth.MFAChallengeRequest{ContinuationToken: p.ContinuationToken, ID: method, ChallengeTypes: types}))
	p.ContinuationToken = ch.ContinuationToken
	if ch.ChallengeType != nativeauth.ChallengeTypeOOB || ch.ChallengeChannel != channel || !check.IsMasked(ch.ChallengeTargetLabel, p.Username) {
		must(id, fmt.Errorf("MFA challenge: want oob on %s with a masked label, got %s on %s, label %q", channel, ch.ChallengeType, ch.ChallengeChannel, ch.ChallengeTargetLabel))
	}
	code := got(w.Code(ctx, p.Username, p.Since.Add(-w.Skew)))
	token(ctx, id, w, p, scenarios.MFAOOBRequest(p, code, w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)))
}
