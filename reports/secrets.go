package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// RedactedValue is what every secret in a record must read as.
const RedactedValue = "[redacted]"

// secretKeys are form fields and JSON members whose value is a credential or
// a continuation of a flow. The list is the reports package's own, so a gap
// in the redaction of whoever wrote the record is caught here rather than
// trusted.
var secretKeys = []string{
	"password", "new_password", "oob", "otp",
	"continuation_token", "access_token", "refresh_token", "id_token",
	"client_secret", "client_assertion",
}

var secretKeySet = func() map[string]bool {
	m := make(map[string]bool, len(secretKeys))
	for _, k := range secretKeys {
		m[k] = true
	}
	return m
}()

var (
	// jwtLike finds a compact JWS: a JOSE header and a JSON payload both
	// start with base64url("{\"") = "eyJ".
	jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	// jsonSecret finds "key": "value" pairs even in a truncated JSON body.
	jsonSecret = regexp.MustCompile(`(?i)"(` + strings.Join(secretKeys, "|") + `)"\s*:\s*"((?:[^"\\]|\\.)*)"`)
	// formSecret finds key=value pairs in a form-encoded body.
	formSecret = regexp.MustCompile(`(?i)(?:^|[&?\s])(` + strings.Join(secretKeys, "|") + `)=([^&\s]*)`)
	// bearer finds an Authorization value carrying a token.
	bearer = regexp.MustCompile(`(?i)\bbearer\s+([A-Za-z0-9._~+/=-]+)`)
)

// SecretLeak is one un-redacted secret found by CheckNoSecrets. It names
// where the secret is, never the secret itself.
type SecretLeak struct {
	Where string // e.g. `entries[3] "signup.start-ok" evidence[1] form "password"`
	What  string // the key or "JWT" or "bearer token"
}

// LeakError lists the secrets CheckNoSecrets found.
type LeakError struct{ Leaks []SecretLeak }

func (e *LeakError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run record holds %d un-redacted secret(s):", len(e.Leaks))
	for i, l := range e.Leaks {
		if i == 10 {
			fmt.Fprintf(&b, " … and %d more", len(e.Leaks)-i)
			break
		}
		fmt.Fprintf(&b, " %s at %s;", l.What, l.Where)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// ErrSecretInRecord is matched by errors.Is for every *LeakError.
var ErrSecretInRecord = errors.New("un-redacted secret in run record")

// Is makes errors.Is(err, ErrSecretInRecord) true.
func (e *LeakError) Is(target error) bool { return target == ErrSecretInRecord }

// CheckNoSecrets scans the evidence of r (form values, headers, bodies) for
// values of secret keys that are neither empty nor RedactedValue, and the
// whole record for JWT-looking strings and bearer tokens. It returns a
// *LeakError naming where each one is, or nil.
func CheckNoSecrets(r *Record) error {
	if r == nil {
		return nil
	}
	var leaks []SecretLeak
	add := func(where, what string) { leaks = append(leaks, SecretLeak{Where: where, What: what}) }
	if r.Conformance != nil {
		for i, e := range r.Conformance.Entries {
			for j, ex := range e.Evidence {
				where := fmt.Sprintf("entries[%d] %q evidence[%d]", i, e.ID, j)
				for k, v := range ex.Form {
					key := strings.ToLower(strings.TrimPrefix(k, "?"))
					if secretKeySet[key] && !isRedacted(v) {
						add(where+fmt.Sprintf(" form %q", k), key)
					}
					scanText(where+fmt.Sprintf(" form %q", k), v, add)
				}
				for k, v := range ex.Headers {
					if bearer.MatchString(v) && !strings.Contains(v, RedactedValue) {
						add(where+fmt.Sprintf(" header %q", k), "bearer token")
					}
				}
				scanText(where+" body", ex.Body, add)
			}
		}
	}
	// JWTs anywhere: reasons, spec texts, plan, headers. Encoded histograms
	// are standard base64, which has no '.', so they cannot match.
	if b, err := json.Marshal(r); err == nil {
		if n := len(jwtLike.FindAllIndex(b, -1)); n > 0 {
			seen := 0
			for _, l := range leaks {
				if l.What == "JWT" {
					seen++
				}
			}
			if n > seen {
				add("record (outside evidence bodies and forms)", "JWT")
			}
		}
	}
	if len(leaks) > 0 {
		return &LeakError{Leaks: leaks}
	}
	return nil
}

// scanText reports secret key/value pairs in JSON or form text and JWTs.
func scanText(where, s string, add func(where, what string)) {
	if s == "" {
		return
	}
	for _, m := range jsonSecret.FindAllStringSubmatch(s, -1) {
		if !isRedacted(m[2]) {
			add(where+fmt.Sprintf(" member %q", m[1]), strings.ToLower(m[1]))
		}
	}
	for _, m := range formSecret.FindAllStringSubmatch(s, -1) {
		v := m[2]
		if !isRedacted(v) && v != "%5Bredacted%5D" && v != "%5bredacted%5d" {
			add(where+fmt.Sprintf(" field %q", m[1]), strings.ToLower(m[1]))
		}
	}
	for range jwtLike.FindAllStringIndex(s, -1) {
		add(where, "JWT")
	}
}

func isRedacted(v string) bool { return v == "" || v == RedactedValue }
