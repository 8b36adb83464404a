// Package check holds the conformance assertions every spec shares, written
// once: the JSON envelope, the error body, each documented success field and
// the token answer. Each check returns an error made of Failures that name
// the broken field; In attaches the catalog entry, so a Gomega
// Expect(check.In(id, err)).To(Succeed()) prints both.
package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/suites/evidence"
)

// Failure is one broken expectation on one field of one answer.
type Failure struct {
	Entry string // catalog ID, set by In
	Field string // "status", "header Content-Type", "body.suberror", …
	Want  string
	Got   string
}

func (f *Failure) Error() string {
	prefix := ""
	if f.Entry != "" {
		prefix = "[catalog:" + f.Entry + "] "
	}
	return fmt.Sprintf("%s%s: want %s, got %s", prefix, f.Field, f.Want, f.Got)
}

func fail(field, want, got string) error { return &Failure{Field: field, Want: want, Got: got} }

// In labels every Failure in err with the catalog entry it was checked for.
// Other errors are wrapped with the entry too. In(id, nil) is nil.
func In(entry string, err error) error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range flatten(err) {
		var f *Failure
		if errors.As(e, &f) {
			c := *f
			c.Entry = entry
			out = append(out, &c)
			continue
		}
		out = append(out, fmt.Errorf("[catalog:%s] %w", entry, e))
	}
	return errors.Join(out...)
}

// Failures lists the Failures inside err (joined or wrapped).
func Failures(err error) []*Failure {
	var out []*Failure
	for _, e := range flatten(err) {
		var f *Failure
		if errors.As(e, &f) {
			out = append(out, f)
		}
	}
	return out
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// Body is a decoded JSON object answer. Numbers stay json.Number so integer
// checks are exact.
type Body map[string]any

// Decode parses a response body as one JSON object.
func Decode(body []byte) (Body, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var b Body
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("decode body: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode body: trailing data after the JSON object")
	}
	if b == nil {
		return nil, errors.New("decode body: null is not an object")
	}
	return b, nil
}

// short renders a value for a Failure, with any JWT in it redacted: the
// reason of a failed entry goes into the run record and the JUnit report
// next to evidence that is redacted, and must not undo that.
func short(v any) string {
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprintf("%v", v)
	}
	s = evidence.RedactString(s)
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// shown renders member name's value for a Failure: redacted when the
// member is a secret (a continuation token a deviating server leaves in a
// redirect answer), short(v) otherwise.
func shown(name string, v any) string {
	if evidence.IsSecretField(name) {
		return evidence.Redacted
	}
	return short(v)
}

// Envelope checks what every answer of the API must satisfy, success or
// error: no 5xx, Content-Type application/json, no CORS headers (the pages
// say the endpoints do not support CORS) and a JSON object body. It returns
// the decoded body (nil when it is not an object).
func Envelope(resp *nativeauth.Response) (Body, error) {
	if resp == nil {
		return nil, fail("response", "an HTTP answer", "none")
	}
	var errs []error
	if resp.HTTPStatus >= 500 {
		errs = append(errs, fail("status", "no 5xx for any input", fmt.Sprint(resp.HTTPStatus)))
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		errs = append(errs, fail("header Content-Type", "application/json", fmt.Sprintf("%q", ct)))
	}
	for name := range resp.Header {
		if strings.HasPrefix(strings.ToLower(name), "access-control-") {
			errs = append(errs, fail("header "+http.CanonicalHeaderKey(name), "absent (no CORS support)", fmt.Sprintf("%q", resp.Header.Get(name))))
		}
	}
	b, err := Decode(resp.Body)
	if err != nil {
		errs = append(errs, fail("body", "a JSON object", err.Error()))
	}
	return b, errors.Join(errs...)
}

// Status checks the HTTP status.
func Status(resp *nativeauth.Response, want int) error {
	if resp == nil {
		return fail("status", fmt.Sprint(want), "no answer")
	}
	if resp.HTTPStatus != want {
		return fail("status", fmt.Sprint(want), fmt.Sprint(resp.HTTPStatus))
	}
	return nil
}

// Kind is the JSON type a documented field must have.
type Kind string

const (
	KindString  Kind = "string"
	KindInteger Kind = "integer"
	KindNumber  Kind = "number"
	KindBool    Kind = "boolean"
	KindArray   Kind = "array"
	KindObject  Kind = "object"
)

// kindOf names the JSON type of a decoded value.
func kindOf(v any) Kind {
	switch t := v.(type) {
	case string:
		return KindString
	case json.Number:
		if _, err := t.Int64(); err == nil {
			return KindInteger
		}
		return KindNumber
	case bool:
		return KindBool
	case []any:
		return KindArray
	case map[string]any, Body:
		return KindObject
	case nil:
		return "null"
	}
	return "unknown"
}

