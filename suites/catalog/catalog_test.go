package catalog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/reports"
)

var idPattern = regexp.MustCompile(`^(signup|signin|sspr|register|protocol|codes)(\.[a-z0-9_]+)+$`)

func TestIDsUniqueAndWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range All() {
		if !idPattern.MatchString(e.ID) {
			t.Errorf("ID %q does not match %s", e.ID, idPattern)
		}
		if seen[e.ID] {
			t.Errorf("ID %q is used twice", e.ID)
		}
		seen[e.ID] = true
		if strings.TrimSpace(e.Title) == "" {
			t.Errorf("%s: no title", e.ID)
		}
	}
}

// TestEveryEndpointHasSuccessAndError: each flow endpoint has at least one
// answer the flow goes on from and at least one documented error.
func TestEveryEndpointHasSuccessAndError(t *testing.T) {
	ok, bad := map[nativeauth.Endpoint]int{}, map[nativeauth.Endpoint]int{}
	for _, e := range All() {
		switch e.Kind {
		case KindSuccess, KindStatus:
			ok[e.Endpoint]++
		case KindError:
			bad[e.Endpoint]++
		}
	}
	for _, ep := range nativeauth.Endpoints {
		if ok[ep] == 0 {
			t.Errorf("%s: no success entry", ep)
		}
		if bad[ep] == 0 {
			t.Errorf("%s: no error entry", ep)
		}
	}
}

// suberrorParent is the error each suberror refines on the pages.
var suberrorParent = map[nativeauth.Suberror]nativeauth.ErrorCode{
	nativeauth.SuberrorNativeAuthAPIDisabled:     nativeauth.ErrInvalidClient,
	nativeauth.SuberrorInvalidOOBValue:           nativeauth.ErrInvalidGrant,
	nativeauth.SuberrorPasswordTooWeak:           nativeauth.ErrInvalidGrant,
	nativeauth.SuberrorPasswordTooShort:          nativeauth.ErrInvalidGrant,
	nativeauth.SuberrorPasswordTooLong:           nativeauth.ErrInvalidGrant,
	nativeauth.SuberrorPasswordRecentlyUsed:      nativeauth.ErrInvalidGrant,
	nativeauth.SuberrorPasswordBanned:            nativeauth.ErrInvalidGrant,
	nativeauth.SuberrorPasswordIsInvalid:         nativeauth.ErrInvalidGrant,
	nativeauth.SuberrorAttributeValidationFailed: nativeauth.ErrInvalidGrant,
	// The 2026-02 revision's.
	nativeauth.SuberrorMFARequired:            nativeauth.ErrInvalidGrant,
	nativeauth.SuberrorRegistrationRequired:   nativeauth.ErrInvalidGrant,
	nativeauth.SuberrorProviderBlockedByRep:   nativeauth.ErrAccessDenied,
	nativeauth.SuberrorProviderBlockedByAdmin: nativeauth.ErrAccessDenied,
}

// documentedErrors are the error values the pages' tables use.
var documentedErrors = []nativeauth.ErrorCode{
	nativeauth.ErrInvalidRequest, nativeauth.ErrInvalidClient, nativeauth.ErrUnauthorizedClient,
	nativeauth.ErrUnsupportedChallengeType, nativeauth.ErrUnsupportedGrantType, nativeauth.ErrInvalidGrant,
	nativeauth.ErrExpiredToken, nativeauth.ErrInvalidScope, nativeauth.ErrUserAlreadyExists,
	nativeauth.ErrUserNotFound, nativeauth.ErrAttributesRequired, nativeauth.ErrCredentialRequired,
	nativeauth.ErrVerificationRequired,
	// The 2026-02 revision's.
	nativeauth.ErrAccessDenied, nativeauth.ErrServerError,
}

