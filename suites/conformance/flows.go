package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/check"
	"github.com/ciamcheck/ciamcheck/suites/specreport"
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
	"mfa.email": {"signin.token.error.invalid_grant.mfa_required", "signin.introspect.success", "signin.challenge.mfa.success",
		"signin.token.mfa_oob.success"},
	"mfa.sms":                   {"signin.challenge.mfa.success", "signin.token.mfa_oob.success"},
	"mfa.register-then-sign-in": {"signin.token.error.invalid_grant.registration_required", "register.introspect.success", "register.challenge.success", "register.continue.success"},
	"mfa.after-sign-up":         {"register.challenge.preverified", "register.continue.success"},
	"mfa.after-reset":           {"signin.token.error.invalid_grant.mfa_required", "signin.token.mfa_oob.success"},
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
	It(specreport.Text(text, ids...), specreport.Labels(ids...), func(ctx SpecContext) {
		if !strings.HasPrefix(key, "mfa.") {
			needNoMFA()
		}
		body(ctx, strings.Join(ids, ","))
	})
}

// needNoMFA turns MFA off for a flow of the older pages, whose walks end
// in tokens after the first factor, or skips it on a tenant that requires
// MFA without a backdoor. Only Serial flows may change the tenant; the
// others stop before a token call, where MFA changes nothing.
func needNoMFA() {
	GinkgoHelper()
	if !env.Expect().MFA.Enabled || !CurrentSpecReport().IsSerial {
		return
	}
	need(profile.CapNoMFA)
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
// Failures are plain text, one "field: want X, got Y" line per broken
// rule: Gomega's matchers would print Go values with their types and
// pointer addresses into the record and the reports.
func must(id string, err error) {
	GinkgoHelper()
	if err := check.In(id, err); err != nil {
		Fail(err.Error())
	}
}

// got is v, failing the spec when the setup step that made it failed.
func got[T any](v T, err error) T {
	GinkgoHelper()
	ok(err)
	return v
}

// ok fails the spec when a setup step failed.
func ok(err error) {
	GinkgoHelper()
	if err != nil {
		Fail("setup: " + err.Error())
	}
}

// setup fails the spec when err is not nil, with what was being done:
// "[catalog:ID] setup: reach /signup/v1.0/start: …".
func setup(err error, format string, args ...any) {
	GinkgoHelper()
	if err != nil {
		Fail(fmt.Sprintf(format, args...) + ": " + err.Error())
	}
}

// want fails the spec with "field: want X, got Y" unless cond holds.
func want(cond bool, id, field, wantText string, got any) {
	GinkgoHelper()
	if !cond {
		Fail(fmt.Sprintf("[catalog:%s] %s: want %s, got %v", id, field, wantText, got))
	}
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
	describeMFAFlows()
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

// needMethod switches a tenant of the other sign-up method to method
// through the configuration backdoor for the rest of the spec (or of its
// Ordered container, from a BeforeAll), and skips the spec on a tenant
// expected to use the other method that has no backdoor. Flows that call it
// are Serial: the switch holds for the whole tenant.
func needMethod(method nativeauth.SignUpMethod) {
	GinkgoHelper()
	if env.Expect().SignUpMethod == method {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := setMethod(ctx, env, method)
	if errors.Is(err, errNoBackdoor) {
		Skip("the tenant is expected to use " + string(env.Expect().SignUpMethod) + " sign-up; this case needs " + string(method))
	}
	ok(err)
}
