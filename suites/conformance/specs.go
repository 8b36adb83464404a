package conformance

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/suites/check"
)

// Kinds of answer a case documents (the catalog's vocabulary).
const (
	KindSuccess  = "success"
	KindRedirect = "redirect"
	KindError    = "error"
	KindStatus   = "status"
	KindCode     = "code"
	KindProtocol = "protocol"
)

// Aspects of an answer the catalog may make normative or illustrative.
const (
	AspectStatus     = "http_status"
	AspectError      = "error"
	AspectSuberror   = "suberror"
	AspectErrorCodes = "error_codes"
	AspectFields     = "fields"
	AspectHeaders    = "headers"
	AspectPollStatus = "poll_status"
)

// Case is the part of a catalog entry a spec runs: where, how to provoke
// it, and what the answer must be.
type Case struct {
	ID       string
	Title    string
	Flow     string // signup, signin, sspr, protocol
	Kind     string // success, redirect, error, status, code, protocol
	Endpoint nativeauth.Endpoint
	Trigger  string
	// Want is the documented error (Kind error); its ErrorCodes are checked
	// only when normative.
	Want check.ErrorWant
	// Redirect says the documented answer is {"challenge_type":"redirect"}.
	Redirect bool
	// Fields are body members the answer must carry, with their JSON kind.
	Fields           map[string]check.Kind
	Rules            []check.FieldRule
	Absent           []string
	Headers          []check.HeaderRule
	AbsentErrorCodes []int
	PollStatus       nativeauth.PollStatus
	// Normative lists the aspects a failure is reported on; nil means all.
	Normative []string
	Needs     []string
	Labels    []string
	Source    string
	Slow      bool
}

// kind is the case's kind, derived for cases that do not say.
func (c Case) kind() string {
	switch {
	case c.Kind != "":
		return c.Kind
	case c.Redirect:
		return KindRedirect
	case c.Want.Error != "":
		return KindError
	}
	return KindSuccess
}

// normative reports whether a failure on aspect fails the case.
func (c Case) normative(aspect string) bool {
	return c.Normative == nil || slices.Contains(c.Normative, aspect)
}

// specTimeout bounds one spec; a slow spec waits for real expiry.
func (c Case) specTimeout() time.Duration {
	if c.Slow {
		return 20 * time.Minute
	}
	return 30 * time.Second
}

// decorators are what every catalog spec carries: its labels, checked
// against the frozen vocabulary, its timeout, and Serial when it may change
// the tenant for every spec. One place, so a --label-filter means the same
// thing for every spec.
func (c Case) decorators() []any {
	d := []any{Label(c.Labels...), SpecTimeout(c.specTimeout())}
	if c.changesTenant() {
		d = append(d, Serial)
	}
	return d
}

// tenantWideNeeds are the capabilities a spec may meet by changing the
// whole tenant through the backdoor: its configuration (sign-up method,
// attributes, SSPR, email OTP, poll script, failures) or its clock.
var tenantWideNeeds = []string{
	"backdoor:clock", "backdoor:poll", "backdoor:faults",
	"tenant:email-otp-disabled", "tenant:sspr-disabled",
	"signin:otp", "signin:password", "signup:otp", "signup:password",
	"attribute-regex",
}

