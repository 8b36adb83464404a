package conformance

import (
	"net/http"
	"slices"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/check"
)

// The sign-up flows end to end.

// describeSignUpFlows: sign-up to tokens, with the password at start or by
// passcode.
func describeSignUpFlows() {
	Describe("sign-up with password at start", Ordered, Serial, flowLabels("signup", nativeauth.SignUpMethodPassword), func() {
		var user *scenarios.Credential
		BeforeAll(func() { needMethod(nativeauth.SignUpMethodPassword) })
		flowIt("signup.password-at-start", "starts, is challenged by email and continues to tokens", func(ctx SpecContext, id string) {
			p := signUpToTokens(ctx, id, "su-pw", true)
			user = &scenarios.Credential{Username: p.Username, Password: p.Password}
		})
		flowIt("signin.password", "the new user signs in with the password", func(ctx SpecContext, id string) {
			needEarlier(user != nil)
			signInWithPassword(ctx, id, *user)
		})
	})
	Describe("sign-up with email one-time passcode", Ordered, Serial, flowLabels("signup", nativeauth.SignUpMethodOTP), func() {
		// The default emulator signs up with a password: without this flow
		// no passcode sign-up would be checked step by step to tokens.
		BeforeAll(func() { needMethod(nativeauth.SignUpMethodOTP) })
		flowIt("signup.otp", "starts with the attributes, is challenged by email and continues with the code to tokens", func(ctx SpecContext, id string) {
			signUpToTokens(ctx, id, "su-otp", false)
		})
	})
}

// signUpToTokens walks a sign-up with the required attributes at start to
// tokens, checking every answer.
func signUpToTokens(ctx SpecContext, id, tag string, password bool) *scenarios.Progress {
	GinkgoHelper()
	w := env.Walker()
	p, err := w.StartSignUp(ctx, tag, password, w.Attributes)
	answer(id, p, err, continuation)
	_, err = w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge)
	answer(id, p, err, oobChallenge(p.Username))
	answer(id, p, w.SubmitSignUpCode(ctx, p), continuation)
	token(ctx, id, w, p, scenarios.ContinuationTokenRequest(p, w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)))
	return p
}

// describeSignUpTurns: the answers that ask for the next item of a
// sign-up (credential, attributes) and the codes a new challenge voids.
func describeSignUpTurns() {
	Describe("sign-up with password at continue", Ordered, Serial, flowLabels("signup", nativeauth.SignUpMethodPassword), func() {
		flowIt("signup.credential-required", "asks for the credential after email verification, then attributes", credentialRequired)
	})
	// The tenant's own sign-up method: both methods verify the email by
	// code, so these hold for either, and the two specs are independent.
	Describe("sign-up attributes", flowLabels("signup", ""), func() {
		flowIt("signup.attributes-at-continue", "asks for required attributes after verification and accepts them", attributesAtContinue)
		flowIt("signup.optional-after-verification", "refuses an optional attribute sent after verification", optionalAfterVerification)
	})
	Describe("new challenge", flowLabels("signup", ""), func() {
		flowIt("signup.new-challenge-invalidates-code", "a second challenge makes the first code invalid", newChallengeVoidsCode)
	})
}

// untilCodeAnswer walks a sign-up without attributes to the answer after
// the code, which must be the documented error want.
func untilCodeAnswer(ctx SpecContext, id, tag string, password bool, want check.ErrorWant) (*scenarios.Walker, *scenarios.Progress, check.Body) {
	GinkgoHelper()
	w := env.Walker()
	p := got(w.StartSignUp(ctx, tag, password, nil))
	got(w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge))
	err := w.SubmitSignUpCode(ctx, p)
	return w, p, answer(id, p, ignore(err, want.Error), documentedError(want))
}

