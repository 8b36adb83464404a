package conformance

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/check"
)

// flowEntries maps the flow specs' keys to the catalog entries each one
// proves step by step.
var flowEntries = map[string][]string{
	"signup.password-at-start": {"signup.start.success.with_password_and_attributes", "signup.challenge.oob.success",
		"signup.continue.oob.success", "signup.token.success"},
	"signin.password": {"signin.initiate.success", "signin.challenge.password.success", "signin.token.password.success"},
	"signup.otp":      {"signup.start.success", "signup.challenge.oob.success", "signup.continue.oob.success", "signup.token.success"},
	"signup.credential-required": {"signup.continue.error.credential_required", "signup.challenge.password.success",
		"signup.continue.password.success"},
	"signup.attributes-at-continue":         {"signup.continue.error.attributes_required", "signup.continue.attributes.success"},
	"signup.optional-after-verification":    {"signup.continue.attributes.success"},
	"signup.new-challenge-invalidates-code": {"protocol.oob.superseded.signup"},
	"signin.refresh":                        {"signin.token.refresh_token.success", "protocol.token.refresh_token_only_with_offline_access"},
	"signin.otp":                            {"signin.challenge.oob.success", "signin.token.oob.success"},
	"sspr.reset": {"sspr.start.success", "sspr.challenge.oob.success", "sspr.continue.success", "sspr.submit.success",
		"sspr.poll_completion.status.succeeded"},
	"sspr.signin-after-reset":    {"sspr.token.success"},
	"sspr.old-password-rejected": {"signin.token.error.invalid_grant"},
}

// FlowID is the first catalog ID a flow spec proves, "" for an unknown key.
func FlowID(key string) string {
	if ids := flowEntries[key]; len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// flowIt is a flow spec: its text and labels name the entries it proves,
// and its body gets their IDs for failure messages.
func flowIt(key, text string, body func(ctx SpecContext, id string)) {
	ids := flowEntries[key]
	It(specText(text, ids...), entryLabels(ids...), func(ctx SpecContext) { body(ctx, strings.Join(ids, ",")) })
}

// flowLabels are the labels of a flow container.
func flowLabels(flow string, method nativeauth.SignUpMethod) Labels {
	ls := Labels{"flow:" + flow}
	if method != "" {
		ls = append(ls, "method:"+string(method))
	}
	return ls
}

// must fails the spec with the catalog entry named when err is not nil.
func must(id string, err error) {
	GinkgoHelper()
	Expect(check.In(id, err)).To(Succeed())
}

// ok fails the spec when a setup step failed.
func ok(err error) {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred(), "setup")
}

// answer checks a flow step's answer with what the page documents (naming
// the broken field), then that the step let the flow go on.
func answer(id string, p *scenarios.Progress, err error, documented func(*nativeauth.Response) (check.Body, error)) check.Body {
	GinkgoHelper()
	if p.Last == nil {
		ok(err)
	}
	b, cerr := documented(p.Last)
	must(id, cerr)
	ok(err)
	return b
}

// continuation is check.Continuation as a step check.
func continuation(resp *nativeauth.Response) (check.Body, error) { return check.Continuation(resp) }

// oobChallenge checks an oob challenge sent to username.
func oobChallenge(username string) func(*nativeauth.Response) (check.Body, error) {
	return func(resp *nativeauth.Response) (check.Body, error) { return check.OOBChallenge(resp, username) }
}

// documentedError checks an error answer that the flow goes on from.
func documentedError(want check.ErrorWant) func(*nativeauth.Response) (check.Body, error) {
	return func(resp *nativeauth.Response) (check.Body, error) { return check.Error(resp, want) }
}

// token sends a token request and checks the answer, its scopes and its
// id_token.
func token(ctx SpecContext, id string, w *scenarios.Walker, p *scenarios.Progress, req nativeauth.TokenRequest) *nativeauth.TokenResult {
	GinkgoHelper()
	res, err := w.Token(ctx, p, req)
	if p.Last == nil {
		ok(err)
	}
	_, cerr := check.Token(p.Last, check.TokenWant{Scopes: req.Scopes})
	must(id, cerr)
	ok(err)
	verifyIDToken(ctx, id, p.Last)
	return res
}

// Flows end to end: each container walks one documented flow with the
// scenarios' Walker and names the catalog entries its steps prove.
var _ = Describe("flow", func() {
	describeSignUpFlows()
	describeSignUpTurns()
	describeSignInFlows()
	describeResetFlow()
})

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
	p, err := w.StartSignUp(ctx, tag, password, nil)
	ok(err)
	_, err = w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge)
	ok(err)
	err = w.SubmitSignUpCode(ctx, p)
	return w, p, answer(id, p, ignore(err, want.Error), documentedError(want))
}

