package catalog

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/reports"
)

// statusBasis is why every error entry expects 400: the tables name no
// status, but every error example on both pages is "HTTP/1.1 400 Bad Request".
const statusBasis = `every error example on the pages is "HTTP/1.1 400 Bad Request"; the error tables name no status`

// successBasis is why success, redirect and status entries expect 200.
const successBasis = `the success and redirect examples are "HTTP/1.1 200 OK"`

var (
	buildOnce sync.Once
	built     []Entry
	byID      map[string]int
)

func build() {
	var all []Entry
	all = append(all, signUpEntries()...)
	all = append(all, signInEntries()...)
	all = append(all, ssprEntries()...)
	all = append(all, tokenEntries()...)
	all = append(all, protocolEntries()...)
	all = append(all, codeEntries()...)
	all = append(all, strongAuthEntries()...)
	byID = make(map[string]int, len(all))
	for i := range all {
		needFirstFactorTokens(&all[i])
		finish(&all[i])
		// A duplicate ID is a catalog bug the self-check reports; the first
		// entry wins so ByID stays deterministic.
		if _, dup := byID[all[i].ID]; !dup {
			byID[all[i].ID] = i
		}
	}
	built = all
}

// All returns every entry in a stable order: sign-up, sign-in, SSPR, token,
// protocol, error codes, each in page order. The slice is a deep copy the
// caller may change.
func All() []Entry {
	buildOnce.Do(build)
	out := make([]Entry, len(built))
	for i, e := range built {
		out[i] = e.clone()
	}
	return out
}

// ByID returns the entry with the given ID.
func ByID(id string) (Entry, bool) {
	buildOnce.Do(build)
	i, ok := byID[id]
	if !ok {
		return Entry{}, false
	}
	return built[i].clone(), true
}

func (e Entry) clone() Entry {
	c := e
	c.Flows = slices.Clone(e.Flows)
	c.Methods = slices.Clone(e.Methods)
	c.Source = slices.Clone(e.Source)
	c.Needs = slices.Clone(e.Needs)
	c.Labels = slices.Clone(e.Labels)
	c.Normative.Normative = slices.Clone(e.Normative.Normative)
	c.Normative.Illustrative = slices.Clone(e.Normative.Illustrative)
	c.Normative.Inferred = slices.Clone(e.Normative.Inferred)
	c.Expect.AlsoAccept = slices.Clone(e.Expect.AlsoAccept)
	c.Expect.ErrorCodes = slices.Clone(e.Expect.ErrorCodes)
	c.Expect.AbsentErrorCodes = slices.Clone(e.Expect.AbsentErrorCodes)
	c.Expect.Fields = slices.Clone(e.Expect.Fields)
	c.Expect.Absent = slices.Clone(e.Expect.Absent)
	c.Expect.Headers = slices.Clone(e.Expect.Headers)
	return c
}

// finish fills what every entry derives the same way: the default status,
// the trigger wording, the normativity split and the labels.
func finish(e *Entry) {
	x := &e.Expect
	if x.HTTPStatus == 0 {
		switch e.Kind {
		case KindError:
			x.HTTPStatus = http.StatusBadRequest
		case KindSuccess, KindRedirect, KindStatus:
			x.HTTPStatus = http.StatusOK
		}
	}
	if x.StatusBasis == "" && x.HTTPStatus != 0 {
		if x.HTTPStatus == http.StatusBadRequest {
			x.StatusBasis = statusBasis
		} else {
			x.StatusBasis = successBasis
		}
	}
	if e.Trigger.Description == "" {
		e.Trigger.Description = triggerDescriptions[e.Trigger.Name]
	}
	if e.Normative.Normative == nil {
		var n, ill []Aspect
		if x.HTTPStatus != 0 {
			n = append(n, AspectStatus)
		}
		if x.Error != "" {
			n = append(n, AspectError)
		}
		if x.Suberror != "" {
			n = append(n, AspectSuberror)
		}
		if x.PollStatus != "" {
			n = append(n, AspectPollStatus)
		}
		if len(x.Fields) > 0 || len(x.Absent) > 0 {
			n = append(n, AspectFields)
		}
		if len(x.Headers) > 0 {
			n = append(n, AspectHeaders)
		}
		if len(x.AbsentErrorCodes) > 0 || (len(x.ErrorCodes) > 0 && x.ErrorCodesNormative) {
			n = append(n, AspectErrorCodes)
		} else if len(x.ErrorCodes) > 0 {
			ill = append(ill, AspectErrorCodes)
		}
		// An aspect the entry declared illustrative is recorded, not
		// checked, whatever its expectation says.
		n = slices.DeleteFunc(n, func(a Aspect) bool { return slices.Contains(e.Normative.Illustrative, a) })
		e.Normative.Normative = n
		e.Normative.Illustrative = append(ill, e.Normative.Illustrative...)
	}
	if e.Normative.InferredWhy != "" && len(e.Normative.Inferred) == 0 {
		e.Normative.Inferred = slices.Clone(e.Normative.Normative)
	}
	if e.Normative.Normative == nil {
		e.Normative.Normative = []Aspect{}
	}
	if e.Normative.Basis == "" {
		e.Normative.Basis = reports.StrengthNormative
		if len(e.Normative.Inferred) > 0 {
			e.Normative.Basis = reports.StrengthInferred
		}
	}
	e.Labels = deriveLabels(*e)
}