func TestErrorsAndSuberrors(t *testing.T) {
	for _, e := range All() {
		x := e.Expect
		if e.Kind == KindError {
			if x.HTTPStatus != http.StatusBadRequest {
				t.Errorf("%s: error entry with status %d, want 400", e.ID, x.HTTPStatus)
			}
			if x.Error == "" {
				t.Errorf("%s: error entry without error", e.ID)
			}
			if !strings.Contains(e.ID, ".error."+string(x.Error)) {
				t.Errorf("%s: ID does not name its error %s", e.ID, x.Error)
			}
		}
		if x.Error != "" && !slices.Contains(documentedErrors, x.Error) {
			t.Errorf("%s: error %q is not a documented value", e.ID, x.Error)
		}
		for _, alt := range x.AlsoAccept {
			if alt == x.Error || !slices.Contains(documentedErrors, alt) {
				t.Errorf("%s: also-accepted %q is the error itself or undocumented", e.ID, alt)
			}
		}
		if len(x.AlsoAccept) > 0 && e.Notes == "" && e.Normative.Note == "" {
			t.Errorf("%s: accepts alternatives without saying why", e.ID)
		}
		if x.Suberror != "" {
			parent, ok := suberrorParent[x.Suberror]
			if !ok {
				t.Errorf("%s: unknown suberror %q", e.ID, x.Suberror)
			} else if x.Error != parent {
				t.Errorf("%s: suberror %s under %s, want under %s", e.ID, x.Suberror, x.Error, parent)
			}
			if e.Kind == KindError && !strings.HasSuffix(e.ID, "."+string(x.Suberror)) {
				t.Errorf("%s: ID does not end in its suberror %s", e.ID, x.Suberror)
			}
		}
		if e.Kind == KindSuccess || e.Kind == KindRedirect || e.Kind == KindStatus {
			if x.HTTPStatus != http.StatusOK || x.Error != "" {
				t.Errorf("%s: %s entry with status %d error %q", e.ID, e.Kind, x.HTTPStatus, x.Error)
			}
		}
		if e.Kind == KindRedirect {
			if !slices.Contains(x.Fields, val("challenge_type", "redirect")) || !slices.Contains(x.Absent, "continuation_token") {
				t.Errorf("%s: a redirect must expect challenge_type=redirect and no continuation_token", e.ID)
			}
		}
		if e.Kind == KindStatus && x.PollStatus == "" {
			t.Errorf("%s: status entry without a poll status", e.ID)
		}
	}
}

// TestRequiredCoverage lists what the pages document and the catalog must
// hold: every (endpoint, error, suberror) triple of the tables.
func TestRequiredCoverage(t *testing.T) {
	checkRequiredErrors(t)
	checkRequiredIDs(t)
	checkTokenSuccesses(t)
}

// errorKey is one (endpoint, error, suberror) triple of the pages' tables.
type errorKey struct {
	ep  nativeauth.Endpoint
	err nativeauth.ErrorCode
	sub nativeauth.Suberror
}

// checkRequiredErrors asserts an error entry for every triple the pages
// document.
func checkRequiredErrors(t *testing.T) {
	t.Helper()
	have := map[errorKey]bool{}
	for _, e := range All() {
		if e.Kind == KindError {
			have[errorKey{e.Endpoint, e.Expect.Error, e.Expect.Suberror}] = true
		}
	}
	E := func(ep nativeauth.Endpoint, errs ...nativeauth.ErrorCode) []errorKey {
		var out []errorKey
		for _, er := range errs {
			out = append(out, errorKey{ep, er, ""})
		}
		return out
	}
	var want []errorKey
	want = append(want, E(suStart, "invalid_request", "invalid_client", "unauthorized_client", "unsupported_challenge_type", "user_already_exists")...)
	want = append(want, E(suChallenge, "invalid_request", "invalid_client", "expired_token", "unsupported_challenge_type", "invalid_grant")...)
	want = append(want, E(suContinue, "credential_required", "invalid_request", "invalid_grant", "expired_token", "attributes_required", "invalid_client", "user_already_exists", "verification_required")...)
	want = append(want, E(siInitiate, "invalid_request", "unauthorized_client", "invalid_client", "user_not_found", "unsupported_challenge_type")...)
	want = append(want, E(siChallenge, "invalid_request", "invalid_grant", "expired_token", "unsupported_challenge_type")...)
	want = append(want, E(token, "invalid_request", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "expired_token", "invalid_scope", "invalid_client")...)
	want = append(want, E(rsStart, "invalid_request", "user_not_found", "unsupported_challenge_type", "invalid_client", "unauthorized_client")...)
	want = append(want, E(rsChallenge, "invalid_request", "expired_token", "unsupported_challenge_type")...)
	want = append(want, E(rsContinue, "invalid_request", "invalid_grant", "expired_token")...)
	want = append(want, E(rsSubmit, "invalid_request", "expired_token")...)
	want = append(want, E(rsPoll, "invalid_request", "expired_token")...)
	for _, ep := range []nativeauth.Endpoint{suStart, siInitiate, rsStart} {
		want = append(want, errorKey{ep, nativeauth.ErrInvalidClient, nativeauth.SuberrorNativeAuthAPIDisabled})
	}
	for _, ep := range []nativeauth.Endpoint{suContinue, token, rsContinue} {
		want = append(want, errorKey{ep, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue})
	}
	for _, ep := range []nativeauth.Endpoint{suStart, suContinue, rsSubmit} {
		for _, p := range passwordSuberrors {
			want = append(want, errorKey{ep, nativeauth.ErrInvalidGrant, p.sub})
		}
	}
	want = append(want, errorKey{suContinue, nativeauth.ErrInvalidGrant, nativeauth.SuberrorAttributeValidationFailed})
	for _, k := range want {
		if !have[k] {
			t.Errorf("no error entry for %s error=%s suberror=%s", k.ep, k.err, k.sub)
		}
	}
}