func credentialRequired(ctx SpecContext, id string) {
	needMethod(nativeauth.SignUpMethodPassword)
	w, p, b := untilCodeAnswer(ctx, id, "su-cred", false, check.ErrorWant{HTTPStatus: http.StatusBadRequest,
		Error: nativeauth.ErrCredentialRequired, ErrorCodes: []int{nativeauth.CodeCredentialRequired}})
	must(id, b.Field("continuation_token", check.KindString))
	_, err := w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge, scenarios.PasswordTypes...)
	answer(id, p, err, check.PasswordChallenge)
	pw, err := w.NewPassword()
	ok(err)
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
	if len(env.Expect.RequiredAttributes()) == 0 {
		Skip("the tenant is expected to have no required attribute")
	}
	w, p, b := untilCodeAnswer(ctx, id, "su-attr", env.Expect.SignUpMethod == nativeauth.SignUpMethodPassword,
		check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrAttributesRequired})
	must(id, b.AttributeList("required_attributes"))
	for name := range w.Attributes {
		Expect(b.AttributeNames("required_attributes")).To(ContainElement(name), "[catalog:%s] body.required_attributes must list %s", id, name)
	}
	err := w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypeAttributes, Attributes: w.Attributes})
	answer(id, p, err, continuation)
}

func optionalAfterVerification(ctx SpecContext, id string) {
	i := slices.IndexFunc(env.Expect.Attributes, func(a profile.AttributeSpec) bool { return !a.Required })
	if i < 0 {
		Skip("the tenant is expected to have no optional attribute")
	}
	opt := env.Expect.Attributes[i]
	w := env.Walker()
	p, err := w.StartSignUp(ctx, "su-opt", env.Expect.SignUpMethod == nativeauth.SignUpMethodPassword, w.Attributes)
	ok(err)
	_, err = w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge)
	ok(err)
	answer(id, p, w.SubmitSignUpCode(ctx, p), continuation)
	// The table: optional attributes cannot be sent to continue after
	// username verification.
	err = w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypeAttributes,
		Attributes: nativeauth.Attributes{opt.Name: opt.ValidValue()}})
	if p.Last == nil {
		ok(err)
	}
	_, err = check.Envelope(p.Last)
	must(id, err)
	Expect(p.Last.HTTPStatus).To(Equal(http.StatusBadRequest), "[catalog:%s] status: an optional attribute after verification must be refused", id)
}

func newChallengeVoidsCode(ctx SpecContext, id string) {
	w := env.Walker()
	p, err := w.StartSignUp(ctx, "su-rechallenge", env.Expect.SignUpMethod == nativeauth.SignUpMethodPassword, w.Attributes)
	ok(err)
	_, err = w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge)
	ok(err)
	first, err := w.Code(ctx, p.Username, p.Since)
	ok(err)
	// The emulator's clock and a real mailbox both need the second code to
	// be observably later.
	since := env.Now()
	_, err = w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge)
	answer(id, p, err, oobChallenge(p.Username))
	second, err := w.Code(ctx, p.Username, since)
	ok(err)
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

// describeSignInFlows: refresh tokens and sign-in by passcode.
func describeSignInFlows() {
	Describe("sign-in", Serial, flowLabels("signin", ""), func() {
		flowIt("signin.refresh", "refresh_token only with offline_access, and usable", refreshOnlyWithOfflineAccess)
		flowIt("signin.otp", "signs in with an email one-time passcode", func(ctx SpecContext, id string) {
			needMethod(nativeauth.SignUpMethodOTP)
			w := env.Walker()
			u, err := env.ExistingUser(ctx)
			ok(err)
			p, err := w.StartSignIn(ctx, u)
			ok(err)
			_, err = w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge)
			answer(id, p, err, oobChallenge(u.Username))
			req, err := w.SignInToken(ctx, p, w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess))
			ok(err)
			token(ctx, id, w, p, req)
		})
	})
}

func refreshOnlyWithOfflineAccess(ctx SpecContext, id string) {
	needMethod(nativeauth.SignUpMethodPassword)
	u, err := env.ExistingUser(ctx)
	ok(err)
	t := signInWithPassword(ctx, id, u)
	w := env.Walker()
	p := &scenarios.Progress{Username: u.Username}
	token(ctx, id, w, p, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeRefreshToken, RefreshToken: t.RefreshToken,
		Scopes: w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)})
	// Without offline_access: no refresh token. The profile's scopes
	// usually hold offline_access, so it is taken out of them.
	scopes := slices.DeleteFunc(w.ScopesWith(nativeauth.ScopeOpenID), func(s string) bool { return s == nativeauth.ScopeOfflineAccess })
	p, err = w.StartSignIn(ctx, u)
	ok(err)
	_, err = w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge, scenarios.PasswordTypes...)
	ok(err)
	req, err := w.SignInToken(ctx, p, scopes)
	ok(err)
	token(ctx, id, w, p, req)
}

