package check

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

// Constraints the catalog writes in words, and the check each maps to.
const (
	ConstraintMaxExpiresIn = "<= 600"
	ConstraintMasked       = "masked email"
	ConstraintGUID         = "GUID"
	ConstraintPositiveInt  = "integer > 0"
	ConstraintNonEmpty     = "non-empty"
)

// Rule checks one member of an answer as the catalog states it: JSON type,
// whether it must be present, an exact normative value, and a constraint in
// words (see Constraint*). username is the user the answer is about, for
// the masking rule. An unknown constraint is a Failure: a rule the suite
// cannot check must not pass silently.
func (b Body) Rule(r catalog.Field, username string) error {
	v, present := b[r.Name]
	if !present {
		if r.Required {
			return fail("body."+r.Name, "present ("+r.JSONType+")", "absent")
		}
		return nil
	}
	kind := Kind(r.JSONType)
	if r.JSONType == "" {
		kind = kindOf(v)
	}
	if err := b.Field(r.Name, kind); err != nil && !(kind == KindString && v == "" && !r.Required) {
		return err
	}
	if r.Value != "" {
		if got := scalarText(v); got != r.Value {
			return fail("body."+r.Name, fmt.Sprintf("%q", r.Value), shown(r.Name, v))
		}
	}
	return b.constraint(r.Name, r.Constraint, v, username)
}

func scalarText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	default:
		return short(v)
	}
}

// constraint checks a catalog constraint written in words. It recognises
// the phrases the catalog uses ("masked email", "GUID", "integer > 0",
// "<= 600", "non-empty list of {name…}", "list of integers", "date and
// time", "JWT…"); words that only explain ("seconds", "present because …")
// need no check. A constraint with no recognised phrase is a Failure, so a
// rule the suite cannot check never passes silently.
func (b Body) constraint(name, c string, v any, username string) error {
	text := strings.ToLower(strings.TrimSpace(c))
	if text == "" {
		return nil
	}
	field := "body." + name
	known := false
	var errs []error
	has := func(phrase string) bool {
		if strings.Contains(text, phrase) {
			known = true
			return true
		}
		return false
	}
	if has("masked email") {
		if s, _ := v.(string); !IsMasked(s, username) {
			errs = append(errs, fail(field, "a masked email", short(v)))
		}
	}
	if has("guid") {
		if s, _ := v.(string); !IsGUID(s) {
			errs = append(errs, fail(field, "a GUID", short(v)))
		}
	}
	if cmp, found := b.comparisons(name, text, v); found {
		known = true
		errs = append(errs, cmp...)
	}
	if !strings.Contains(text, "list of integers") && has("integer") && len(errs) == 0 {
		if _, ok := b.Int(name); !ok {
			errs = append(errs, fail(field, "an integer", short(v)))
		}
	}
	if has("non-empty") {
		if s, isStr := v.(string); isStr && s == "" {
			errs = append(errs, fail(field, "non-empty", `""`))
		}
		if a, isArr := v.([]any); isArr && len(a) == 0 {
			errs = append(errs, fail(field, "non-empty", "[]"))
		}
	}
	if has("list of strong methods") {
		errs = append(errs, strongMethods(field, v, text, username)...)
	}
	if has("list of {name") {
		errs = append(errs, b.AttributeList(name))
	}
	if has("list of integers") {
		arr, _ := v.([]any)
		for i, x := range arr {
			if kindOf(x) != KindInteger {
				errs = append(errs, fail(fmt.Sprintf("%s[%d]", field, i), "integer", short(x)))
			}
		}
	}
	if has("date and time") {
		if s, _ := v.(string); s == "" {
			errs = append(errs, fail(field, "a date and time", short(v)))
		} else if _, err := ParseTimestamp(s); err != nil {
			errs = append(errs, fail(field, "a date and time", short(v)))
		}
	}
	if has("jwt") {
		if s, _ := v.(string); len(strings.Split(s, ".")) != 3 {
			errs = append(errs, fail(field, "a compact JWT", "not three dot-separated parts"))
		}
	}
	// Phrases that describe rather than constrain: presence and scope
	// rules are checked by Token.
	for _, p := range []string{"present because", "scopes", "only when error is", "seconds"} {
		has(p)
	}
	if !known {
		return fail(field, "a constraint the suite knows", fmt.Sprintf("%q (catalog constraint not implemented)", c))
	}
	return errors.Join(errs...)
}

var comparisons = regexp.MustCompile(`(<=|>=|<|>|==)\s*(-?\d+)`)

