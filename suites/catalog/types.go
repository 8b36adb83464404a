// Package catalog lists every behaviour the native authentication reference
// pages document, as plain data: where it happens, how to provoke it, what
// the answer must be, which page section says so, and which parts of that
// are normative. The conformance suites turn each entry into a spec; an
// auditor reads the same entries as JSON.
//
// The emulator must not import this package: it implements the pages, the
// suites check it against the catalog, and neither may be fixed by copying
// the other.
package catalog

import (
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/reports"
)

// Flow is the API flow an entry belongs to.
type Flow string

const (
	FlowSignUp   Flow = "signup"
	FlowSignIn   Flow = "signin"
	FlowSSPR     Flow = "sspr"
	FlowProtocol Flow = "protocol"
)

// Flows lists every flow in presentation order.
var Flows = []Flow{FlowSignUp, FlowSignIn, FlowSSPR, FlowProtocol}

// Kind says what sort of answer an entry describes.
type Kind string

const (
	KindSuccess  Kind = "success"  // HTTP 200 that the flow continues from
	KindRedirect Kind = "redirect" // HTTP 200 {"challenge_type":"redirect"}
	KindError    Kind = "error"    // an error body from an endpoint's table
	KindStatus   Kind = "status"   // a poll_completion status value
	KindCode     Kind = "code"     // a numeric code of the sign-up error-code page
	KindProtocol Kind = "protocol" // a rule that holds across endpoints
)

// Kinds lists every kind.
var Kinds = []Kind{KindSuccess, KindRedirect, KindError, KindStatus, KindCode, KindProtocol}

// Page names one reference page in shared/spec (file name without .txt).
type Page string

const (
	PagePassword   Page = "native-auth-email-password-api"
	PageOTP        Page = "native-auth-email-otp-api"
	PageErrorCodes Page = "signup-error-codes"
	// The 2026-02 revision (Markdown): the reference of every flow, MFA and
	// strong-method registration included, and the challenge types and
	// capabilities page.
	PageReference2026      Page = "native-auth-api-reference-2026-02"
	PageChallengeTypes2026 Page = "native-auth-challenge-types-2026-02"
)

// Pages lists the reference pages the catalog cites.
var Pages = []Page{PagePassword, PageOTP, PageErrorCodes, PageReference2026, PageChallengeTypes2026}

// File is the page's file name in shared/spec: the 2026-02 pages are
// Markdown, the older ones plain text.
func (p Page) File() string {
	if p == PageReference2026 || p == PageChallengeTypes2026 {
		return string(p) + ".md"
	}
	return string(p) + ".txt"
}

// Source is where a page documents an entry. Section is the path of
// headings, joined by " / ", each a whole line of the page, in page order
// (for example "Sign-up API reference / Step 1: Request to start the sign-up
// flow / Error response"). Quote is verbatim text of the page under that
// section (a table row, a JSON line of an example), so an auditor can find
// the exact clause.
type Source struct {
	Page    Page   `json:"page"`
	Section string `json:"section"`
	Quote   string `json:"quote,omitempty"`
}

// Field is one member of a JSON answer that an entry expects.
type Field struct {
	Name string `json:"name"`
	// JSONType is "string", "number", "boolean", "array" or "object".
	JSONType string `json:"json_type"`
	Required bool   `json:"required"`
	// Value is the exact value when the pages make it normative
	// (binding_method=prompt, token_type=Bearer…); empty otherwise.
	Value string `json:"value,omitempty"`
	// Constraint is a further rule in words the suites map to a check:
	// "<= 600", "masked email", "GUID", "integer > 0", "non-empty".
	Constraint string `json:"constraint,omitempty"`
}

// JSON types a Field may name.
const (
	JSONString  = "string"
	JSONNumber  = "number"
	JSONBoolean = "boolean"
	JSONArray   = "array"
	JSONObject  = "object"
)

