package nativeauth

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
)

// redactedValue renders a request or result for logs: every field by name,
// Secret fields as "[redacted]" (or empty), a *Response as its summary.
// Reflection keeps one rule for all types; logging is not a hot path.
func redactedValue(v any) slog.Value {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return slog.StringValue("<nil>")
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return slog.StringValue(fmt.Sprint(v))
	}
	rt := rv.Type()
	attrs := make([]slog.Attr, 0, rt.NumField())
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := rv.Field(i)
		if fv.IsZero() {
			continue
		}
		switch x := fv.Interface().(type) {
		case Secret:
			attrs = append(attrs, slog.String(f.Name, x.String()))
		case *Response:
			attrs = append(attrs, slog.Any(f.Name, x.LogValue()))
		default:
			attrs = append(attrs, slog.Any(f.Name, x))
		}
	}
	return slog.GroupValue(attrs...)
}

// LogValue summarises the exchange for log/slog: endpoint, status, timing
// and a redacted body snippet, never the raw body.
func (r *Response) LogValue() slog.Value {
	if r == nil {
		return slog.StringValue("<nil>")
	}
	attrs := []slog.Attr{
		slog.String("endpoint", string(r.Endpoint)),
		slog.Int("status", r.HTTPStatus),
	}
	if !r.Timing.Start.IsZero() && !r.Timing.Done.IsZero() {
		attrs = append(attrs, slog.Duration("duration", r.Timing.Done.Sub(r.Timing.Start)))
	}
	if len(r.Body) > 0 {
		attrs = append(attrs, slog.String("body", Snippet(r.Body)))
	}
	return slog.GroupValue(attrs...)
}

// String is the summary of LogValue, so fmt never prints the raw body.
func (r *Response) String() string {
	if r == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s HTTP %d body %q", r.Endpoint, r.HTTPStatus, Snippet(r.Body))
}

// MarshalJSON writes the summary, not the raw body, so a result or error
// marshalled into a log or report cannot leak the tokens its body holds.
// Conformance evidence that needs the body redacts it with Redact.
func (r *Response) MarshalJSON() ([]byte, error) {
	type summary struct {
		Endpoint   Endpoint `json:"endpoint"`
		HTTPStatus int      `json:"http_status"`
		Body       string   `json:"body_snippet,omitempty"`
	}
	return json.Marshal(summary{r.Endpoint, r.HTTPStatus, Snippet(r.Body)})
}

// GoString keeps %#v as safe as %v.
func (r *Response) GoString() string { return r.String() }

// LogValue implements slog.LogValuer without revealing secrets.
func (r SignUpStartRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r ChallengeRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r SignUpContinueRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r InitiateRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r TokenRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r ResetStartRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r ResetContinueRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r ResetSubmitRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r PollRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r *ContinuationResult) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r *ChallengeResult) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r *TokenResult) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r *ResetContinueResult) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r *ResetSubmitResult) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r *PollResult) LogValue() slog.Value { return redactedValue(r) }