// comparisons checks every comparison the constraint text makes ("<= 600",
// "> 0") and reports whether it makes any.
func (b Body) comparisons(name, text string, v any) (errs []error, found bool) {
	field := "body." + name
	all := comparisons.FindAllStringSubmatch(text, -1)
	for _, m := range all {
		limit, _ := strconv.ParseInt(m[2], 10, 64)
		n, ok := b.Int(name)
		switch {
		case !ok:
			errs = append(errs, fail(field, "an integer "+m[1]+" "+m[2], short(v)))
		case !map[string]bool{"<=": n <= limit, ">=": n >= limit, "<": n < limit, ">": n > limit, "==": n == limit}[m[1]]:
			errs = append(errs, fail(field, m[1]+" "+m[2], fmt.Sprint(n)))
		}
	}
	return errs, len(all) > 0
}

// Header checks a catalog rule on a response header: an exact value
// (media type for Content-Type), or absence; Prefix applies it to every
// header whose name starts with Name.
func Header(resp *nativeauth.Response, r catalog.Header) error {
	if resp == nil {
		return fail("header "+r.Name, "an HTTP answer", "none")
	}
	if r.Prefix {
		var errs []error
		for name := range resp.Header {
			if strings.HasPrefix(strings.ToLower(name), strings.ToLower(r.Name)) && r.Absent {
				errs = append(errs, fail("header "+http.CanonicalHeaderKey(name), "absent", fmt.Sprintf("%q", resp.Header.Get(name))))
			}
		}
		return errors.Join(errs...)
	}
	got := resp.Header.Values(r.Name)
	if r.Absent {
		if len(got) > 0 {
			return fail("header "+r.Name, "absent", fmt.Sprintf("%q", strings.Join(got, ", ")))
		}
		return nil
	}
	if len(got) == 0 {
		return fail("header "+r.Name, fmt.Sprintf("%q", r.Value), "absent")
	}
	joined := strings.Join(got, ", ")
	if strings.EqualFold(r.Name, "Content-Type") {
		if mt, _, err := mime.ParseMediaType(joined); err != nil || !strings.EqualFold(mt, r.Value) {
			return fail("header "+r.Name, r.Value, fmt.Sprintf("%q", joined))
		}
		return nil
	}
	if strings.EqualFold(r.Name, "Cache-Control") || strings.EqualFold(r.Name, "Pragma") {
		if !hasDirective(got, r.Value) {
			return fail("header "+r.Name, r.Value, fmt.Sprintf("%q", joined))
		}
		return nil
	}
	if joined != r.Value {
		return fail("header "+r.Name, fmt.Sprintf("%q", r.Value), fmt.Sprintf("%q", joined))
	}
	return nil
}

// AbsentErrorCodes checks that none of codes is in error_codes (codes the
// sign-up error-code page says are not errors).
func (b Body) AbsentErrorCodes(codes []int) error {
	arr, _ := b["error_codes"].([]any)
	var errs []error
	for _, c := range arr {
		for _, bad := range codes {
			if scalarText(c) == strconv.Itoa(bad) {
				errs = append(errs, fail("body.error_codes", fmt.Sprintf("not to contain %d (not an error)", bad), short(arr)))
			}
		}
	}
	return errors.Join(errs...)
}

// strongMethods checks a methods list of an introspect answer (2026-02):
// every method an object with id, challenge_type and challenge_channel
// strings; with "login_hint masked" every hint present is masked (never
// the user's email), with "email login_hint unmasked" the email method's
// hint is the user's email itself, for prefill.
func strongMethods(field string, v any, text, username string) []error {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return []error{fail(field, "a non-empty list of strong methods", short(v))}
	}
	var errs []error
	for i, x := range arr {
		at := fmt.Sprintf("%s[%d]", field, i)
		m, ok := x.(map[string]any)
		if !ok {
			errs = append(errs, fail(at, "an object", short(x)))
			continue
		}
		for _, k := range []string{"id", "challenge_type", "challenge_channel"} {
			if s, _ := m[k].(string); s == "" {
				errs = append(errs, fail(at+"."+k, "a non-empty string", short(m[k])))
			}
		}
		hint, hasHint := m["login_hint"].(string)
		switch {
		case strings.Contains(text, "login_hint masked") && hasHint && !IsMasked(hint, username):
			errs = append(errs, fail(at+".login_hint", "a masked hint", short(hint)))
		case strings.Contains(text, "email login_hint unmasked") && m["challenge_channel"] == "email" && !strings.EqualFold(hint, username):
			errs = append(errs, fail(at+".login_hint", fmt.Sprintf("the user's email %q, unmasked", username), short(m["login_hint"])))
		}
	}
	return errs
}