// changesTenant reports whether the case may change the tenant for every
// spec. Such specs are Serial: under ginkgo -p against one shared target
// (an emulator elsewhere, with its backdoor) Ginkgo runs them alone, after
// the parallel specs, so no other spec sees the change. With the embedded
// emulator each process has its own, and Serial costs little.
func (c Case) changesTenant() bool {
	for _, n := range c.Needs {
		if slices.Contains(tenantWideNeeds, n) {
			return true
		}
	}
	return false
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

// UnknownLabels returns the labels of cases that are not in the vocabulary.
func UnknownLabels(cases []Case, vocabulary []string) []string {
	var out []string
	for _, c := range cases {
		for _, l := range c.Labels {
			if !slices.Contains(vocabulary, l) {
				out = append(out, c.ID+": "+l)
			}
		}
	}
	return out
}

// flowLabels are the labels of a flow container.
func flowLabels(flow, method string) Labels {
	ls := Labels{"flow:" + flow}
	if method != "" {
		ls = append(ls, "method:"+method)
	}
	return ls
}

// runCase is the body of every catalog spec: reach the endpoint, provoke the
// behaviour, and check the answer against the entry.
func runCase(ctx SpecContext, c Case) {
	AddReportEntry(reportEntryCatalog, c.ID+" — "+c.Source, ReportEntryVisibilityNever)
	for _, need := range c.Needs {
		if has, reason := env.Has(need); !has {
			Skip(fmt.Sprintf("needs %s: %s", need, reason))
		}
	}
	trigger, found := triggers[c.Trigger]
	raw, rawFound := rawTriggers[c.Trigger]
	Expect(found || rawFound).To(BeTrue(), "[catalog:%s] no driver for trigger %q", c.ID, c.Trigger)
	ep := c.Endpoint
	if ep == "" {
		// Protocol entries hold at every endpoint; one shows them.
		ep = protocolEndpoint(c.Trigger)
	}
	reached, err := env.Reach(ctx, ep)
	Expect(err).NotTo(HaveOccurred(), "[catalog:%s] setup: reach %s", c.ID, ep)
	var resp *nativeauth.Response
	form := reached.Form
	var skip string
	if rawFound {
		resp, skip, err = raw(ctx, env, reached)
	} else {
		form, skip, err = trigger(ctx, env, reached)
	}
	if skip != "" {
		Skip(skip)
	}
	Expect(err).NotTo(HaveOccurred(), "[catalog:%s] setup: trigger %s", c.ID, c.Trigger)
	if !rawFound {
		resp, err = env.Post(ctx, ep, form)
		Expect(err).NotTo(HaveOccurred(), "[catalog:%s] %s", c.ID, ep)
	}
	must(c.ID, Answer(c, resp, reached.Username, strings.Fields(form.Get("scope"))))
	if len(c.AbsentErrorCodes) > 0 {
		// Codes that are not errors must appear in no answer of the flow.
		for _, ex := range env.Recorder.Peek() {
			if b, err := check.Decode([]byte(ex.Body)); err == nil {
				must(c.ID, b.AbsentErrorCodes(c.AbsentErrorCodes))
			}
		}
	}
	// Every token answer's id_token is verified, not only the success
	// entries': protocol and code entries end in token answers too, and a
	// badly signed id_token is a deviation wherever it appears.
	if isTokenAnswer(ep, resp) {
		b, _ := check.Decode(resp.Body)
		if raw := b.String("id_token"); raw != "" && env.IDTokens != nil {
			_, err := env.IDTokens.Verify(ctx, raw)
			must(c.ID, err)
		}
	}
}

// isTokenAnswer reports whether resp is a 200 answer of the token endpoint
// (sent to ep, or, for a raw trigger that walks a flow, to the token
// endpoint itself).
func isTokenAnswer(ep nativeauth.Endpoint, resp *nativeauth.Response) bool {
	if resp == nil || resp.HTTPStatus != http.StatusOK {
		return false
	}
	return ep == nativeauth.EndpointToken || resp.Endpoint == nativeauth.EndpointToken
}

// Answer checks one answer against a case: the envelope every answer
// has, then what the case's kind documents, on its normative aspects only.
// scopes are the scopes the request asked for (token answers).
func Answer(c Case, resp *nativeauth.Response, username string, scopes []string) error {
	var b check.Body
	var err error
	switch c.kind() {
	case KindRedirect:
		b, err = check.Redirect(resp)
	case KindError:
		want := c.Want
		if want.HTTPStatus == 0 {
			want.HTTPStatus = http.StatusBadRequest
		}
		if !c.normative(AspectStatus) {
			want.HTTPStatus = 0
		}
		if !c.normative(AspectSuberror) {
			want.Suberror = ""
		}
		if !c.normative(AspectErrorCodes) {
			want.ErrorCodes = nil
		}
		b, err = check.Error(resp, want)
		if err != nil && !c.normative(AspectError) {
			err = dropFields(err, "body.error")
		}
	case KindStatus:
		b, err = check.Poll(resp)
		if b != nil && c.PollStatus != "" {
			err = errors.Join(err, b.Equals("status", string(c.PollStatus)))
		}
	case KindCode, KindProtocol:
		// Protocol and code entries may still document an error.
		if c.Want.Error != "" {
			return Answer(withKind(c, KindError), resp, username, scopes)
		}
		b, err = check.Envelope(resp)
		if resp != nil && resp.HTTPStatus == http.StatusOK && c.Endpoint != "" {
			b, err = success(c.Endpoint, resp, username, scopes)
		}
		// Entries that name no error may still make the status normative
		// (an expired passcode, a failed account creation: only "a 400");
		// without this a server that accepts them would pass.
		if c.Want.HTTPStatus != 0 && c.normative(AspectStatus) {
			err = errors.Join(err, check.Status(resp, c.Want.HTTPStatus))
		}
	default:
		b, err = success(c.Endpoint, resp, username, scopes)
	}
	errs := []error{err}
	for _, h := range c.Headers {
		errs = append(errs, check.Header(resp, h))
	}
	if b != nil {
		for _, name := range sortedKeys(c.Fields) {
			errs = append(errs, b.Field(name, c.Fields[name]))
		}
		// Documented fields belong to the primary answer; an also-accepted
		// error of a self-contradicting page has none of its own.
		primary := c.kind() != KindError || b.String("error") == string(c.Want.Error)
		if c.normative(AspectFields) && primary {
			for _, r := range c.Rules {
				errs = append(errs, b.Rule(r, username))
			}
			for _, name := range c.Absent {
				errs = append(errs, b.Absent(name))
			}
		}
		if len(c.AbsentErrorCodes) > 0 {
			errs = append(errs, b.AbsentErrorCodes(c.AbsentErrorCodes))
		}
		if c.Want.Suberror == nativeauth.SuberrorAttributeValidationFailed && primary {
			errs = append(errs, b.AttributeList("invalid_attributes"))
		}
		if c.Want.Error == nativeauth.ErrAttributesRequired && primary {
			errs = append(errs, b.AttributeList("required_attributes"))
		}
		if c.Want.Error == nativeauth.ErrVerificationRequired && primary {
			errs = append(errs, b.AttributeList("unverified_attributes"))
		}
	}
	return errors.Join(errs...)
}

func withKind(c Case, kind string) Case {
	c.Kind = kind
	return c
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
		b, err := check.Decode(resp.Body)
		if err == nil && b.String("challenge_type") == string(nativeauth.ChallengeTypePassword) {
			return check.PasswordChallenge(resp)
		}
		return check.OOBChallenge(resp, username)
	case nativeauth.EndpointToken:
		return check.Token(resp, check.TokenWant{Scopes: scopes})
	case nativeauth.EndpointResetContinue:
		return check.ResetContinue(resp)
	case nativeauth.EndpointResetSubmit:
		return check.ResetSubmit(resp)
	case nativeauth.EndpointResetPollCompletion:
		return check.Poll(resp)
	}
	return check.Continuation(resp)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// The catalog specs: one table per endpoint, one Entry per catalog entry.
var _ = Describe("catalog", func() {
	byEndpoint := map[nativeauth.Endpoint][]Case{}
	var order []nativeauth.Endpoint
	var slow []Case
	for _, c := range Cases() {
		if _, seen := byEndpoint[c.Endpoint]; !seen {
			order = append(order, c.Endpoint)
		}
		byEndpoint[c.Endpoint] = append(byEndpoint[c.Endpoint], c)
		if c.Trigger == "continuation_token_expired" && !c.Slow {
			slow = append(slow, realExpiryCase(c))
		}
	}
	for _, ep := range order {
		args := []any{func(ctx SpecContext, c Case) { runCase(ctx, c) }}
		for _, c := range byEndpoint[ep] {
			args = append(args, Entry(Tag(c.ID)+" "+c.Title, append(c.decorators(), c)...))
		}
		DescribeTable(string(ep), args...)
	}
	if len(slow) > 0 {
		describeRealExpiry(slow)
	}
})

// realExpiryCase is the variant of an expiry case for a tenant without a
// clock backdoor: it waits for real expiry, so it is labelled slow and
// needs no backdoor.
func realExpiryCase(c Case) Case {
	slow := c
	slow.Slow = true
	slow.Labels = []string{LabelSlow}
	for _, l := range c.Labels {
		if !strings.HasPrefix(l, "needs:backdoor") {
			slow.Labels = append(slow.Labels, l)
		}
	}
	slow.Needs = nil
	for _, n := range c.Needs {
		if !strings.HasPrefix(n, "backdoor:") {
			slow.Needs = append(slow.Needs, n)
		}
	}
	return slow
}

// expiring is a continuation token a real-expiry spec waits on.
type expiring struct {
	reached  *Reached
	skip     string
	err      error
	evidence []reports.Exchange
}

// describeRealExpiry runs the real-expiry cases as one Ordered container:
// every token is issued first, then one wait of the token lifetime serves
// them all. One wait per spec made the slow specs last 9 × 10.5 minutes,
// past the run's default one-hour timeout.
func describeRealExpiry(cases []Case) {
	Describe("real expiry", append(realExpiryDecorators, func() {
		var tokens map[string]*expiring
		BeforeAll(func(ctx SpecContext) {
			tokens = map[string]*expiring{}
			if env.AdvanceClock != nil {
				for _, c := range cases {
					tokens[c.ID] = &expiring{skip: "the target's clock backdoor covers this case without waiting (the fast spec)"}
				}
				return
			}
			waitFor := false
			for _, c := range cases {
				x := &expiring{}
				tokens[c.ID] = x
				for _, need := range c.Needs {
					if has, reason := env.Has(need); !has && x.skip == "" {
						x.skip = fmt.Sprintf("needs %s: %s", need, reason)
					}
				}
				if x.skip != "" {
					continue
				}
				x.reached, x.err = env.Reach(ctx, realExpiryEndpoint(c))
				// Each spec shows the exchanges that issued its token.
				x.evidence = env.Recorder.Take()
				waitFor = waitFor || x.err == nil
			}
			if !waitFor {
				return
			}
			select {
			case <-ctx.Done():
				Fail(fmt.Sprintf("waiting for real expiry: %v", ctx.Err()))
			case <-time.After(env.ContinuationLifetime + 30*time.Second):
			}
		}, NodeTimeout(realExpiryTimeout))
		for _, c := range cases {
			// The spec timeout bounds BeforeAll too (it runs as part of the
			// first spec), so it must hold the whole wait.
			It(Tag(c.ID)+" "+c.Title+" (real expiry)", Label(c.Labels...), SpecTimeout(realExpiryTimeout), func(ctx SpecContext) {
				AddReportEntry(reportEntryCatalog, c.ID+" — "+c.Source, ReportEntryVisibilityNever)
				x := tokens[c.ID]
				Expect(x).NotTo(BeNil(), "[catalog:%s] setup: no token was issued", c.ID)
				if len(x.evidence) > 0 {
					AddReportEntry(reportEntryEvidence, x.evidence, ReportEntryVisibilityNever)
				}
				if x.skip != "" {
					Skip(x.skip)
				}
				ep := realExpiryEndpoint(c)
				Expect(x.err).NotTo(HaveOccurred(), "[catalog:%s] setup: reach %s", c.ID, ep)
				resp, err := env.Post(ctx, ep, x.reached.Form)
				Expect(err).NotTo(HaveOccurred(), "[catalog:%s] %s", c.ID, ep)
				must(c.ID, Answer(c, resp, x.reached.Username, nil))
			})
		}
	})...)
}

// realExpiryDecorators make the real-expiry container Ordered (BeforeAll
// issues every token once) and ContinueOnFailure: the specs only share the
// wait, so one tenant deviation must not skip the other entries.
var realExpiryDecorators = []any{Ordered, ContinueOnFailure}

// defaultContinuationLifetime is how long a continuation token lives; the
// real-expiry container's timeout is sized from it when the tree is built,
// before env exists.
const defaultContinuationLifetime = 10 * time.Minute

// realExpiryTimeout bounds the real-expiry container's setup: issuing
// every token, then the one wait.
const realExpiryTimeout = defaultContinuationLifetime + 15*time.Minute

// realExpiryEndpoint is where an expiry case sends its expired token.
func realExpiryEndpoint(c Case) nativeauth.Endpoint {
	if c.Endpoint == "" {
		return protocolEndpoint(c.Trigger)
	}
	return c.Endpoint
}
