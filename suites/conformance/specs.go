package conformance

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
	"github.com/ciamcheck/ciamcheck/suites/check"
	"github.com/ciamcheck/ciamcheck/suites/specreport"
)

// LabelSlow marks specs that may wait minutes in real time.
const LabelSlow = catalog.LabelSlow

// LabelVocabulary is the frozen label vocabulary, the catalog's.
func LabelVocabulary() []string { return catalog.Labels() }

// The catalog specs: one table per endpoint, one Entry per catalog entry,
// each running the catalog.Entry itself.
var _ = Describe("catalog", func() {
	byEndpoint := map[nativeauth.Endpoint][]catalog.Entry{}
	var order []nativeauth.Endpoint
	var expiring []catalog.Entry
	for _, e := range catalog.All() {
		if _, seen := byEndpoint[e.Endpoint]; !seen {
			order = append(order, e.Endpoint)
		}
		byEndpoint[e.Endpoint] = append(byEndpoint[e.Endpoint], e)
		if e.Trigger.Name == catalog.TriggerTokenExpired && !slices.Contains(e.Labels, LabelSlow) {
			expiring = append(expiring, e)
		}
	}
	for _, ep := range order {
		args := []any{func(ctx SpecContext, e catalog.Entry) { runEntry(ctx, e) }}
		for _, e := range byEndpoint[ep] {
			args = append(args, Entry(specreport.Text(e.Title, e.ID), append(decorators(e), e)...))
		}
		DescribeTable(string(ep), args...)
	}
	if len(expiring) > 0 {
		describeRealExpiry(expiring)
	}
})

// decorators are what every catalog spec carries: its labels, checked
// against the frozen vocabulary, the label naming its entry, its timeout,
// and Serial when it may change the tenant for every spec. One place, so a
// --label-filter means the same thing for every spec.
func decorators(e catalog.Entry) []any {
	timeout := 30 * time.Second
	if slices.Contains(e.Labels, LabelSlow) {
		timeout = 20 * time.Minute
	}
	d := []any{Label(e.Labels...), specreport.Labels(e.ID), SpecTimeout(timeout)}
	if changesTenant(e) {
		d = append(d, Serial)
	}
	return d
}

// tenantWideNeeds are the capabilities a spec may meet by changing the
// whole tenant through the backdoor: its configuration (sign-up method,
// attributes, SSPR, email OTP, poll script, failures) or its clock.
var tenantWideNeeds = []profile.Capability{
	profile.CapClock, profile.CapPollControl, profile.CapFaults,
	profile.CapOTPDisabledTenant, profile.CapSSPRDisabledTenant,
	profile.CapSignInOTP, profile.CapSignInPassword, profile.CapSignUpOTP, profile.CapSignUpPassword,
	profile.CapAttributeRegex, profile.CapMFA, profile.CapNoMFA,
}

// changesTenant reports whether the entry's spec may change the tenant for
// every spec. Such specs are Serial: under ginkgo -p against one shared
// target (an emulator elsewhere, with its backdoor) Ginkgo runs them alone,
// after the parallel specs, so no other spec sees the change. With the
// embedded emulator each process has its own, and Serial costs little.
func changesTenant(e catalog.Entry) bool {
	return slices.ContainsFunc(e.Needs, func(c profile.Capability) bool { return slices.Contains(tenantWideNeeds, c) })
}

// mayChangeTenant is the guard of every tenant-wide change (configuration
// or clock): the running spec must be Serial, or parallel specs on a shared
// target would see the change.
func mayChangeTenant(what string) error {
	if r := CurrentSpecReport(); !r.IsSerial {
		return fmt.Errorf("%s changes the tenant for every spec, but the spec %q is not Serial (add its need to tenantWideNeeds, or Serial to the flow)", what, r.FullText())
	}
	return nil
}

// need skips the spec when the target lacks one of caps.
func need(caps ...profile.Capability) {
	GinkgoHelper()
	for _, c := range caps {
		if has, reason := env.Has(c); !has {
			Skip(fmt.Sprintf("needs %s: %s", c, reason))
		}
	}
}