// Expect is the answer an entry documents.
type Expect struct {
	HTTPStatus int `json:"http_status"`
	// StatusBasis says where HTTPStatus comes from: the pages' tables never
	// name a status, only their examples do.
	StatusBasis string               `json:"status_basis,omitempty"`
	Error       nativeauth.ErrorCode `json:"error,omitempty"`
	// AlsoAccept are other error values a conformant target may answer
	// because the pages contradict themselves for this trigger; Notes says
	// where.
	AlsoAccept []nativeauth.ErrorCode `json:"also_accept,omitempty"`
	Suberror   nativeauth.Suberror    `json:"suberror,omitempty"`
	// ErrorCodes are numeric codes the pages show for this answer;
	// ErrorCodesNormative says whether the suites check them or only
	// record them.
	ErrorCodes          []int `json:"error_codes,omitempty"`
	ErrorCodesNormative bool  `json:"error_codes_normative"`
	// AbsentErrorCodes must not appear in the error_codes of any error body
	// (the sign-up error-code page's non-errors).
	AbsentErrorCodes []int                 `json:"absent_error_codes,omitempty"`
	Fields           []Field               `json:"fields,omitempty"`
	Absent           []string              `json:"absent,omitempty"` // body members that must not be present
	Headers          []Header              `json:"headers,omitempty"`
	PollStatus       nativeauth.PollStatus `json:"poll_status,omitempty"`
}

// Header is a rule on one response header.
type Header struct {
	Name string `json:"name"`
	// Value is the required value ("application/json" matches by media
	// type); empty with Absent set means the header must not be sent.
	Value  string `json:"value,omitempty"`
	Absent bool   `json:"absent,omitempty"`
	// Prefix applies the rule to every header whose name starts with Name
	// (Access-Control-*).
	Prefix bool `json:"prefix,omitempty"`
}

// Aspect is one checkable part of an entry.
type Aspect string

const (
	AspectStatus     Aspect = "http_status"
	AspectError      Aspect = "error"
	AspectSuberror   Aspect = "suberror"
	AspectErrorCodes Aspect = "error_codes"
	AspectFields     Aspect = "fields"
	AspectHeaders    Aspect = "headers"
	AspectPollStatus Aspect = "poll_status"
)

// Normativity says which aspects of an entry the suites check (they fail
// on them) and which they only record because the pages merely illustrate
// them, and how strong the checked ones are: Basis is
// reports.StrengthNormative when a table or a rule of a page states every
// checked aspect, and reports.StrengthInferred when some checked aspect
// (listed in Inferred) rests on an example, a logs page or our reading of
// the pages. An auditor tells "the page says" from "we infer" by Basis;
// the run record carries it, in the record's own type.
type Normativity struct {
	Normative    []Aspect         `json:"normative"`
	Illustrative []Aspect         `json:"illustrative,omitempty"`
	Basis        reports.Strength `json:"basis"`
	// Inferred are the checked aspects (a subset of Normative) that no
	// table or rule states; InferredWhy says what they rest on.
	Inferred    []Aspect `json:"inferred,omitempty"`
	InferredWhy string   `json:"inferred_why,omitempty"`
	Note        string   `json:"note,omitempty"`
}

// Entry is one documented behaviour.
type Entry struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Flows []Flow `json:"flows"`
	// Methods are the sign-up methods whose page documents the entry (the
	// password page or the one-time passcode page); none: any method.
	Methods   []nativeauth.SignUpMethod `json:"methods,omitempty"`
	Endpoint  nativeauth.Endpoint       `json:"endpoint,omitempty"`
	Kind      Kind                      `json:"kind"`
	Trigger   Trigger                   `json:"trigger"`
	Expect    Expect                    `json:"expect"`
	Source    []Source                  `json:"source"`
	Normative Normativity               `json:"normativity"`
	Needs     []profile.Capability      `json:"needs,omitempty"`
	Labels    []string                  `json:"labels"`
	Notes     string                    `json:"notes,omitempty"`
}
