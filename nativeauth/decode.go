package nativeauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
)

// wireBody holds every member any answer of the API may carry, so a body is
// decoded in one pass whatever it turns out to be (success, redirect, error).
type wireBody struct {
	Error                *string         `json:"error"`
	ErrorDescription     string          `json:"error_description"`
	ErrorCodes           []int           `json:"error_codes"`
	ErrorURI             string          `json:"error_uri"`
	Timestamp            string          `json:"timestamp"`
	TraceID              string          `json:"trace_id"`
	CorrelationID        string          `json:"correlation_id"`
	Suberror             Suberror        `json:"suberror"`
	RequiredAttributes   []AttributeSpec `json:"required_attributes"`
	UnverifiedAttributes []AttributeSpec `json:"unverified_attributes"`
	InvalidAttributes    []AttributeSpec `json:"invalid_attributes"`

	ContinuationToken    Secret         `json:"continuation_token"`
	ChallengeType        ChallengeType  `json:"challenge_type"`
	RedirectReason       string         `json:"redirect_reason"`
	BindingMethod        string         `json:"binding_method"`
	ChallengeChannel     string         `json:"challenge_channel"`
	ChallengeTargetLabel string         `json:"challenge_target_label"`
	Interval             *int           `json:"interval"`
	CodeLength           *int           `json:"code_length"`
	ChallengeTarget      string         `json:"challenge_target"`
	Methods              []StrongMethod `json:"methods"`

	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    *int   `json:"expires_in"`
	ExtExpiresIn *int   `json:"ext_expires_in"`
	AccessToken  Secret `json:"access_token"`
	RefreshToken Secret `json:"refresh_token"`
	IDToken      Secret `json:"id_token"`
	ClientInfo   string `json:"client_info"`

	PollInterval *int       `json:"poll_interval"`
	Status       PollStatus `json:"status"`
}

// decode classifies one answer. It returns exactly one of: a success body,
// a redirect (only when allowRedirect), or an error (*Error or
// *ProtocolError). The body must be strict JSON: see the package doc.
func decode(resp *Response, allowRedirect bool) (*wireBody, *Redirect, error) {
	st := resp.HTTPStatus
	switch {
	case st >= 300 && st < 400:
		return nil, nil, newProtocolError(resp, "unexpected redirect status (the API never redirects over HTTP)", nil)
	case st < 200 || st >= 600 || (st > 200 && st < 300):
		return nil, nil, newProtocolError(resp, fmt.Sprintf("unexpected status %d", st), nil)
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		if st >= 400 {
			return nil, nil, newProtocolError(resp, fmt.Sprintf("error status without a JSON error body (Content-Type %q)", ct), nil)
		}
		return nil, nil, newProtocolError(resp, fmt.Sprintf("Content-Type %q, want application/json", ct), nil)
	}
	var w wireBody
	if err := unmarshalObject(resp.Body, &w); err != nil {
		if st >= 400 {
			return nil, nil, newProtocolError(resp, "error status without a valid JSON error body: invalid JSON", err)
		}
		return nil, nil, newProtocolError(resp, "invalid JSON", err)
	}
	hasError := w.Error != nil && *w.Error != ""
	if st >= 400 {
		if !hasError {
			return nil, nil, newProtocolError(resp, "error status without an \"error\" member", nil)
		}
		return nil, nil, w.apiError(resp)
	}
	if w.Error != nil {
		return nil, nil, newProtocolError(resp, "HTTP 200 with an \"error\" member", nil)
	}
	if w.ChallengeType == ChallengeTypeRedirect {
		if !allowRedirect {
			return nil, nil, newProtocolError(resp, "challenge_type redirect where the API defines none", nil)
		}
		return nil, &Redirect{Reason: w.RedirectReason}, nil
	}
	return &w, nil, nil
}

// unmarshalObject decodes a single JSON object and nothing else: null,
// arrays, scalars and trailing data are errors, though json.Unmarshal into a
// struct would accept null silently.
func unmarshalObject(b []byte, w *wireBody) error {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 {
		return errors.New("empty body")
	}
	if trimmed[0] != '{' {
		return fmt.Errorf("body is not a JSON object (starts with %q)", trimmed[0])
	}
	return json.Unmarshal(b, w)
}

func (w *wireBody) apiError(resp *Response) *Error {
	return &Error{
		HTTPStatus:           resp.HTTPStatus,
		Code:                 ErrorCode(*w.Error),
		Description:          w.ErrorDescription,
		ErrorCodes:           w.ErrorCodes,
		ErrorURI:             w.ErrorURI,
		Timestamp:            w.Timestamp,
		TraceID:              w.TraceID,
		CorrelationID:        w.CorrelationID,
		Suberror:             w.Suberror,
		ContinuationToken:    w.ContinuationToken,
		RequiredAttributes:   w.RequiredAttributes,
		UnverifiedAttributes: w.UnverifiedAttributes,
		InvalidAttributes:    w.InvalidAttributes,
		Response:             resp,
	}
}

// missing reports the first required member absent from a success body.
func missing(resp *Response, members ...member) error {
	for _, m := range members {
		if !m.present {
			return newProtocolError(resp, fmt.Sprintf("success body without required member %q", m.name), nil)
		}
	}
	return nil
}

type member struct {
	name    string
	present bool
}

func intOr0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