// runEntry is the body of every catalog spec: reach the endpoint, provoke
// the behaviour with the trigger's driver, and check the answer against the
// entry.
func runEntry(ctx SpecContext, e catalog.Entry) {
	need(e.Needs...)
	drive, found := drivers[e.Trigger.Name]
	if !found {
		Fail(fmt.Sprintf("[catalog:%s] no driver for trigger %q", e.ID, e.Trigger.Name))
	}
	ep := endpointOf(e)
	w := env.Walker()
	r, err := w.Reach(ctx, ep)
	setup(err, "[catalog:%s] setup: reach %s", e.ID, ep)
	// The driver skips the spec, or fails its setup, itself.
	resp := drive(ctx, env, r)
	if resp == nil {
		resp, err = w.Client.Send(ctx, r.Call)
		setup(err, "[catalog:%s] %s", e.ID, r.Call.Endpoint)
	}
	must(e.ID, Answer(e, resp, r.Username, scopesOf(r.Call)))
	if codes := e.Expect.AbsentErrorCodes; len(codes) > 0 {
		// Codes that are not errors must appear in no answer of the flow.
		for _, ex := range recorder.Peek() {
			if b, err := check.Decode([]byte(ex.Body)); err == nil {
				must(e.ID, b.AbsentErrorCodes(codes))
			}
		}
	}
	// Every token answer's id_token is verified, not only the success
	// entries': protocol and code entries end in token answers too, and a
	// badly signed id_token is a deviation wherever it appears.
	if resp.HTTPStatus == http.StatusOK && resp.Endpoint == nativeauth.EndpointToken {
		verifyIDToken(ctx, e.ID, resp)
	}
}

// endpointOf is where an entry is provoked. Protocol entries hold at every
// endpoint; one that takes a continuation token shows the token rules,
// sign-up start the rest.
func endpointOf(e catalog.Entry) nativeauth.Endpoint {
	switch {
	case e.Endpoint != "":
		return e.Endpoint
	case tokenTriggers[e.Trigger.Name]:
		return nativeauth.EndpointSignUpContinue
	}
	return nativeauth.EndpointSignUpStart
}

// challengeAnswer checks a challenge answer: password or oob.
func challengeAnswer(resp *nativeauth.Response, username string) (check.Body, error) {
	b, err := check.Decode(resp.Body)
	if err == nil && b.String("challenge_type") == string(nativeauth.ChallengeTypePassword) {
		return check.PasswordChallenge(resp)
	}
	return check.OOBChallenge(resp, username)
}

// verifyIDToken checks the id_token of a token answer, when there is one.
func verifyIDToken(ctx SpecContext, id string, resp *nativeauth.Response) {
	GinkgoHelper()
	b, _ := check.Decode(resp.Body)
	if raw := b.String("id_token"); raw != "" && idTokens != nil {
		_, err := idTokens.Verify(ctx, raw)
		must(id, err)
	}
}

// scopesOf is what a token call asked for.
func scopesOf(call nativeauth.Call) []string { return strings.Fields(call.Get(nativeauth.ParamScope)) }

// Answer checks one answer against a catalog entry: the envelope every
// answer has, then what the entry's kind documents, on its normative
// aspects only. scopes are the scopes the request asked for (token
// answers).
func Answer(e catalog.Entry, resp *nativeauth.Response, username string, scopes []string) error {
	x := e.Expect
	var b check.Body
	var err error
	switch e.Kind {
	case catalog.KindRedirect:
		b, err = check.Redirect(resp)
	case catalog.KindError:
		b, err = answerError(e, resp)
	case catalog.KindStatus:
		b, err = check.Poll(resp)
		if b != nil && x.PollStatus != "" {
			err = errors.Join(err, b.Equals("status", string(x.PollStatus)))
		}
	case catalog.KindCode, catalog.KindProtocol:
		// Protocol and code entries may still document an error.
		if x.Error != "" {
			e.Kind = catalog.KindError
			return Answer(e, resp, username, scopes)
		}
		b, err = check.Envelope(resp)
		if resp != nil && resp.HTTPStatus == http.StatusOK && e.Endpoint != "" {
			b, err = success(e.Endpoint, resp, username, scopes)
		}
		// Entries that name no error may still make the status normative
		// (an expired passcode, a failed account creation: only "a 400");
		// without this a server that accepts them would pass.
		if x.HTTPStatus != 0 && normative(e, catalog.AspectStatus) {
			err = errors.Join(err, check.Status(resp, x.HTTPStatus))
		}
	default:
		b, err = success(e.Endpoint, resp, username, scopes)
	}
	errs := []error{err}
	for _, h := range x.Headers {
		errs = append(errs, check.Header(resp, h))
	}
	if b != nil {
		errs = append(errs, documented(e, b, username)...)
	}
	return errors.Join(errs...)
}

