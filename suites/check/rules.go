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
)

// FieldRule is one documented member of an answer, as the catalog states
// it: JSON type, whether it must be present, an exact normative value, and
// a constraint in words (see Constraint*).
type FieldRule struct {
	Name       string
	JSONType   string // "string", "number", "boolean", "array", "object"
	Required   bool
	Value      string
	Constraint string
}

// Constraints the catalog writes in words, and the check each maps to.
const (
	ConstraintMaxExpiresIn = "<= 600"
	ConstraintMasked       = "masked email"
	ConstraintGUID         = "GUID"
	ConstraintPositiveInt  = "integer > 0"
	ConstraintNonEmpty     = "non-empty"
)

var comparison = regexp.MustCompile(`^\s*(<=|>=|<|>|==)\s*(-?\d+)\s*$`)

// Rule checks one FieldRule. username is the user the answer is about, for
// the masking rule. An unknown constraint is a Failure: a rule the suite
// cannot check must not pass silently.
func (b Body) Rule(r FieldRule, username string) error {
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
			return fail("body."+r.Name, fmt.Sprintf("%q", r.Value), short(v))
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

func (b Body) constraint(name, c string, v any, username string) error {
	c = strings.TrimSpace(c)
	switch {
	case c == "":
		return nil
	case strings.EqualFold(c, ConstraintMasked):
		if s, _ := v.(string); !IsMasked(s, username) {
			return fail("body."+name, "a masked email", short(v))
		}
	case strings.EqualFold(c, ConstraintGUID):
		if s, _ := v.(string); !IsGUID(s) {
			return fail("body."+name, "a GUID", short(v))
		}
	case strings.EqualFold(c, ConstraintPositiveInt):
		return b.positiveInt(name, 1, 0)
	case strings.EqualFold(c, ConstraintNonEmpty):
		if s, isStr := v.(string); isStr && s == "" {
			return fail("body."+name, "non-empty", `""`)
		}
		if a, isArr := v.([]any); isArr && len(a) == 0 {
			return fail("body."+name, "non-empty", "[]")
		}
	case comparison.MatchString(c):
		m := comparison.FindStringSubmatch(c)
		limit, _ := strconv.ParseInt(m[2], 10, 64)
		n, ok := b.Int(name)
		if !ok {
			return fail("body."+name, "an integer "+c, short(v))
		}
		holds := map[string]bool{"<=": n <= limit, ">=": n >= limit, "<": n < limit, ">": n > limit, "==": n == limit}[m[1]]
		if !holds {
			return fail("body."+name, c, fmt.Sprint(n))
		}
	default:
		return fail("body."+name, "a constraint the suite knows", fmt.Sprintf("%q (catalog constraint not implemented)", c))
	}
	return nil
}

// HeaderRule is a rule on a response header: an exact value (media type for
// Content-Type), or absence; Prefix applies it to every header whose name
// starts with Name.
type HeaderRule struct {
	Name   string
	Value  string
	Absent bool
	Prefix bool
}

// Header checks one HeaderRule.
func Header(resp *nativeauth.Response, r HeaderRule) error {
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
