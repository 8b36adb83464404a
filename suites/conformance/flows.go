package conformance

import (
	"context"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/suites/check"
)

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

// tokenChecks asserts a token answer and verifies its id_token.
func tokenChecks(ctx SpecContext, id string, s Step, scopes ...string) {
	GinkgoHelper()
	b, err := check.Token(s.Resp, check.TokenWant{Scopes: scopes})
	must(id, err)
	if raw := b.String("id_token"); raw != "" && env.IDTokens != nil {
		_, err := env.IDTokens.Verify(ctx, raw)
		must(id, err)
	}
}

// Flows end to end: each Ordered container walks one documented flow and
// names the catalog entries its steps prove. Steps share state, so a failed
// step skips the rest of its flow.
var _ = Describe("flow", func() {
	Describe("sign-up with password at start", Ordered, Serial, flowLabels("signup", "password"), func() {
		var su *SignUp
		BeforeAll(func() { needMethod("password") })
		It(flowText("signup.password-at-start", "starts, is challenged by email and continues to tokens"), func(ctx SpecContext) {
			var err error
			su, err = env.SignUpStart(ctx, "su-pw", true, env.Tenant.RequiredAttributes())
			ok(err)
			_, err = check.Continuation(su.Last.Resp)
			must(flowID("signup.password-at-start"), err)
			s, err := env.SignUpChallenge(ctx, su)
			ok(err)
			_, err = check.OOBChallenge(s.Resp, su.Username)
			must(flowID("signup.password-at-start"), err)
			s, err = env.SignUpSubmitOTP(ctx, su)
			ok(err)
			_, err = check.Continuation(s.Resp)
			must(flowID("signup.password-at-start"), err)
			t, err := env.Token(ctx, "continuation_token", su.CT, "grant_type", "continuation_token", "username", su.Username, "scope", env.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess))
			ok(err)
			tokenChecks(ctx, flowID("signup.password-at-start"), t, append(env.Scopes, nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)...)
		})
		It(flowText("signin.password", "the new user signs in with the password"), func(ctx SpecContext) {
			needEarlier(su != nil)
			signInWithPassword(ctx, flowID("signin.password"), su.Username, su.Password)
		})
	})

	Describe("sign-up with email one-time passcode", Ordered, Serial, flowLabels("signup", "otp"), func() {
		// The default emulator signs up with a password: without this flow
		// no passcode sign-up would be checked step by step to tokens.
		BeforeAll(func() { needMethod("otp") })
		It(flowText("signup.otp", "starts with the attributes, is challenged by email and continues with the code to tokens"), func(ctx SpecContext) {
			id := flowID("signup.otp")
			su, err := env.SignUpStart(ctx, "su-otp", false, env.Tenant.RequiredAttributes())
			ok(err)
			_, err = check.Continuation(su.Last.Resp)
			must(id, err)
			s, err := env.SignUpChallenge(ctx, su)
			ok(err)
			_, err = check.OOBChallenge(s.Resp, su.Username)
			must(id, err)
			s, err = env.SignUpSubmitOTP(ctx, su)
			ok(err)
			_, err = check.Continuation(s.Resp)
			must(id, err)
			t, err := env.Token(ctx, "continuation_token", su.CT, "grant_type", "continuation_token", "username", su.Username, "scope", env.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess))
			ok(err)
			tokenChecks(ctx, id, t, append(env.Scopes, nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)...)
		})
	})

	Describe("sign-up with password at continue", Ordered, Serial, flowLabels("signup", "password"), func() {
		It(flowText("signup.credential-required", "asks for the credential after email verification, then attributes"), func(ctx SpecContext) {
			needMethod("password")
			id := flowID("signup.credential-required")
			su, err := env.SignUpStart(ctx, "su-cred", false, nil)
			ok(err)
			_, err = env.SignUpChallenge(ctx, su)
			ok(err)
			s, err := env.SignUpSubmitOTP(ctx, su)
			ok(err)
			b, err := check.Error(s.Resp, check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrCredentialRequired, ErrorCodes: []int{nativeauth.CodeCredentialRequired}})
			must(id, err)
			must(id, b.Field("continuation_token", check.KindString))
			s, err = env.call(ctx, nativeauth.EndpointSignUpChallenge, env.Form("continuation_token", su.CT, "challenge_type", "password redirect"))
			ok(err)
			_, err = check.PasswordChallenge(s.Resp)
			must(id, err)
			su.CT = s.CT()
			su.Password = env.NewPassword()
			s, err = env.SignUpContinue(ctx, su, "grant_type", "password", "password", su.Password)
			ok(err)
			if len(env.Tenant.RequiredAttributes()) > 0 {
				b, err = check.Error(s.Resp, check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrAttributesRequired, ErrorCodes: []int{nativeauth.CodeAttributesRequired}})
				must(id, err)
				must(id, b.AttributeList("required_attributes"))
				must(id, b.Field("continuation_token", check.KindString))
				s, err = env.SignUpContinue(ctx, su, "grant_type", "attributes", "attributes", attributesJSON(env.Tenant.RequiredAttributes()))
				ok(err)
			}
			_, err = check.Continuation(s.Resp)
			must(id, err)
			t, err := env.Token(ctx, "continuation_token", su.CT, "grant_type", "continuation_token", "username", su.Username, "scope", env.Scope(nativeauth.ScopeOpenID))
			ok(err)
			tokenChecks(ctx, id, t, append(env.Scopes, nativeauth.ScopeOpenID)...)
		})
	})

	// The tenant's own sign-up method: both methods verify the email by
	// code, so these hold for either, and the two specs are independent.
	Describe("sign-up attributes", flowLabels("signup", ""), func() {
		It(flowText("signup.attributes-at-continue", "asks for required attributes after verification and accepts them"), func(ctx SpecContext) {
			id := flowID("signup.attributes-at-continue")
			if len(env.Tenant.RequiredAttributes()) == 0 {
				Skip("the tenant is expected to have no required attribute")
			}
			su, err := env.SignUpStart(ctx, "su-attr", env.Tenant.SignUpMethod == "password", nil)
			ok(err)
			_, err = env.SignUpChallenge(ctx, su)
			ok(err)
			s, err := env.SignUpSubmitOTP(ctx, su)
			ok(err)
			b, err := check.Error(s.Resp, check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrAttributesRequired})
			must(id, err)
			must(id, b.AttributeList("required_attributes"))
			for name := range env.Tenant.RequiredAttributes() {
				Expect(b.AttributeNames("required_attributes")).To(ContainElement(name), "[catalog:%s] body.required_attributes must list %s", id, name)
			}
			s, err = env.SignUpContinue(ctx, su, "grant_type", "attributes", "attributes", attributesJSON(env.Tenant.RequiredAttributes()))
			ok(err)
			_, err = check.Continuation(s.Resp)
			must(id, err)
		})
		It(flowText("signup.optional-after-verification", "refuses an optional attribute sent after verification"), func(ctx SpecContext) {
			id := flowID("signup.optional-after-verification")
			opt, found := env.Tenant.OptionalAttribute()
			if !found {
				Skip("the tenant is expected to have no optional attribute")
			}
			su, err := env.SignUpStart(ctx, "su-opt", env.Tenant.SignUpMethod == "password", env.Tenant.RequiredAttributes())
			ok(err)
			_, err = env.SignUpChallenge(ctx, su)
			ok(err)
			s, err := env.SignUpSubmitOTP(ctx, su)
			ok(err)
			_, err = check.Continuation(s.Resp)
			must(id, err)
			// The table: optional attributes cannot be sent to continue
			// after username verification.
			s, err = env.SignUpContinue(ctx, su, "grant_type", "attributes", "attributes", attributesJSON(nativeauth.Attributes{opt.Name: opt.Valid}))
			ok(err)
			_, err = check.Envelope(s.Resp)
			must(id, err)
			Expect(s.Resp.HTTPStatus).To(Equal(http.StatusBadRequest), "[catalog:%s] status: an optional attribute after verification must be refused", id)
		})
	})

	Describe("new challenge", flowLabels("signup", ""), func() {
		It(flowText("signup.new-challenge-invalidates-code", "a second challenge makes the first code invalid"), func(ctx SpecContext) {
			id := flowID("signup.new-challenge-invalidates-code")
			su, err := env.SignUpStart(ctx, "su-rechallenge", env.Tenant.SignUpMethod == "password", env.Tenant.RequiredAttributes())
			ok(err)
			_, err = env.SignUpChallenge(ctx, su)
			ok(err)
			first, err := env.Code(ctx, su.Username, su.Since)
			ok(err)
			// The emulator's clock and a real mailbox both need the second
			// code to be observably later.
			since2 := env.Now()
			s, err := env.call(ctx, nativeauth.EndpointSignUpChallenge, env.Form("continuation_token", su.CT, "challenge_type", signUpChallengeTypes))
			ok(err)
			_, err = check.OOBChallenge(s.Resp, su.Username)
			must(id, err)
			su.CT = s.CT()
			second, err := env.Code(ctx, su.Username, since2)
			ok(err)
			if first == second {
				Skip("the target sent the same code twice; cannot tell the codes apart")
			}
			s, err = env.SignUpContinue(ctx, su, "grant_type", "oob", "oob", first)
			ok(err)
			_, err = check.Error(s.Resp, check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrInvalidGrant, Suberror: nativeauth.SuberrorInvalidOOBValue})
			must(id, err)
		})
	})

	Describe("sign-in", Serial, flowLabels("signin", ""), func() {
		It(flowText("signin.refresh", "refresh_token only with offline_access, and usable"), func(ctx SpecContext) {
			id := flowID("signin.refresh")
			needMethod("password")
			u, p, err := env.ExistingUser(ctx)
			ok(err)
			t := signInWithPassword(ctx, id, u, p)
			r, err := env.Token(ctx, "grant_type", "refresh_token", "refresh_token", t.Body.String("refresh_token"), "scope", env.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess))
			ok(err)
			tokenChecks(ctx, id, r, append(env.Scopes, nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)...)
			// Without offline_access: no refresh token. The profile's scopes
			// usually hold offline_access, so it is taken out of them.
			var scopes []string
			for _, s := range strings.Fields(env.Scope(nativeauth.ScopeOpenID)) {
				if s != nativeauth.ScopeOfflineAccess {
					scopes = append(scopes, s)
				}
			}
			si, err := env.SignInInitiate(ctx, u, "password redirect")
			ok(err)
			_, err = env.SignInChallenge(ctx, si, "password redirect")
			ok(err)
			t2, err := env.Token(ctx, "continuation_token", si.CT, "grant_type", "password", "password", p, "scope", strings.Join(scopes, " "))
			ok(err)
			tokenChecks(ctx, id, t2, scopes...)
		})
		It(flowText("signin.otp", "signs in with an email one-time passcode"), func(ctx SpecContext) {
			id := flowID("signin.otp")
			needMethod("otp")
			u, _, err := env.ExistingUser(ctx)
			ok(err)
			si, err := env.SignInInitiate(ctx, u, "oob redirect")
			ok(err)
			s, err := env.SignInChallenge(ctx, si, "oob redirect")
			ok(err)
			_, err = check.OOBChallenge(s.Resp, u)
			must(id, err)
			code, err := env.Code(ctx, u, si.Since)
			ok(err)
			t, err := env.Token(ctx, "continuation_token", si.CT, "grant_type", "oob", "oob", code, "scope", env.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess))
			ok(err)
			tokenChecks(ctx, id, t, append(env.Scopes, nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)...)
		})
	})

	Describe("self-service password reset", Ordered, Serial, flowLabels("sspr", "password"), func() {
		var su *SignUp
		var newPassword, pollCT string
		BeforeAll(func(ctx SpecContext) {
			needMethod("password")
			if !env.Tenant.SSPR {
				Skip("the tenant is expected to have self-service password reset disabled")
			}
			var err error
			su, err = env.CompleteSignUp(ctx, "sspr")
			ok(err)
		})
		It(flowText("sspr.reset", "resets to a new password and polls to completion"), func(ctx SpecContext) {
			id := flowID("sspr.reset")
			rs, err := env.ResetTo(ctx, su.Username, "challenge")
			ok(err)
			_, err = check.OOBChallenge(rs.Last.Resp, su.Username)
			must(id, err)
			code, err := env.Code(ctx, su.Username, rs.Since)
			ok(err)
			s, err := env.call(ctx, nativeauth.EndpointResetContinue, env.Form("continuation_token", rs.CT, "grant_type", "oob", "oob", code))
			ok(err)
			_, err = check.ResetContinue(s.Resp)
			must(id, err)
			newPassword = env.NewPassword()
			s, err = env.call(ctx, nativeauth.EndpointResetSubmit, env.Form("continuation_token", s.CT(), "new_password", newPassword))
			ok(err)
			b, err := check.ResetSubmit(s.Resp)
			must(id, err)
			interval, _ := b.Int("poll_interval")
			ct := s.CT()
			deadline := time.Now().Add(30 * time.Second)
			for {
				p, err := env.call(ctx, nativeauth.EndpointResetPollCompletion, env.Form("continuation_token", ct))
				ok(err)
				_, err = check.Poll(p.Resp)
				must(id, err)
				if p.CT() != "" {
					ct = p.CT()
				}
				st := nativeauth.PollStatus(p.Body.String("status"))
				if st == nativeauth.PollStatusSucceeded {
					pollCT = ct
					break
				}
				Expect(st).NotTo(Equal(nativeauth.PollStatusFailed), "[catalog:%s] body.status: reset failed", id)
				Expect(time.Now().Before(deadline)).To(BeTrue(), "[catalog:%s] body.status: still %s after 30s", id, st)
				// poll_interval is the minimum wait the page asks of the app.
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Duration(max(interval, 0)) * time.Second):
				}
			}
		})
		It(flowText("sspr.signin-after-reset", "signs in directly with the poll continuation token"), func(ctx SpecContext) {
			id := flowID("sspr.signin-after-reset")
			needEarlier(pollCT != "")
			t, err := env.Token(ctx, "continuation_token", pollCT, "grant_type", "continuation_token", "username", su.Username, "scope", env.Scope(nativeauth.ScopeOpenID))
			ok(err)
			tokenChecks(ctx, id, t, append(env.Scopes, nativeauth.ScopeOpenID)...)
		})
		It(flowText("sspr.old-password-rejected", "the old password no longer works, the new one does"), func(ctx SpecContext) {
			id := flowID("sspr.old-password-rejected")
			needEarlier(newPassword != "")
			si, err := env.SignInInitiate(ctx, su.Username, "password redirect")
			ok(err)
			_, err = env.SignInChallenge(ctx, si, "password redirect")
			ok(err)
			s, err := env.Token(ctx, "continuation_token", si.CT, "grant_type", "password", "password", su.Password, "scope", env.Scope(nativeauth.ScopeOpenID))
			ok(err)
			_, err = check.Error(s.Resp, check.ErrorWant{HTTPStatus: http.StatusBadRequest, Error: nativeauth.ErrInvalidGrant})
			must(id, err)
			signInWithPassword(ctx, id, su.Username, newPassword)
		})
	})
})

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