// signInWithPassword runs initiate → challenge (password) → token with
// openid offline_access and checks each answer.
func signInWithPassword(ctx SpecContext, id string, user scenarios.Credential) *nativeauth.TokenResult {
	GinkgoHelper()
	w := env.Walker()
	p, err := w.StartSignIn(ctx, user)
	answer(id, p, err, continuation)
	_, err = w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge, scenarios.PasswordTypes...)
	answer(id, p, err, check.PasswordChallenge)
	return token(ctx, id, w, p, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypePassword, ContinuationToken: p.ContinuationToken,
		Password: user.Password, Scopes: w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)})
}

// describeResetFlow: a reset to the end, then signing in with its token,
// and the old password refused.
func describeResetFlow() {
	Describe("self-service password reset", Ordered, Serial, flowLabels("sspr", nativeauth.SignUpMethodPassword), func() {
		var user scenarios.Credential
		var newPassword nativeauth.Secret
		var done *scenarios.Progress
		BeforeAll(func(ctx SpecContext) {
			needMethod(nativeauth.SignUpMethodPassword)
			if !env.Expect.SSPR {
				Skip("the tenant is expected to have self-service password reset disabled")
			}
			p, err := env.Walker().CompleteSignUp(ctx, "sspr")
			ok(err)
			user = scenarios.Credential{Username: p.Username, Password: p.Password}
		})
		flowIt("sspr.reset", "resets to a new password and polls to completion", func(ctx SpecContext, id string) {
			done, newPassword = reset(ctx, id, user)
		})
		flowIt("sspr.signin-after-reset", "signs in directly with the poll continuation token", func(ctx SpecContext, id string) {
			needEarlier(done != nil)
			w := env.Walker()
			token(ctx, id, w, done, scenarios.ContinuationTokenRequest(done, w.ScopesWith(nativeauth.ScopeOpenID)))
		})
		flowIt("sspr.old-password-rejected", "the old password no longer works, the new one does", func(ctx SpecContext, id string) {
			needEarlier(newPassword != "")
			w := env.Walker()
			p, err := w.StartSignIn(ctx, user)
			ok(err)
			_, err = w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge, scenarios.PasswordTypes...)
			ok(err)
			req, err := w.SignInToken(ctx, p, w.ScopesWith(nativeauth.ScopeOpenID))
			ok(err)
			_, err = w.Token(ctx, p, req)
			answer(id, p, ignore(err, nativeauth.ErrInvalidGrant), documentedError(check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrInvalidGrant}))
			signInWithPassword(ctx, id, scenarios.Credential{Username: user.Username, Password: newPassword})
		})
	})
}

// reset walks a reset for user to a succeeded poll, checking every answer,
// and returns it with the new password.
func reset(ctx SpecContext, id string, user scenarios.Credential) (*scenarios.Progress, nativeauth.Secret) {
	w := env.Walker()
	p, err := w.StartReset(ctx, user)
	ok(err)
	_, err = w.Challenge(ctx, p, nativeauth.EndpointResetChallenge)
	answer(id, p, err, oobChallenge(user.Username))
	code, err := w.Code(ctx, p.Username, p.Since)
	ok(err)
	answer(id, p, w.ResetContinue(ctx, p, code), check.ResetContinue)
	pw, err := w.NewPassword()
	ok(err)
	answer(id, p, w.ResetSubmit(ctx, p, pw), check.ResetSubmit)
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := w.Poll(ctx, p)
		answer(id, p, err, check.Poll)
		if st == nativeauth.PollStatusSucceeded {
			return p, pw
		}
		Expect(st).NotTo(Equal(nativeauth.PollStatusFailed), "[catalog:%s] body.status: reset failed", id)
		Expect(time.Now().Before(deadline)).To(BeTrue(), "[catalog:%s] body.status: still %s after 30s", id, st)
		// poll_interval is the minimum wait the page asks of the app.
		select {
		case <-ctx.Done():
			return nil, ""
		case <-time.After(p.PollInterval):
		}
	}
}

// needEarlier skips a step of an Ordered flow whose earlier step did not
// run because a focus or label filter left it out (an earlier step that
// failed makes Ginkgo skip the rest by itself). Without it, focusing on the
// catalog ID of a later step fails a conforming target.
func needEarlier(ran bool) {
	GinkgoHelper()
	if !ran {
		Skip("the earlier step of this flow did not run (left out by --focus or --label-filter); select the whole flow")
	}
}

// needMethod switches a tenant of the other sign-up method to method
// through the configuration backdoor for the rest of the spec (or of its
// Ordered container, from a BeforeAll), and skips the spec on a tenant
// expected to use the other method that has no backdoor. Flows that call it
// are Serial: the switch holds for the whole tenant.
func needMethod(method nativeauth.SignUpMethod) {
	GinkgoHelper()
	if env.Expect.SignUpMethod == method {
		return
	}
	if env.Backdoor == nil {
		Skip("the tenant is expected to use " + string(env.Expect.SignUpMethod) + " sign-up; this case needs " + string(method))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok(setMethod(ctx, env, method))
}
