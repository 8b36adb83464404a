package nativeauth

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Secret holds a value that must never be printed: a password, a one-time
// passcode, a continuation, refresh, access or id token. fmt, slog and JSON
// encoding all see "[redacted]"; Reveal returns the value for the wire.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value. Call it only to put it on the wire.
func (s Secret) Reveal() string { return string(s) }

// String redacts the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts the value for %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue redacts the value for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON redacts the value, so a result written to a report or log as
// JSON cannot leak it.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads the plain string value from a response body.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Secret(v)
	return nil
}

// Attributes are user attribute values keyed by attribute name (built-in such
// as "displayName" or custom "extension_{appId}_{name}"). They travel as a
// JSON object string in the "attributes" form field.
type Attributes map[string]string

// AttributeSpec describes one attribute in required_attributes,
// unverified_attributes or invalid_attributes.
type AttributeSpec struct {
	Name     string            `json:"name"`
	Type     string            `json:"type,omitempty"`
	Required bool              `json:"required,omitempty"`
	Options  *AttributeOptions `json:"options,omitempty"`
}

// AttributeOptions are the validation options of an attribute.
type AttributeOptions struct {
	Regex string `json:"regex,omitempty"`
}

// Redirect is the answer {"challenge_type":"redirect"} with HTTP 200: the
// app must fall back to a web-based flow. It is neither a success the flow
// can continue from nor an error; every result carries it as a distinct
// outcome that callers must check first.
type Redirect struct {
	Reason string `json:"redirect_reason,omitempty"`
}

// Timing is when each phase of one HTTP exchange happened, taken with
// net/http/httptrace. Zero times mean the phase did not happen (a reused
// connection has no connect or TLS phase).
type Timing struct {
	Start        time.Time // the client began the request
	ConnectStart time.Time
	ConnectDone  time.Time
	TLSStart     time.Time
	TLSDone      time.Time
	WroteRequest time.Time // request fully written: "sent"
	FirstByte    time.Time // first response byte
	Done         time.Time // body fully read
	ReusedConn   bool
}

// Response is the raw answer to one call, kept with every result and error so
// conformance checks can look at status, headers and the exact body.
type Response struct {
	Endpoint   Endpoint
	HTTPStatus int
	Header     http.Header
	Body       []byte
	Timing     Timing
}

// SignUpStartRequest is the form of /signup/v1.0/start.
type SignUpStartRequest struct {
	Username       string
	ChallengeTypes []ChallengeType
	Password       Secret     // optional: the password may come at start
	Attributes     Attributes // optional
	Capabilities   []Capability
}

// ContinuationResult is the answer of calls whose success carries only a
// continuation token: signup start and continue, initiate, reset start.
type ContinuationResult struct {
	Redirect          *Redirect
	ContinuationToken Secret
	Response          *Response
}

// ChallengeRequest is the form of every challenge endpoint.
type ChallengeRequest struct {
	ContinuationToken Secret
	ChallengeTypes    []ChallengeType
}

// ChallengeResult is the answer of signup, sign-in and reset challenge.
type ChallengeResult struct {
	Redirect             *Redirect
	ChallengeType        ChallengeType
	ContinuationToken    Secret
	Interval             int    // seconds before a resend, oob only
	BindingMethod        string // "prompt", oob only
	ChallengeChannel     string // "email", oob only
	ChallengeTargetLabel string // masked email, oob only
	CodeLength           int    // oob only
	Response             *Response
}

// SignUpContinueRequest is the form of /signup/v1.0/continue. GrantType says
// which of OOB, Password or Attributes is sent.
type SignUpContinueRequest struct {
	ContinuationToken Secret
	GrantType         GrantType
	OOB               Secret
	Password          Secret
	Attributes        Attributes
}

// InitiateRequest is the form of /oauth2/v2.0/initiate.
type InitiateRequest struct {
	Username       string
	ChallengeTypes []ChallengeType
	Capabilities   []Capability
}

// TokenRequest is the form of /oauth2/v2.0/token for every grant type.
type TokenRequest struct {
	GrantType         GrantType
	ContinuationToken Secret // continuation_token, password and oob grants
	Username          string // continuation_token grant
	Password          Secret // password grant
	OOB               Secret // oob and mfa_oob grants
	RefreshToken      Secret // refresh_token grant
	Scopes            []string
	// ClientInfo asks for client_info in the answer (client_info=1).
	ClientInfo bool
}

// TokenResult is a successful token answer. Callers must check Redirect
// first: the 2026-02 revision answers a redirect with redirect_reason when
// the app lacks a capability the tenant needs.
type TokenResult struct {
	Redirect     *Redirect
	TokenType    string
	Scope        string
	ExpiresIn    int
	ExtExpiresIn int
	AccessToken  Secret
	RefreshToken Secret
	IDToken      Secret
	ClientInfo   string
	Response     *Response
}

// ResetStartRequest is the form of /resetpassword/v1.0/start.
type ResetStartRequest struct {
	Username       string
	ChallengeTypes []ChallengeType
	Capabilities   []Capability
}

// ResetContinueRequest is the form of /resetpassword/v1.0/continue (grant oob).
type ResetContinueRequest struct {
	ContinuationToken Secret
	OOB               Secret
}

// ResetContinueResult is the answer of /resetpassword/v1.0/continue.
type ResetContinueResult struct {
	ContinuationToken Secret
	ExpiresIn         int // seconds, at most 600
	Response          *Response
}

// ResetSubmitRequest is the form of /resetpassword/v1.0/submit.
type ResetSubmitRequest struct {
	ContinuationToken Secret
	NewPassword       Secret
}

// ResetSubmitResult is the answer of /resetpassword/v1.0/submit.
type ResetSubmitResult struct {
	ContinuationToken Secret
	PollInterval      int // seconds
	Response          *Response
}

// PollRequest is the form of /resetpassword/v1.0/poll_completion.
type PollRequest struct {
	ContinuationToken Secret
}

// PollResult is the answer of /resetpassword/v1.0/poll_completion.
type PollResult struct {
	Status            PollStatus
	ContinuationToken Secret
	Response          *Response
}
