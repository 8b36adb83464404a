// Package evidence records every HTTP exchange a conformance spec makes, with
// secrets redacted before anything is stored, so a run record can show an
// auditor exactly what was sent and answered without leaking a credential.
package evidence

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ciamcheck/ciamcheck/reports"
)

// Redacted replaces every secret value in recorded evidence.
const Redacted = "[redacted]"

// maxBody bounds the recorded body: evidence is for reading, not replaying,
// and a misbehaving server must not blow up the run record.
const maxBody = 16 << 10

// secretFields are form fields and JSON members whose value is a credential
// or a bearer of state that lets a reader continue a flow.
var secretFields = map[string]bool{
	"password":           true,
	"new_password":       true,
	"oob":                true,
	"code":               true,
	"otp":                true,
	"continuation_token": true,
	"refresh_token":      true,
	"access_token":       true,
	"id_token":           true,
	"client_secret":      true,
	"client_assertion":   true,
	"client_info":        true,
}

// IsSecretField reports whether a form field or JSON member named name is
// always redacted.
func IsSecretField(name string) bool { return secretFields[strings.ToLower(name)] }

// jwtPattern finds compact JWS/JWE serialisations anywhere in text: the
// header of every JOSE object starts with base64url("{\"") = "eyJ".
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?`)

// RedactString removes JWTs from free text such as an error_description.
func RedactString(s string) string { return jwtPattern.ReplaceAllString(s, Redacted) }

// RedactForm returns the form as a flat map with secret fields redacted and
// JWTs removed from every other value. Repeated fields are joined with ",".
func RedactForm(form url.Values) map[string]string {
	if len(form) == 0 {
		return nil
	}
	out := make(map[string]string, len(form))
	for k, vs := range form {
		v := strings.Join(vs, ",")
		if IsSecretField(k) && v != "" {
			v = Redacted
		}
		out[k] = RedactString(v)
	}
	return out
}

// RedactBody returns a body fit for evidence: a JSON body with every secret
// member redacted at any depth (key order kept stable by re-encoding), any
// other body with JWTs removed. It never fails: a body that is not valid JSON
// is treated as text.
func RedactBody(body []byte) string {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return ""
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		var v any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil && !dec.More() {
			if b, err := json.Marshal(redactValue(v)); err == nil {
				return truncate(string(b))
			}
		}
	}
	return truncate(RedactString(string(body)))
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, mv := range t {
			if IsSecretField(k) {
				if s, ok := mv.(string); ok && s == "" {
					continue // an empty value reveals nothing and shows the field was sent empty
				}
				t[k] = Redacted
				continue
			}
			t[k] = redactValue(mv)
		}
		return t
	case []any:
		for i := range t {
			t[i] = redactValue(t[i])
		}
		return t
	case string:
		return RedactString(t)
	default:
		return v
	}
}

func truncate(s string) string {
	if len(s) <= maxBody {
		return s
	}
	return s[:maxBody] + "…[truncated]"
}

// relevantHeaders are the response headers conformance cares about; others
// (Date, Content-Length) add noise and no evidence.
var relevantHeaders = []string{
	"Content-Type", "Cache-Control", "Pragma", "Retry-After", "Location",
	"WWW-Authenticate", "X-Ms-Request-Id", "Client-Request-Id",
}

// RelevantHeaders picks the headers worth keeping from a response, including
// every Access-Control-* header, whose mere presence is a finding.
func RelevantHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for _, name := range relevantHeaders {
		if vs := h.Values(name); len(vs) > 0 {
			out[name] = RedactString(strings.Join(vs, ", "))
		}
	}
	for name, vs := range h {
		if strings.HasPrefix(strings.ToLower(name), "access-control-") {
			out[http.CanonicalHeaderKey(name)] = strings.Join(vs, ", ")
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Recorder is an http.RoundTripper that keeps a redacted copy of every
// exchange passing through it. Specs Take the exchanges when they end.
// It is safe for concurrent use.
type Recorder struct {
	next http.RoundTripper
	now  func() time.Time

	mu        sync.Mutex
	exchanges []reports.Exchange
}

// NewRecorder wraps next (http.DefaultTransport when nil).
func NewRecorder(next http.RoundTripper) *Recorder {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Recorder{next: next, now: time.Now}
}

// RoundTrip sends the request through the wrapped transport and records it.
// The request and response bodies are read and replaced, so callers see them
// unchanged.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	start := r.now()
	ex := reports.Exchange{Method: req.Method, Path: req.URL.Path}
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		ex.Form = requestForm(req.Header.Get("Content-Type"), body)
	}
	if q := req.URL.Query(); len(q) > 0 {
		if ex.Form == nil {
			ex.Form = map[string]string{}
		}
		for k, v := range RedactForm(q) {
			ex.Form["?"+k] = v
		}
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		ex.DurationNS = r.now().Sub(start)
		ex.Body = "transport error: " + RedactString(err.Error())
		r.add(ex)
		return nil, err
	}
	body, readErr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	ex.DurationNS = r.now().Sub(start)
	ex.Status = resp.StatusCode
	ex.Headers = RelevantHeaders(resp.Header)
	ex.Body = RedactBody(body)
	if readErr != nil {
		ex.Body += " [body read error: " + RedactString(readErr.Error()) + "]"
		r.add(ex)
		// A RoundTripper returns a response only when it has one whole.
		return nil, readErr
	}
	r.add(ex)
	return resp, nil
}

func requestForm(contentType string, body []byte) map[string]string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" || mt == "" {
		if form, err := url.ParseQuery(string(body)); err == nil {
			return RedactForm(form)
		}
	}
	if len(body) == 0 {
		return nil
	}
	return map[string]string{"<body>": RedactBody(body)}
}

func (r *Recorder) add(ex reports.Exchange) {
	r.mu.Lock()
	r.exchanges = append(r.exchanges, ex)
	r.mu.Unlock()
}

// Take returns the exchanges recorded since the last Take and forgets them.
func (r *Recorder) Take() []reports.Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.exchanges
	r.exchanges = nil
	return out
}

// Peek returns a copy of the exchanges recorded since the last Take,
// keeping them.
func (r *Recorder) Peek() []reports.Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]reports.Exchange(nil), r.exchanges...)
}
