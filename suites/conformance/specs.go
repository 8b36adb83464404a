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
	"github.com/ciamcheck/ciamcheck/suites/check"
)

// Case is the part of a catalog entry a spec runs: where, how to provoke
// it, and what the answer must be.
type Case struct {
	ID       string
	Title    string
	Flow     string // signup, signin, sspr, protocol
	Endpoint nativeauth.Endpoint
	Trigger  string
	// Want is the documented error; Want.Error empty means a 200 success.
	Want check.ErrorWant
	// Redirect says the documented answer is {"challenge_type":"redirect"}.
	Redirect bool
	// Fields are body members the answer must carry, with their JSON kind.
	Fields map[string]check.Kind
	Needs  []string
	Labels []string
	Source string
	Slow   bool
}

// LabelSlow marks specs that may wait minutes in real time.
const LabelSlow = "slow"

// specTimeout bounds one spec; a slow spec waits for real expiry.
func (c Case) specTimeout() time.Duration {
	if c.Slow {
		return 20 * time.Minute
	}
	return 30 * time.Second
}

// decorators are what every catalog spec carries: its labels, checked
// against the frozen vocabulary, and its timeout. One place, so a
// --label-filter means the same thing for every spec.
func (c Case) decorators() []any {
	return []any{Label(c.Labels...), SpecTimeout(c.specTimeout())}
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
	Expect(found).To(BeTrue(), "[catalog:%s] no driver for trigger %q", c.ID, c.Trigger)
	reached, err := env.Reach(ctx, c.Endpoint)
	Expect(err).NotTo(HaveOccurred(), "[catalog:%s] setup: reach %s", c.ID, c.Endpoint)
	reached.Slow = c.Slow
	form, skip, err := trigger(ctx, env, reached)
	if skip != "" {
		Skip(skip)
	}
	Expect(err).NotTo(HaveOccurred(), "[catalog:%s] setup: trigger %s", c.ID, c.Trigger)
	resp, err := env.Post(ctx, c.Endpoint, form)
	Expect(err).NotTo(HaveOccurred(), "[catalog:%s] %s", c.ID, c.Endpoint)
	must(c.ID, Answer(c, resp, reached.Username))
	if c.Want.Error == "" && !c.Redirect && c.Endpoint == nativeauth.EndpointToken {
		b, _ := check.Decode(resp.Body)
		if raw := b.String("id_token"); raw != "" && env.IDTokens != nil {
			_, err := env.IDTokens.Verify(ctx, raw)
			must(c.ID, err)
		}
	}
}

// Answer checks one answer against a case: the documented error, or the
// documented success shape of the endpoint, plus the entry's fields.
func Answer(c Case, resp *nativeauth.Response, username string) error {
	var b check.Body
	var err error
	switch {
	case c.Redirect:
		b, err = check.Redirect(resp)
	case c.Want.Error != "":
		want := c.Want
		if want.HTTPStatus == 0 {
			want.HTTPStatus = http.StatusBadRequest
		}
		b, err = check.Error(resp, want)
	default:
		b, err = success(c.Endpoint, resp, username, c.Fields)
	}
	errs := []error{err}
	if b != nil {
		for _, name := range sortedKeys(c.Fields) {
			errs = append(errs, b.Field(name, c.Fields[name]))
		}
		if c.Want.Suberror == nativeauth.SuberrorAttributeValidationFailed {
			errs = append(errs, b.AttributeList("invalid_attributes"))
		}
		if c.Want.Error == nativeauth.ErrAttributesRequired {
			errs = append(errs, b.AttributeList("required_attributes"))
		}
		if c.Want.Error == nativeauth.ErrVerificationRequired {
			errs = append(errs, b.AttributeList("unverified_attributes"))
		}
	}
	return errors.Join(errs...)
}

func success(ep nativeauth.Endpoint, resp *nativeauth.Response, username string, fields map[string]check.Kind) (check.Body, error) {
	switch ep {
	case nativeauth.EndpointSignUpChallenge, nativeauth.EndpointSignInChallenge, nativeauth.EndpointResetChallenge:
		b, err := check.Decode(resp.Body)
		if err == nil && b.String("challenge_type") == string(nativeauth.ChallengeTypePassword) {
			return check.PasswordChallenge(resp)
		}
		return check.OOBChallenge(resp, username)
	case nativeauth.EndpointToken:
		return check.Token(resp, check.TokenWant{Scopes: scopesOf(resp)})
	case nativeauth.EndpointResetContinue:
		return check.ResetContinue(resp)
	case nativeauth.EndpointResetSubmit:
		return check.ResetSubmit(resp)
	case nativeauth.EndpointResetPollCompletion:
		return check.Poll(resp)
	}
	return check.Continuation(resp)
}

// scopesOf is the scope the spec asked for (every token case asks
// env.Scope(), which Reach uses).
func scopesOf(*nativeauth.Response) []string { return strings.Fields(env.Scope()) }

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
	for _, c := range Cases() {
		if _, seen := byEndpoint[c.Endpoint]; !seen {
			order = append(order, c.Endpoint)
		}
		byEndpoint[c.Endpoint] = append(byEndpoint[c.Endpoint], c)
	}
	for _, ep := range order {
		args := []any{func(ctx SpecContext, c Case) { runCase(ctx, c) }}
		for _, c := range byEndpoint[ep] {
			args = append(args, Entry(Tag(c.ID)+" "+c.Title, append(c.decorators(), c)...))
			if c.Trigger == "continuation_token_expired" && !c.Slow {
				// A tenant without a clock backdoor can only show expiry by
				// waiting for it; that variant is labelled slow.
				slow := c
				slow.Slow = true
				slow.Labels = []string{LabelSlow}
				for _, l := range c.Labels {
					if l != LabelNeedsBackdoor {
						slow.Labels = append(slow.Labels, l)
					}
				}
				args = append(args, Entry(Tag(c.ID)+" "+c.Title+" (real expiry)", append(slow.decorators(), slow)...))
			}
		}
		DescribeTable(string(ep), args...)
	}
})
