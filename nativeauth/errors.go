package nativeauth

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Error is an error answer of the API: an HTTP 4xx or 5xx whose body is a
// JSON object with an "error" member. Match it with errors.As, IsError or
// errors.Is against a *Error template.
type Error struct {
	HTTPStatus    int
	Code          ErrorCode // "error"
	Description   string    // "error_description"; may quote the username
	ErrorCodes    []int     // "error_codes"
	ErrorURI      string    // "error_uri"
	Timestamp     string    // "timestamp", kept as sent: the pages show placeholders
	TraceID       string    // "trace_id"
	CorrelationID string    // "correlation_id"
	Suberror      Suberror  // "suberror"
	// ContinuationToken lets the flow go on after some errors
	// (attributes_required, credential_required, verification_required).
	ContinuationToken    Secret
	RequiredAttributes   []AttributeSpec // "required_attributes"
	UnverifiedAttributes []AttributeSpec // "unverified_attributes"
	InvalidAttributes    []AttributeSpec // "invalid_attributes"
	Response             *Response
}

// Error is a one-line summary. It leaves out error_description, which can
// be long and can quote the username, and never shows a token.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("nativeauth: ")
	if e.Response != nil && e.Response.Endpoint != "" {
		b.WriteString(string(e.Response.Endpoint))
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "HTTP %d %s", e.HTTPStatus, e.Code)
	if e.Suberror != "" {
		fmt.Fprintf(&b, " (suberror %s)", e.Suberror)
	}
	if len(e.ErrorCodes) > 0 {
		fmt.Fprintf(&b, " codes %v", e.ErrorCodes)
	}
	if e.TraceID != "" {
		fmt.Fprintf(&b, " trace %s", e.TraceID)
	}
	return b.String()
}

// Is reports whether target is a *Error whose non-zero Code, Suberror and
// HTTPStatus all equal e's, so errors.Is(err, &Error{Code: ErrInvalidGrant})
// matches any invalid_grant.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t == nil {
		return false
	}
	return (t.Code == "" || t.Code == e.Code) &&
		(t.Suberror == "" || t.Suberror == e.Suberror) &&
		(t.HTTPStatus == 0 || t.HTTPStatus == e.HTTPStatus)
}

// HasErrorCode reports whether code is among error_codes.
func (e *Error) HasErrorCode(code int) bool { return slices.Contains(e.ErrorCodes, code) }

// AsError returns the *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// IsError reports whether err carries an *Error with the given code and,
// when suberrors are given, one of them:
//
//	nativeauth.IsError(err, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue)
func IsError(err error, code ErrorCode, suberrors ...Suberror) bool {
	e, ok := AsError(err)
	if !ok || e.Code != code {
		return false
	}
	return len(suberrors) == 0 || slices.Contains(suberrors, e.Suberror)
}

// ProtocolError is an answer that breaks the API's contract, so that it is
// neither a result nor an *Error: a body that is not a JSON object, a wrong
// Content-Type, a body over the size limit, an unexpected status (3xx, an
// error status without an error body, an error body with 200), a success
// missing a required member, or a redirect where the pages allow none.
type ProtocolError struct {
	Endpoint   Endpoint
	HTTPStatus int
	Reason     string
	// Snippet is the start of the body with secret values redacted.
	Snippet  string
	Response *Response
	Err      error // underlying cause, e.g. a *json.SyntaxError
}

func (e *ProtocolError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nativeauth: %s: HTTP %d: %s", e.Endpoint, e.HTTPStatus, e.Reason)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Snippet != "" {
		fmt.Fprintf(&b, "; body %q", e.Snippet)
	}
	return b.String()
}

func (e *ProtocolError) Unwrap() error { return e.Err }

func newProtocolError(resp *Response, reason string, err error) *ProtocolError {
	return &ProtocolError{
		Endpoint:   resp.Endpoint,
		HTTPStatus: resp.HTTPStatus,
		Reason:     reason,
		Snippet:    Snippet(resp.Body),
		Response:   resp,
		Err:        err,
	}
}

// RetryAfter returns the wait the server asked for in Retry-After, on the
// answer carried by an *Error or *ProtocolError in err's chain (typically
// HTTP 429 or 503). Both forms of the header are read: delay-seconds and an
// HTTP date, which is turned into a delay from now (never negative).
func RetryAfter(err error) (time.Duration, bool) {
	var resp *Response
	var e *Error
	var pe *ProtocolError
	switch {
	case errors.As(err, &e):
		resp = e.Response
	case errors.As(err, &pe):
		resp = pe.Response
	}
	if resp == nil {
		return 0, false
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Cap to avoid overflow on absurd values; a day is already absurd.
		if secs > 86400*365 {
			secs = 86400 * 365
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// ResponseOf returns the HTTP answer behind a failed call, if one arrived:
// an API error and a protocol error (a 503 without an error body, a body
// over the limit) both carry it.
func ResponseOf(err error) *Response {
	var e *Error
	if errors.As(err, &e) {
		return e.Response
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Response
	}
	return nil
}
