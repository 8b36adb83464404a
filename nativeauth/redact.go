package nativeauth

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// SecretKeys are the JSON members and form fields whose values are secrets.
var SecretKeys = []string{
	"continuation_token", "access_token", "refresh_token", "id_token",
	"password", "new_password", "oob", "client_secret", "code",
}

// IsSecretKey reports whether a JSON member or form field named key holds a
// secret value.
func IsSecretKey(key string) bool {
	return slices.Contains(SecretKeys, strings.ToLower(strings.TrimSpace(key)))
}

const (
	// snippetWindow is how much of a body is scanned for secrets before it is
	// cut to snippetMax: enough that a value starting inside the snippet is
	// seen whole, small enough to stay cheap on a megabyte body.
	snippetWindow = 4096
	snippetMax    = 256
)

var (
	secretKeyAlt = strings.Join(SecretKeys, "|")
	// A JSON member: the key (whitespace tolerated, as in the pages; any
	// character may be a \u escape, which encoding/json decodes to the
	// same member), then an array of scalars, a string value (possibly
	// unterminated, as in a truncated body) or a bare value up to the
	// next delimiter.
	jsonSecretRE = regexp.MustCompile(`(?i)("\s*(?:` + jsonKeyAlt() + `)\s*"\s*:\s*)(\[(?:[^\]"]|"(?:[^"\\]|\\.)*"?)*\]?|"(?:[^"\\]|\\.)*"?|[^,}\]\s]+)`)
	// A form field, as in an echoed or reflected request body.
	formSecretRE = regexp.MustCompile(`(?i)((?:^|[^a-z0-9_])(?:` + secretKeyAlt + `)=)[^&\s]*`)
)

// jsonKeyAlt is the alternation of SecretKeys as JSON member names may
// spell them: each character literally or as a \u00XX escape of either
// case, since {"continuation\u005ftoken":…} decodes as continuation_token.
func jsonKeyAlt() string {
	alts := make([]string, len(SecretKeys))
	for i, k := range SecretKeys {
		var b strings.Builder
		for _, c := range k {
			lo, up := strings.ToLower(string(c)), strings.ToUpper(string(c))
			fmt.Fprintf(&b, `(?:%s|\\u00(?:%02x|%02x))`, regexp.QuoteMeta(string(c)), lo[0], up[0])
		}
		alts[i] = b.String()
	}
	return strings.Join(alts, "|")
}

// Redact replaces secret values in a JSON or form-encoded text with
// "[redacted]", keeping keys so the shape stays readable.
func Redact(s string) string {
	s = jsonSecretRE.ReplaceAllString(s, `${1}"`+redacted+`"`)
	return formSecretRE.ReplaceAllString(s, `${1}`+redacted)
}

// Snippet returns the start of body, secrets redacted, cut to a short valid
// UTF-8 string for error messages and evidence.
func Snippet(body []byte) string {
	if len(body) > snippetWindow {
		body = body[:snippetWindow]
	}
	s := Redact(strings.ToValidUTF8(string(body), "\uFFFD"))
	if utf8.RuneCountInString(s) <= snippetMax {
		return s
	}
	n := 0
	for i := range s {
		if n == snippetMax {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// RedactForm returns a copy of form with secret field values replaced.
func RedactForm(form url.Values) url.Values {
	out := make(url.Values, len(form))
	for k, vs := range form {
		if IsSecretKey(k) {
			r := make([]string, len(vs))
			for i := range r {
				r[i] = redacted
			}
			out[k] = r
			continue
		}
		out[k] = slices.Clone(vs)
	}
	return out
}