func deriveLabels(e Entry) []string {
	var ls []string
	for _, f := range e.Flows {
		ls = append(ls, "flow:"+string(f))
	}
	for _, m := range e.Methods {
		ls = append(ls, "method:"+string(m))
	}
	ls = append(ls, "kind:"+string(e.Kind))
	if n := EndpointName(e.Endpoint); n != "" {
		ls = append(ls, "endpoint:"+n)
	}
	backdoor := false
	for _, c := range e.Needs {
		ls = append(ls, NeedsLabel(c))
		backdoor = backdoor || c.IsBackdoor()
	}
	if backdoor {
		ls = append(ls, "needs:backdoor")
	}
	if revision2026Only(e) {
		ls = append(ls, "revision:2026-02")
	}
	if len(e.Expect.AlsoAccept) > 0 || len(e.Normative.Illustrative) > 0 && slices.Contains(e.Normative.Illustrative, AspectError) {
		ls = append(ls, "normative:partial")
	}
	slices.Sort(ls)
	return slices.Compact(ls)
}

// Filter selects entries; zero fields select everything.
type Filter struct {
	Endpoint nativeauth.Endpoint
	Flow     Flow
	Label    string
}

// Match reports whether e passes every set field of f.
func (f Filter) Match(e Entry) bool {
	if f.Endpoint != "" && e.Endpoint != f.Endpoint {
		return false
	}
	if f.Flow != "" && !slices.Contains(e.Flows, f.Flow) {
		return false
	}
	if f.Label != "" && !slices.Contains(e.Labels, f.Label) {
		return false
	}
	return true
}

// Select returns the entries that match f, in catalog order.
func Select(entries []Entry, f Filter) []Entry {
	var out []Entry
	for _, e := range entries {
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out
}

// ParseEndpoint reads an endpoint as a user types it: the path
// ("/signup/v1.0/start", with or without the leading slash) or the short
// name ("signup.start").
func ParseEndpoint(s string) (nativeauth.Endpoint, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", fmt.Errorf("empty endpoint")
	}
	for _, ep := range nativeauth.Endpoints {
		if t == endpointNames[ep] || t == string(ep) || "/"+t == string(ep) {
			return ep, nil
		}
	}
	names := make([]string, 0, len(nativeauth.Endpoints))
	for _, ep := range nativeauth.Endpoints {
		names = append(names, endpointNames[ep])
	}
	return "", fmt.Errorf("unknown endpoint %q (want a path such as /signup/v1.0/start or one of %s)", s, strings.Join(names, ", "))
}

// ParseFlow reads a flow name.
func ParseFlow(s string) (Flow, error) {
	t := Flow(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Flows, t) {
		return t, nil
	}
	return "", fmt.Errorf("unknown flow %q (want one of signup, signin, sspr, protocol)", s)
}

// ParseLabel checks a label against the frozen vocabulary, so a mistyped
// filter fails instead of selecting nothing.
func ParseLabel(s string) (string, error) {
	t := strings.TrimSpace(s)
	if slices.Contains(labelVocabulary, t) {
		return t, nil
	}
	return "", fmt.Errorf("unknown label %q (want one of %s)", s, strings.Join(Labels(), ", "))
}