// checkRequiredIDs asserts the success, redirect, status, code and
// protocol entries the pages document.
func checkRequiredIDs(t *testing.T) {
	t.Helper()
	ids := []string{
		"signup.start.success", "signup.start.redirect", "signup.challenge.oob.success", "signup.challenge.password.success",
		"signup.challenge.redirect", "signup.continue.oob.success", "signup.continue.password.success",
		"signup.continue.attributes.success", "signup.continue.redirect", "signup.token.success",
		"signin.initiate.success", "signin.initiate.redirect", "signin.challenge.password.success", "signin.challenge.oob.success",
		"signin.challenge.redirect", "signin.token.password.success", "signin.token.oob.success", "signin.token.refresh_token.success",
		"sspr.start.success", "sspr.start.redirect", "sspr.challenge.oob.success", "sspr.challenge.redirect", "sspr.continue.success",
		"sspr.submit.success", "sspr.token.success",
		"sspr.poll_completion.status.succeeded", "sspr.poll_completion.status.failed",
		"sspr.poll_completion.status.not_started", "sspr.poll_completion.status.in_progress",
		"codes.50181", "codes.50182", "codes.1002027", "codes.399279", "codes.1002013", "codes.50140",
		"protocol.content_type_json", "protocol.no_cors", "protocol.no_cors.preflight", "protocol.error_body",
		"protocol.redirect_shape", "protocol.token.id_token_only_with_openid", "protocol.token.refresh_token_only_with_offline_access",
		"protocol.continuation_token.other_flow", "protocol.continuation_token.other_step",
		"protocol.continuation_token.tampered", "protocol.continuation_token.expired", "protocol.oob.superseded",
	}
	for _, id := range ids {
		if _, ok := ByID(id); !ok {
			t.Errorf("missing entry %s", id)
		}
	}
}

// checkTokenSuccesses asserts a token success for every grant type the
// pages document, and the reset's bound on expires_in.
func checkTokenSuccesses(t *testing.T) {
	t.Helper()
	grants := map[TriggerName]bool{}
	for _, e := range All() {
		if e.Endpoint == token && e.Kind == KindSuccess {
			grants[e.Trigger.Name] = true
		}
	}
	for _, tr := range []TriggerName{TriggerTokenAfterSignUp, TriggerSubmitPassword, TriggerSubmitOOB, TriggerTokenAfterSSPR, TriggerRefreshToken} {
		if !grants[tr] {
			t.Errorf("no token success entry for trigger %s", tr)
		}
	}
	if e, _ := ByID("sspr.continue.success"); !slices.ContainsFunc(e.Expect.Fields, func(f Field) bool {
		return f.Name == "expires_in" && strings.Contains(f.Constraint, "<= 600")
	}) {
		t.Error("sspr.continue.success must bound expires_in by 600")
	}
}