// Field checks that member name is present with JSON type kind and, for a
// string, is not empty.
func (b Body) Field(name string, kind Kind) error {
	v, ok := b[name]
	if !ok {
		return fail("body."+name, "present ("+string(kind)+")", "absent")
	}
	got := kindOf(v)
	if got != kind && !(kind == KindNumber && got == KindInteger) {
		return fail("body."+name, string(kind), string(got)+" "+shown(name, v))
	}
	if kind == KindString && v.(string) == "" {
		return fail("body."+name, "a non-empty string", `""`)
	}
	return nil
}

// String returns member name if it is a string.
func (b Body) String(name string) string {
	s, _ := b[name].(string)
	return s
}

// Int returns member name if it is an integer, and whether it was.
func (b Body) Int(name string) (int64, bool) {
	n, ok := b[name].(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// Equals checks that member name is the string want.
func (b Body) Equals(name, want string) error {
	v, ok := b[name]
	if !ok {
		return fail("body."+name, fmt.Sprintf("%q", want), "absent")
	}
	if s, isStr := v.(string); !isStr || s != want {
		return fail("body."+name, fmt.Sprintf("%q", want), shown(name, v))
	}
	return nil
}

// Absent checks that member name is not in the body.
func (b Body) Absent(name string) error {
	if v, ok := b[name]; ok {
		return fail("body."+name, "absent", shown(name, v))
	}
	return nil
}

// guidPattern matches a GUID in its usual 8-4-4-4-12 hex form.
var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID.
func IsGUID(s string) bool { return guidPattern.MatchString(s) }

// timestampLayouts are the forms Entra writes in "timestamp": the pages show
// "yyyy-mm-dd 10:15:00Z"; services add fractional seconds or use RFC 3339.
var timestampLayouts = []string{
	"2006-01-02 15:04:05Z",
	"2006-01-02 15:04:05.9999999Z",
	time.RFC3339Nano,
}

// ParseTimestamp parses an error body's timestamp.
func ParseTimestamp(s string) (time.Time, error) {
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q matches none of %q", s, timestampLayouts)
}

// ErrorWant is what an error answer must carry. Suberror empty means the
// entry does not document one and any value is accepted. ErrorCodes lists
// only the normative codes: each must be in error_codes, others may be too.
type ErrorWant struct {
	HTTPStatus int
	Error      nativeauth.ErrorCode
	// AlsoAccept are other error values accepted where the pages
	// contradict themselves.
	AlsoAccept []nativeauth.ErrorCode
	Suberror   nativeauth.Suberror
	ErrorCodes []int
}

// Error checks a documented error answer: envelope, status, error, suberror,
// normative error_codes and the diagnostic members every error body has.
func Error(resp *nativeauth.Response, want ErrorWant) (Body, error) {
	b, err := Envelope(resp)
	errs := []error{err}
	if want.HTTPStatus != 0 {
		errs = append(errs, Status(resp, want.HTTPStatus))
	}
	if b == nil {
		return nil, errors.Join(errs...)
	}
	errs = append(errs, b.errorValue(want))
	if want.Suberror != "" {
		errs = append(errs, b.Equals("suberror", string(want.Suberror)))
	}
	errs = append(errs, ErrorDiagnostics(b))
	if len(want.ErrorCodes) > 0 {
		errs = append(errs, b.ErrorCodes(want.ErrorCodes))
	}
	return b, errors.Join(errs...)
}

func (b Body) errorValue(want ErrorWant) error {
	got := nativeauth.ErrorCode(b.String("error"))
	if got == want.Error || (got != "" && slices.Contains(want.AlsoAccept, got)) {
		return nil
	}
	wantText := fmt.Sprintf("%q", want.Error)
	if len(want.AlsoAccept) > 0 {
		wantText = fmt.Sprintf("one of %q", append([]nativeauth.ErrorCode{want.Error}, want.AlsoAccept...))
	}
	if _, ok := b["error"]; !ok {
		return fail("body.error", wantText, "absent")
	}
	return fail("body.error", wantText, short(b["error"]))
}

// ErrorDiagnostics checks the members every error body documents:
// error_description, error_codes (integers), timestamp, trace_id and
// correlation_id (GUIDs).
func ErrorDiagnostics(b Body) error {
	var errs []error
	errs = append(errs, b.Field("error_description", KindString))
	if err := b.Field("error_codes", KindArray); err != nil {
		errs = append(errs, err)
	} else {
		for i, c := range b["error_codes"].([]any) {
			if kindOf(c) != KindInteger {
				errs = append(errs, fail(fmt.Sprintf("body.error_codes[%d]", i), "integer", short(c)))
			}
		}
	}
	for _, name := range []string{"trace_id", "correlation_id"} {
		if err := b.Field(name, KindString); err != nil {
			errs = append(errs, err)
		} else if s := b.String(name); !IsGUID(s) {
			errs = append(errs, fail("body."+name, "a GUID", fmt.Sprintf("%q", s)))
		}
	}
	if err := b.Field("timestamp", KindString); err != nil {
		errs = append(errs, err)
	} else if _, perr := ParseTimestamp(b.String("timestamp")); perr != nil {
		errs = append(errs, fail("body.timestamp", "yyyy-mm-dd hh:mm:ssZ", fmt.Sprintf("%q", b.String("timestamp"))))
	}
	return errors.Join(errs...)
}

// ErrorCodes checks that every normative code is in error_codes.
func (b Body) ErrorCodes(normative []int) error {
	arr, _ := b["error_codes"].([]any)
	var have []int64
	for _, c := range arr {
		if n, ok := c.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				have = append(have, i)
			}
		}
	}
	var errs []error
	for _, want := range normative {
		if !slices.Contains(have, int64(want)) {
			errs = append(errs, fail("body.error_codes", fmt.Sprintf("to contain %d", want), short(b["error_codes"])))
		}
	}
	return errors.Join(errs...)
}