// signInWithPassword runs initiate → challenge (password) → token with
// openid offline_access and checks each answer.
func signInWithPassword(ctx SpecContext, id, username, password string) Step {
	GinkgoHelper()
	si, err := env.SignInInitiate(ctx, username, "password redirect")
	ok(err)
	_, err = check.Continuation(si.Last.Resp)
	must(id, err)
	s, err := env.SignInChallenge(ctx, si, "password redirect")
	ok(err)
	_, err = check.PasswordChallenge(s.Resp)
	must(id, err)
	t, err := env.Token(ctx, "continuation_token", si.CT, "grant_type", "password", "password", password, "scope", env.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess))
	ok(err)
	tokenChecks(ctx, id, t, append(env.Scopes, nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)...)
	return t
}

// needMethod switches a tenant of the other sign-up method to method
// through the configuration backdoor for the rest of the spec (or of its
// Ordered container, from a BeforeAll), and skips the spec on a tenant
// expected to use the other method that has no backdoor. Flows that call it
// are Serial: the switch holds for the whole tenant.
func needMethod(method string) {
	GinkgoHelper()
	if env.Tenant.SignUpMethod == method {
		return
	}
	if env.SetTenantConfig == nil {
		Skip("the tenant is expected to use " + env.Tenant.SignUpMethod + " sign-up; this case needs " + method)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok(setMethod(ctx, env, method))
}
