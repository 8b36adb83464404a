package conformance

import (
	"slices"
	"strings"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
	"github.com/ciamcheck/ciamcheck/suites/check"
)

// LabelSlow marks specs that may wait minutes in real time.
const LabelSlow = catalog.LabelSlow

// LabelVocabulary is the frozen label vocabulary, the catalog's.
func LabelVocabulary() []string { return catalog.Labels() }

// Cases turns every catalog entry into the case its spec runs.
func Cases() []Case {
	var out []Case
	for _, e := range catalog.All() {
		out = append(out, caseOf(e))
	}
	return out
}

func caseOf(e catalog.Entry) Case {
	x := e.Expect
	c := Case{
		ID:               e.ID,
		Title:            e.Title,
		Kind:             string(e.Kind),
		Endpoint:         e.Endpoint,
		Trigger:          string(e.Trigger.Name),
		Redirect:         e.Kind == catalog.KindRedirect,
		Absent:           x.Absent,
		AbsentErrorCodes: x.AbsentErrorCodes,
		PollStatus:       x.PollStatus,
		Labels:           e.Labels,
		Source:           sourceText(e.Source),
		Slow:             slices.Contains(e.Labels, catalog.LabelSlow),
		Want: check.ErrorWant{
			HTTPStatus: x.HTTPStatus,
			Error:      x.Error,
			AlsoAccept: x.AlsoAccept,
			Suberror:   x.Suberror,
		},
	}
	if len(e.Flows) > 0 {
		c.Flow = string(e.Flows[0])
	}
	if x.ErrorCodesNormative {
		c.Want.ErrorCodes = x.ErrorCodes
	}
	for _, f := range x.Fields {
		c.Rules = append(c.Rules, check.FieldRule{Name: f.Name, JSONType: f.JSONType, Required: f.Required, Value: f.Value, Constraint: f.Constraint})
	}
	for _, h := range x.Headers {
		c.Headers = append(c.Headers, check.HeaderRule{Name: h.Name, Value: h.Value, Absent: h.Absent, Prefix: h.Prefix})
	}
	c.Normative = []string{}
	for _, a := range e.Normative.Normative {
		c.Normative = append(c.Normative, string(a))
	}
	for _, n := range e.Needs {
		c.Needs = append(c.Needs, string(n))
	}
	return c
}

func sourceText(src []catalog.Source) string {
	var parts []string
	for _, s := range src {
		parts = append(parts, string(s.Page)+" § "+s.Section)
	}
	return strings.Join(parts, "; ")
}

// catalogRefs lists every catalog entry for the run record, in order.
func catalogRefs() []EntryRef {
	var out []EntryRef
	for _, e := range catalog.All() {
		out = append(out, EntryRef{ID: e.ID, Source: sourceText(e.Source)})
	}
	return out
}

// Entries lists every catalog entry (ID and source).
func Entries() []EntryRef { return catalogRefs() }

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

// flowID names the entries of a flow spec in failure messages.
func flowID(key string) string { return strings.Join(flowEntries[key], ",") }

// flowText is a flow spec's text: its catalog tag and what it shows.
func flowText(key, text string) string { return Tag(flowEntries[key]...) + " " + text }

// protocolEndpoint is where a protocol entry without an endpoint is shown:
// one that takes a continuation token for token rules, sign-up start for
// the rest.
func protocolEndpoint(trigger string) nativeauth.Endpoint {
	if strings.HasPrefix(trigger, "continuation_token_") {
		return nativeauth.EndpointSignUpContinue
	}
	return nativeauth.EndpointSignUpStart
}