func credentialRequired(ctx SpecContext, id string) {
	needMethod(nativeauth.SignUpMethodPassword)
	w, p, b := untilCodeAnswer(ctx, id, "su-cred", false, check.ErrorWant{HTTPStatus: http.StatusBadRequest,
		Error: nativeauth.ErrCredentialRequired, ErrorCodes: []int{nativeauth.CodeCredentialRequired}})
	must(id, b.Field("continuation_token", check.KindString))
	_, err := w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge, scenarios.PasswordTypes...)
	answer(id, p, err, check.PasswordChallenge)
	pw := got(w.NewPassword())
	p.Password = pw
	err = w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypePassword, Password: pw})
	if len(w.Attributes) > 0 {
		b = answer(id, p, ignore(err, nativeauth.ErrAttributesRequired), documentedError(check.ErrorWant{HTTPStatus: http.StatusBadRequest,
			Error: nativeauth.ErrAttributesRequired, ErrorCodes: []int{nativeauth.CodeAttributesRequired}}))
		must(id, b.AttributeList("required_attributes"))
		must(id, b.Field("continuation_token", check.KindString))
		err = w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypeAttributes, Attributes: w.Attributes})
	}
	answer(id, p, err, continuation)
	token(ctx, id, w, p, scenarios.ContinuationTokenRequest(p, w.ScopesWith(nativeauth.ScopeOpenID)))
}

// ignore drops an error that is the documented answer of a flow's turn.
func ignore(err error, code nativeauth.ErrorCode) error {
	if nativeauth.IsError(err, code) {
		return nil
	}
	return err
}

func attributesAtContinue(ctx SpecContext, id string) {
	if len(env.Expect().RequiredAttributes()) == 0 {
		Skip("the tenant is expected to have no required attribute")
	}
	w, p, b := untilCodeAnswer(ctx, id, "su-attr", env.Expect().SignUpMethod == nativeauth.SignUpMethodPassword,
		check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrAttributesRequired})
	must(id, b.AttributeList("required_attributes"))
	for name := range w.Attributes {
		listed := b.AttributeNames("required_attributes")
		want(slices.Contains(listed, name), id, "body.required_attributes", "a list naming "+name, listed)
	}
	err := w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypeAttributes, Attributes: w.Attributes})
	answer(id, p, err, continuation)
}

func optionalAfterVerification(ctx SpecContext, id string) {
	i := slices.IndexFunc(env.Expect().Attributes, func(a profile.AttributeSpec) bool { return !a.Required })
	if i < 0 {
		Skip("the tenant is expected to have no optional attribute")
	}
	opt := env.Expect().Attributes[i]
	w := env.Walker()
	p := got(w.StartSignUp(ctx, "su-opt", env.Expect().SignUpMethod == nativeauth.SignUpMethodPassword, w.Attributes))
	got(w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge))
	answer(id, p, w.SubmitSignUpCode(ctx, p), continuation)
	// The table: optional attributes cannot be sent to continue after
	// username verification.
	err := w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypeAttributes,
		Attributes: nativeauth.Attributes{opt.Name: opt.ValidValue()}})
	if p.Last == nil {
		ok(err)
	}
	_, err = check.Envelope(p.Last)
	must(id, err)
	want(p.Last.HTTPStatus == http.StatusBadRequest, id, "status", "400 (an optional attribute after verification is refused)", p.Last.HTTPStatus)
}

func newChallengeVoidsCode(ctx SpecContext, id string) {
	w := env.Walker()
	p := got(w.StartSignUp(ctx, "su-rechallenge", env.Expect().SignUpMethod == nativeauth.SignUpMethodPassword, w.Attributes))
	got(w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge))
	first := got(w.Code(ctx, p.Username, p.Since))
	// The emulator's clock and a real mailbox both need the second code to
	// be observably later.
	since := w.Now()
	_, err := w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge)
	answer(id, p, err, oobChallenge(p.Username))
	second := got(w.Code(ctx, p.Username, since))
	if first == second {
		Skip("the target sent the same code twice; cannot tell the codes apart")
	}
	err = w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypeOOB, OOB: first})
	if p.Last == nil {
		ok(err)
	}
	_, err = check.Error(p.Last, check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrInvalidGrant, Suberror: nativeauth.SuberrorInvalidOOBValue})
	must(id, err)
}
