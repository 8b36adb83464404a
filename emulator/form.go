package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// maxBodyBytes bounds a request body. The largest legitimate form (a
// password plus every attribute) is a few KiB.
const maxBodyBytes = 64 << 10

// maxAttributes bounds how many attributes one form may carry.
const maxAttributes = 64

// form is a parsed flow request: every parameter appears at most once.
type form map[string]string

func (f form) get(p nativeauth.Param) string { return f[string(p)] }

// parseForm reads an application/x-www-form-urlencoded body strictly: wrong
// content type, an oversized or malformed body, invalid UTF-8 and a
// parameter sent twice are all invalid_request, because a tenant that
// guessed which duplicate was meant would hide client bugs.
func parseForm(r *http.Request) (form, *apiError) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, errMalformed("The request must have Content-Type application/x-www-form-urlencoded.")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errMalformed("The request must have Content-Type application/x-www-form-urlencoded.")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, errMalformed("The request body must be UTF-8.")
	}
	if r.Body == nil {
		return form{}, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, errMalformed("The request body could not be read.")
	}
	if len(body) > maxBodyBytes {
		return nil, errMalformed(fmt.Sprintf("The request body is larger than %d bytes.", maxBodyBytes))
	}
	return parseFormBody(string(body))
}

// parseFormBody decodes the body text of a form.
func parseFormBody(body string) (form, *apiError) {
	vals, err := url.ParseQuery(body)
	if err != nil {
		return nil, errMalformed("The request body is not a valid form.")
	}
	f := make(form, len(vals))
	for k, vs := range vals {
		if len(vs) > 1 {
			return nil, errMalformed(fmt.Sprintf("The parameter '%s' appears more than once.", sanitizeEcho(k)))
		}
		if !utf8.ValidString(k) || !utf8.ValidString(vs[0]) {
			return nil, errMalformed("The request body must be UTF-8.")
		}
		f[k] = vs[0]
	}
	return f, nil
}

// challengeSet is the app's challenge_type list as a bit set.
type challengeSet uint8

const (
	chOOB challengeSet = 1 << iota
	chPassword
	chRedirect
)

func (c challengeSet) has(x challengeSet) bool { return c&x != 0 }

// parseChallengeTypes reads the space-separated challenge_type list.
// Unknown values are invalid_request (the pages' "includes an invalid
// challenge type"); a list without redirect is unsupported_challenge_type
// (the error tables; the pages' examples use invalid_request+901007 here).
func parseChallengeTypes(s string) (challengeSet, *apiError) {
	var set challengeSet
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return 0, errMissing(nativeauth.ParamChallengeType)
	}
	for _, t := range fields {
		switch nativeauth.ChallengeType(t) {
		case nativeauth.ChallengeTypeOOB:
			set |= chOOB
		case nativeauth.ChallengeTypePassword:
			set |= chPassword
		case nativeauth.ChallengeTypeRedirect:
			set |= chRedirect
		default:
			return 0, newErr(nativeauth.ErrInvalidRequest, codeInvalidChallengeType,
				fmt.Sprintf("The challenge_type list parameter contains an unsupported challenge type '%s'.", sanitizeEcho(t)))
		}
	}
	if !set.has(chRedirect) {
		return 0, newErr(nativeauth.ErrUnsupportedChallengeType, codeRedirectMissingInList,
			"The challenge_type list parameter does not include the 'redirect' type.")
	}
	return set, nil
}

// parseAttributes decodes the attributes form value: a JSON object whose
// values are strings. Numbers and booleans are taken as their text, since
// apps commonly send {"age": 30}; nested values are invalid_request.
func parseAttributes(s string) (map[string]string, *apiError) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil || raw == nil {
		return nil, errMalformed("The attributes parameter must be a JSON object.")
	}
	if len(raw) > maxAttributes {
		return nil, errMalformed(fmt.Sprintf("The attributes parameter has more than %d attributes.", maxAttributes))
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		val, err := attributeText(v)
		if err != nil {
			return nil, errMalformed(fmt.Sprintf("The attribute '%s' must be a string.", sanitizeEcho(k)))
		}
		out[k] = val
	}
	return out, nil
}

func attributeText(v json.RawMessage) (string, error) {
	if string(v) == "null" {
		return "", errors.New("null")
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return n.String(), nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return strconv.FormatBool(b), nil
	}
	return "", errors.New("not a scalar")
}

// validUsername accepts what an email sign-up accepts: local@domain.tld in
// printable ASCII without spaces, at most 256 characters.
func validUsername(u string) bool {
	if len(u) == 0 || len(u) > 256 {
		return false
	}
	at := strings.LastIndexByte(u, '@')
	if at <= 0 || at == len(u)-1 {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' || c == '<' || c == '>' || c == '[' || c == '\\' || c == ']' {
			return false
		}
	}
	if strings.IndexByte(u[:at], '@') >= 0 {
		return false
	}
	domain := u[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1 && !strings.Contains(domain, "..")
}

// normalizeUsername is the key users are stored under: email addresses
// are matched case-insensitively, as Entra does.
func normalizeUsername(u string) string { return strings.ToLower(u) }