func TestVocabularies(t *testing.T) {
	vocab := Labels()
	if !slices.IsSorted(vocab) || len(slices.Compact(slices.Clone(vocab))) != len(vocab) {
		t.Error("the label vocabulary must be sorted and without duplicates")
	}
	for _, l := range vocab {
		if _, err := types.ValidateAndCleanupLabel(l, types.CodeLocation{}); err != nil {
			t.Errorf("label %q is not a valid Ginkgo label: %v", l, err)
		}
		if strings.Count(l, ":") > 1 {
			t.Errorf("label %q has more than one ':'", l)
		}
	}
	triggers := Triggers()
	caps := profile.KnownCapabilities()
	for _, e := range All() {
		for _, l := range e.Labels {
			if !slices.Contains(vocab, l) {
				t.Errorf("%s: label %q is not in the frozen vocabulary", e.ID, l)
			}
		}
		if !slices.Contains(triggers, e.Trigger.Name) || e.Trigger.Description == "" {
			t.Errorf("%s: trigger %q unknown or undescribed", e.ID, e.Trigger.Name)
		}
		for _, c := range e.Needs {
			if !slices.Contains(caps, c) {
				t.Errorf("%s: capability %q is not in the list", e.ID, c)
			}
		}
		if len(e.Flows) == 0 {
			t.Errorf("%s: no flow", e.ID)
		}
		for _, f := range e.Flows {
			if !slices.Contains(Flows, f) {
				t.Errorf("%s: unknown flow %q", e.ID, f)
			}
		}
		for _, m := range e.Methods {
			if m != nativeauth.SignUpMethodPassword && m != nativeauth.SignUpMethodOTP {
				t.Errorf("%s: unknown method %q", e.ID, m)
			}
		}
		if !slices.Contains(Kinds, e.Kind) {
			t.Errorf("%s: unknown kind %q", e.ID, e.Kind)
		}
		if e.Endpoint != "" && EndpointName(e.Endpoint) == "" {
			t.Errorf("%s: endpoint %q is not a flow endpoint", e.ID, e.Endpoint)
		}
		if e.Kind != KindProtocol && e.Kind != KindCode && e.Endpoint == "" {
			t.Errorf("%s: only protocol and code entries may leave the endpoint empty", e.ID)
		}
		for _, f := range e.Expect.Fields {
			if !slices.Contains([]string{JSONString, JSONNumber, JSONBoolean, JSONArray, JSONObject}, f.JSONType) || f.Name == "" {
				t.Errorf("%s: field %+v", e.ID, f)
			}
		}
		if len(e.Normative.Normative) == 0 {
			t.Errorf("%s: nothing normative to check", e.ID)
		}
	}
	for _, tr := range triggers {
		if TriggerDescription(tr) == "" {
			t.Errorf("trigger %s has no description", tr)
		}
	}
}

// TestLabelsDerived checks the label derivation on one entry of each shape.
func TestLabelsDerived(t *testing.T) {
	tests := []struct {
		id   string
		want []string
	}{
		{"signup.start.error.invalid_client.nativeauthapi_disabled", []string{"endpoint:signup.start", "flow:signup", "kind:error", "needs:disabled-client"}},
		{"sspr.poll_completion.status.failed", []string{"endpoint:sspr.poll_completion", "flow:sspr", "kind:status", "method:password", "needs:backdoor", "needs:backdoor-poll", "needs:existing-user", "needs:sspr"}},
		{"protocol.no_cors", []string{"flow:protocol", "kind:protocol"}},
		{"signup.start.error.unsupported_challenge_type", []string{"endpoint:signup.start", "flow:signup", "kind:error", "normative:partial"}},
	}
	for _, tt := range tests {
		e, ok := ByID(tt.id)
		if !ok {
			t.Fatalf("no entry %s", tt.id)
		}
		if !reflect.DeepEqual(e.Labels, tt.want) {
			t.Errorf("%s labels = %v, want %v", tt.id, e.Labels, tt.want)
		}
	}
}

func TestNormativity(t *testing.T) {
	for _, e := range All() {
		n := e.Normative
		if len(e.Expect.ErrorCodes) > 0 {
			inN, inI := slices.Contains(n.Normative, AspectErrorCodes), slices.Contains(n.Illustrative, AspectErrorCodes)
			if inN != e.Expect.ErrorCodesNormative || inN == inI {
				t.Errorf("%s: error_codes normative=%v but normative=%v illustrative=%v", e.ID, e.Expect.ErrorCodesNormative, inN, inI)
			}
		}
		if e.Expect.Error != "" && !slices.Contains(n.Normative, AspectError) && !slices.Contains(n.Illustrative, AspectError) {
			t.Errorf("%s: error neither checked nor recorded", e.ID)
		}
		if e.Expect.Error != "" && slices.Contains(n.Normative, AspectError) == slices.Contains(n.Illustrative, AspectError) {
			t.Errorf("%s: error both checked and only recorded, or neither", e.ID)
		}
		for _, a := range n.Inferred {
			if !slices.Contains(n.Normative, a) {
				t.Errorf("%s: inferred aspect %s is not checked", e.ID, a)
			}
		}
		if (len(n.Inferred) > 0) != (n.InferredWhy != "") {
			t.Errorf("%s: inferred aspects %v with reason %q: both or neither", e.ID, n.Inferred, n.InferredWhy)
		}
		want := reports.StrengthNormative
		if len(n.Inferred) > 0 {
			want = reports.StrengthInferred
		}
		if n.Basis != want {
			t.Errorf("%s: basis %q, want %q for inferred aspects %v", e.ID, n.Basis, want, n.Inferred)
		}
	}
	// The pages reuse codes across unrelated errors, and no table states
	// one: an example body or the sign-up logs page makes none normative.
	for _, e := range All() {
		if e.Expect.ErrorCodesNormative {
			t.Errorf("%s: error codes marked normative", e.ID)
		}
	}
}