// answerError checks an error entry on its normative aspects.
func answerError(e catalog.Entry, resp *nativeauth.Response) (check.Body, error) {
	x := e.Expect
	want := check.ErrorWant{HTTPStatus: x.HTTPStatus, Error: x.Error, AlsoAccept: x.AlsoAccept, Suberror: x.Suberror}
	if want.HTTPStatus == 0 {
		want.HTTPStatus = http.StatusBadRequest
	}
	if x.ErrorCodesNormative && normative(e, catalog.AspectErrorCodes) {
		want.ErrorCodes = x.ErrorCodes
	}
	if !normative(e, catalog.AspectStatus) {
		want.HTTPStatus = 0
	}
	if !normative(e, catalog.AspectSuberror) {
		want.Suberror = ""
	}
	b, err := check.Error(resp, want)
	if err != nil && !normative(e, catalog.AspectError) {
		err = dropFields(err, "body.error")
	}
	return b, err
}

// documented checks the members the entry documents in the answer's body.
func documented(e catalog.Entry, b check.Body, username string) []error {
	x := e.Expect
	var errs []error
	// Documented fields belong to the primary answer; an also-accepted
	// error of a self-contradicting page has none of its own.
	// An entry whose error is only illustrative documents its fields for
	// whatever error carries its suberror.
	primary := e.Kind != catalog.KindError || b.String("error") == string(x.Error) || !normative(e, catalog.AspectError)
	if normative(e, catalog.AspectFields) && primary {
		for _, f := range x.Fields {
			errs = append(errs, b.Rule(f, username))
		}
		for _, name := range x.Absent {
			errs = append(errs, b.Absent(name))
		}
	}
	if len(x.AbsentErrorCodes) > 0 {
		errs = append(errs, b.AbsentErrorCodes(x.AbsentErrorCodes))
	}
	if !primary {
		return errs
	}
	if x.Suberror == nativeauth.SuberrorAttributeValidationFailed {
		errs = append(errs, b.AttributeList("invalid_attributes"))
	}
	switch x.Error {
	case nativeauth.ErrAttributesRequired:
		errs = append(errs, b.AttributeList("required_attributes"))
	case nativeauth.ErrVerificationRequired:
		errs = append(errs, b.AttributeList("unverified_attributes"))
	}
	return errs
}

// normative reports whether a failure on aspect fails the entry.
func normative(e catalog.Entry, aspect catalog.Aspect) bool {
	return slices.Contains(e.Normative.Normative, aspect)
}

// dropFields removes the Failures on field from err.
func dropFields(err error, field string) error {
	var keep []error
	for _, f := range check.Failures(err) {
		if f.Field != field {
			keep = append(keep, f)
		}
	}
	return errors.Join(keep...)
}

func success(ep nativeauth.Endpoint, resp *nativeauth.Response, username string, scopes []string) (check.Body, error) {
	switch ep {
	case nativeauth.EndpointSignUpChallenge, nativeauth.EndpointSignInChallenge, nativeauth.EndpointResetChallenge:
		return challengeAnswer(resp, username)
	case nativeauth.EndpointToken:
		return check.Token(resp, check.TokenWant{Scopes: scopes})
	case nativeauth.EndpointResetContinue:
		// The page lets reset continue issue another challenge instead of
		// the token for /submit.
		if b, err := check.Decode(resp.Body); err == nil && b.String("challenge_type") != "" {
			return challengeAnswer(resp, username)
		}
		return check.ResetContinue(resp)
	case nativeauth.EndpointResetSubmit:
		return check.ResetSubmit(resp)
	case nativeauth.EndpointResetPollCompletion:
		return check.Poll(resp)
	}
	return check.Continuation(resp)
}