// Success checks a 200 answer's envelope and that it is not the redirect
// fallback, which a conforming tenant uses only when the app cannot do the
// method.
func Success(resp *nativeauth.Response) (Body, error) {
	b, err := Envelope(resp)
	errs := []error{err, Status(resp, http.StatusOK)}
	if b != nil && b.String("challenge_type") == string(nativeauth.ChallengeTypeRedirect) {
		errs = append(errs, fail("body.challenge_type", "not redirect (the app supports the method)", `"redirect"`))
	}
	if b != nil && b["error"] != nil {
		errs = append(errs, fail("body.error", "absent on success", short(b["error"])))
	}
	return b, errors.Join(errs...)
}

// rule checks one member of a success body.
type rule func(Body) error

// succeeds checks a success answer and, when it has a body, each rule on
// it, in order.
func succeeds(resp *nativeauth.Response, rules ...rule) (Body, error) {
	b, err := Success(resp)
	if b == nil {
		return nil, err
	}
	errs := []error{err}
	for _, r := range rules {
		errs = append(errs, r(b))
	}
	return b, errors.Join(errs...)
}

func field(name string, kind Kind) rule { return func(b Body) error { return b.Field(name, kind) } }
func equals(name, want string) rule     { return func(b Body) error { return b.Equals(name, want) } }
func intIn(name string, lo, hi int64) rule {
	return func(b Body) error { return b.positiveInt(name, lo, hi) }
}

var continuationToken = field("continuation_token", KindString)

// Continuation checks a success that carries only a continuation token
// (sign-up start and continue, initiate, reset start).
func Continuation(resp *nativeauth.Response) (Body, error) {
	return succeeds(resp, continuationToken)
}

// Redirect checks the {"challenge_type":"redirect"} fallback answer: 200,
// JSON, and no continuation token to go on with.
func Redirect(resp *nativeauth.Response) (Body, error) {
	b, err := Envelope(resp)
	errs := []error{err, Status(resp, http.StatusOK)}
	if b != nil {
		errs = append(errs, b.Equals("challenge_type", string(nativeauth.ChallengeTypeRedirect)))
	}
	return b, errors.Join(errs...)
}

// OOBChallenge checks an oob challenge answer: challenge_type oob,
// binding_method prompt, challenge_channel email, a masked
// challenge_target_label that does not reveal username, code_length and, if
// sent, interval as non-negative integers, and a continuation token.
func OOBChallenge(resp *nativeauth.Response, username string) (Body, error) {
	return succeeds(resp,
		equals("challenge_type", string(nativeauth.ChallengeTypeOOB)),
		continuationToken,
		equals("binding_method", nativeauth.BindingMethodPrompt),
		equals("challenge_channel", nativeauth.ChallengeChannelEmail),
		intIn("code_length", 1, 0),
		func(b Body) error {
			if _, ok := b["interval"]; !ok {
				return nil
			}
			return b.positiveInt("interval", 0, 0)
		},
		func(b Body) error {
			if err := b.Field("challenge_target_label", KindString); err != nil {
				return err
			}
			if label := b.String("challenge_target_label"); !IsMasked(label, username) {
				return fail("body.challenge_target_label", "a masked email (with * and not revealing the address)", fmt.Sprintf("%q", label))
			}
			return nil
		})
}