func TestAllIsStableAndCopied(t *testing.T) {
	a, b := All(), All()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("All() differs between calls")
	}
	a[0].ID = "changed"
	a[0].Labels[0] = "changed"
	a[0].Expect.Fields[0].Name = "changed"
	c := All()
	if c[0].ID == "changed" || c[0].Labels[0] == "changed" || c[0].Expect.Fields[0].Name == "changed" {
		t.Error("All() shares memory with the catalog")
	}
	for _, e := range c {
		got, ok := ByID(e.ID)
		if !ok || !reflect.DeepEqual(got, e) {
			t.Errorf("ByID(%s) = %v, %v", e.ID, ok, got.ID)
		}
	}
	if _, ok := ByID("no.such.entry"); ok {
		t.Error("ByID found an unknown ID")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	all := All()
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	var back []Entry
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(all, back) {
		for i := range all {
			if !reflect.DeepEqual(all[i], back[i]) {
				t.Fatalf("entry %s changes through JSON:\n%+v\n%+v", all[i].ID, all[i], back[i])
			}
		}
	}
}

func TestFilter(t *testing.T) {
	all := All()
	tests := []struct {
		f    Filter
		pred func(Entry) bool
	}{
		{Filter{}, func(Entry) bool { return true }},
		{Filter{Endpoint: token}, func(e Entry) bool { return e.Endpoint == token }},
		{Filter{Flow: FlowSSPR}, func(e Entry) bool { return slices.Contains(e.Flows, FlowSSPR) }},
		{Filter{Label: "needs:backdoor"}, func(e Entry) bool {
			return slices.ContainsFunc(e.Needs, profile.Capability.IsBackdoor)
		}},
		{Filter{Endpoint: suStart, Label: "kind:redirect"}, func(e Entry) bool { return e.Endpoint == suStart && e.Kind == KindRedirect }},
	}
	for _, tt := range tests {
		got := Select(all, tt.f)
		var want []Entry
		for _, e := range all {
			if tt.pred(e) {
				want = append(want, e)
			}
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("Select(%+v): %d entries, want %d (non-zero)", tt.f, len(got), len(want))
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in   string
		want nativeauth.Endpoint
		ok   bool
	}{
		{"signup.start", suStart, true},
		{"/signup/v1.0/start", suStart, true},
		{"oauth2/v2.0/token", token, true},
		{" sspr.poll_completion ", rsPoll, true},
		{"token", token, true},
		{"", "", false},
		{"signup", "", false},
		{"/v2.0/.well-known/openid-configuration", "", false},
		{"SIGNUP.START", "", false},
	}
	for _, tt := range tests {
		got, err := ParseEndpoint(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseEndpoint(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseFlow(t *testing.T) {
	tests := []struct {
		in   string
		want Flow
		ok   bool
	}{
		{"signup", FlowSignUp, true}, {"SSPR", FlowSSPR, true}, {" protocol", FlowProtocol, true},
		{"sign-up", "", false}, {"", "", false},
	}
	for _, tt := range tests {
		got, err := ParseFlow(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseFlow(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseEndpoint: the --endpoint flag is user input. A parse either
// fails or names a flow endpoint whose short name parses back to it.
func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"signup.start", "/oauth2/v2.0/token", "token", "", "/", "sspr.", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ep, err := ParseEndpoint(s)
		if err != nil {
			if ep != "" {
				t.Fatalf("error with endpoint %q", ep)
			}
			return
		}
		name := EndpointName(ep)
		if name == "" {
			t.Fatalf("ParseEndpoint(%q) = %q, not a flow endpoint", s, ep)
		}
		if back, err := ParseEndpoint(name); err != nil || back != ep {
			t.Fatalf("short name %q does not parse back: %q, %v", name, back, err)
		}
	})
}

func ExampleByID() {
	e, _ := ByID("signup.start.error.user_already_exists")
	fmt.Println(e.Endpoint, e.Expect.HTTPStatus, e.Expect.Error, e.Normative.Illustrative)
	// Output: /signup/v1.0/start 400 user_already_exists [error_codes]
}

func TestParseLabel(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"flow:signup", "flow:signup", true}, {" needs:backdoor ", "needs:backdoor", true},
		{"flow:signups", "", false}, {"", "", false}, {"needs:backdoor:clock", "", false},
	}
	for _, tt := range tests {
		got, err := ParseLabel(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseLabel(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