// IsMasked reports whether label is an obfuscated form of email: it hides
// characters with '*' and is not the address itself.
func IsMasked(label, email string) bool {
	if !strings.Contains(label, "*") {
		return false
	}
	return email == "" || !strings.EqualFold(strings.TrimSpace(label), email)
}

// PasswordChallenge checks a challenge answer that selects the password.
func PasswordChallenge(resp *nativeauth.Response) (Body, error) {
	return succeeds(resp, equals("challenge_type", string(nativeauth.ChallengeTypePassword)), continuationToken)
}

// positiveInt checks an integer member in [lo, hi] (hi 0: no upper bound).
func (b Body) positiveInt(name string, lo, hi int64) error {
	if err := b.Field(name, KindInteger); err != nil {
		return err
	}
	n, _ := b.Int(name)
	if n < lo || (hi > 0 && n > hi) {
		want := fmt.Sprintf("integer ≥ %d", lo)
		if hi > 0 {
			want = fmt.Sprintf("integer in [%d, %d]", lo, hi)
		}
		return fail("body."+name, want, fmt.Sprint(n))
	}
	return nil
}

// MaxResetExpiresIn is the documented maximum of expires_in on reset continue.
const MaxResetExpiresIn = 600

// ResetContinue checks /resetpassword/v1.0/continue success: a continuation
// token and expires_in of at most 600 seconds.
func ResetContinue(resp *nativeauth.Response) (Body, error) {
	return succeeds(resp, continuationToken, intIn("expires_in", 1, MaxResetExpiresIn))
}

// ResetSubmit checks /resetpassword/v1.0/submit success: a continuation
// token and a non-negative integer poll_interval.
func ResetSubmit(resp *nativeauth.Response) (Body, error) {
	return succeeds(resp, continuationToken, intIn("poll_interval", 0, 0))
}

// PollStatuses are the documented values of poll_completion's status.
var PollStatuses = []nativeauth.PollStatus{
	nativeauth.PollStatusSucceeded, nativeauth.PollStatusFailed,
	nativeauth.PollStatusNotStarted, nativeauth.PollStatusInProgress,
}

// Poll checks a poll_completion answer: a documented status, and a
// continuation token when it succeeded (the pages let the app sign in with
// it directly).
func Poll(resp *nativeauth.Response) (Body, error) {
	return succeeds(resp, func(b Body) error {
		if err := b.Field("status", KindString); err != nil {
			return err
		}
		s := nativeauth.PollStatus(b.String("status"))
		switch {
		case !slices.Contains(PollStatuses, s):
			return fail("body.status", fmt.Sprintf("one of %v", PollStatuses), fmt.Sprintf("%q", s))
		case s == nativeauth.PollStatusSucceeded:
			return continuationToken(b)
		}
		return nil
	})
}

// AttributeList checks the shape of required_attributes,
// invalid_attributes or unverified_attributes: an array of objects, each
// with a string name; type a string, required a boolean and options an
// object whose regex is a string, when present.
func (b Body) AttributeList(member string) error {
	if err := b.Field(member, KindArray); err != nil {
		return err
	}
	var errs []error
	for i, item := range b[member].([]any) {
		obj, ok := item.(map[string]any)
		at := fmt.Sprintf("body.%s[%d]", member, i)
		if !ok {
			errs = append(errs, fail(at, "object", short(item)))
			continue
		}
		o := Body(obj)
		if e := o.Field("name", KindString); e != nil {
			errs = append(errs, fail(at+".name", "a non-empty string", short(obj["name"])))
		}
		if v, ok := obj["type"]; ok && kindOf(v) != KindString {
			errs = append(errs, fail(at+".type", "string", short(v)))
		}
		if v, ok := obj["required"]; ok && kindOf(v) != KindBool {
			errs = append(errs, fail(at+".required", "boolean", short(v)))
		}
		if v, ok := obj["options"]; ok {
			opts, isObj := v.(map[string]any)
			if !isObj {
				errs = append(errs, fail(at+".options", "object", short(v)))
			} else if r, has := opts["regex"]; has {
				// Only the type is checked: the pages' own example ".*@.**$"
				// is not a valid RE2, so compiling it would judge the
				// tenant's regex dialect, not the API.
				if _, isStr := r.(string); !isStr {
					errs = append(errs, fail(at+".options.regex", "string", short(r)))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// AttributeNames returns the names listed in an attribute list member.
func (b Body) AttributeNames(member string) []string {
	arr, _ := b[member].([]any)
	var out []string
	for _, item := range arr {
		if obj, ok := item.(map[string]any); ok {
			if s, ok := obj["name"].(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
