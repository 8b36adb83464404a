package nativeauth

import (
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"strings"
)

// Param is the name of one form parameter of a request. The names are
// written here and nowhere else: the typed requests encode themselves with
// them, and checks that need a malformed request name a parameter with them.
type Param string

// The form parameters the reference pages document.
const (
	ParamClientID          Param = "client_id"
	ParamUsername          Param = "username"
	ParamChallengeType     Param = "challenge_type"
	ParamContinuationToken Param = "continuation_token"
	ParamGrantType         Param = "grant_type"
	ParamOOB               Param = "oob"
	ParamPassword          Param = "password"
	ParamNewPassword       Param = "new_password"
	ParamAttributes        Param = "attributes"
	ParamScope             Param = "scope"
	ParamRefreshToken      Param = "refresh_token"
	ParamClientInfo        Param = "client_info"
	// The 2026-02 revision's.
	ParamCapabilities     Param = "capabilities"
	ParamID               Param = "id"
	ParamChallengeChannel Param = "challenge_channel"
	ParamChallengeTarget  Param = "challenge_target"
)

// FormRequest is a typed request that encodes itself as the form the pages
// document. Every request type of this package is one.
type FormRequest interface {
	Form() url.Values
}

// Form encodes the request; the optional parameters only when set.
func (r SignUpStartRequest) Form() url.Values {
	return startForm(r.Username, r.ChallengeTypes, r.Capabilities).
		set(ParamPassword, r.Password.Reveal()).
		set(ParamAttributes, encodeAttributes(r.Attributes)).values()
}

// startForm is what every start endpoint takes: who, the challenge types
// the app supports and its capabilities.
func startForm(username string, cts []ChallengeType, caps []Capability) *form {
	return newForm().
		set(ParamUsername, username).
		set(ParamChallengeType, joinList(cts)).
		set(ParamCapabilities, joinList(caps))
}

// Form encodes the request.
func (r ChallengeRequest) Form() url.Values {
	return newForm().
		set(ParamContinuationToken, r.ContinuationToken.Reveal()).
		set(ParamChallengeType, joinList(r.ChallengeTypes)).values()
}

// Form encodes the request.
func (r SignUpContinueRequest) Form() url.Values {
	return newForm().
		set(ParamContinuationToken, r.ContinuationToken.Reveal()).
		set(ParamGrantType, string(r.GrantType)).
		set(ParamOOB, r.OOB.Reveal()).
		set(ParamPassword, r.Password.Reveal()).
		set(ParamAttributes, encodeAttributes(r.Attributes)).values()
}

// Form encodes the request.
func (r InitiateRequest) Form() url.Values {
	return startForm(r.Username, r.ChallengeTypes, r.Capabilities).values()
}

// Form encodes the request.
func (r TokenRequest) Form() url.Values {
	f := newForm().
		set(ParamGrantType, string(r.GrantType)).
		set(ParamContinuationToken, r.ContinuationToken.Reveal()).
		set(ParamUsername, r.Username).
		set(ParamPassword, r.Password.Reveal()).
		set(ParamOOB, r.OOB.Reveal()).
		set(ParamRefreshToken, r.RefreshToken.Reveal()).
		set(ParamScope, joinList(r.Scopes))
	if r.ClientInfo {
		f.set(ParamClientInfo, "1")
	}
	return f.values()
}

// Form encodes the request.
func (r ResetStartRequest) Form() url.Values {
	return startForm(r.Username, r.ChallengeTypes, r.Capabilities).values()
}

// Form encodes the request; the grant type is always oob.
func (r ResetContinueRequest) Form() url.Values {
	return newForm().
		set(ParamGrantType, string(GrantTypeOOB)).
		set(ParamContinuationToken, r.ContinuationToken.Reveal()).
		set(ParamOOB, r.OOB.Reveal()).values()
}

// Form encodes the request.
func (r ResetSubmitRequest) Form() url.Values {
	return newForm().
		set(ParamContinuationToken, r.ContinuationToken.Reveal()).
		set(ParamNewPassword, r.NewPassword.Reveal()).values()
}

// Form encodes the request.
func (r PollRequest) Form() url.Values {
	return newForm().set(ParamContinuationToken, r.ContinuationToken.Reveal()).values()
}

// Call is one request as a flow is about to send it: the endpoint, the
// client_id it goes out with ("" sends none) and the typed request.
// Override changes parameters after the typed encoding, for requests no
// typed field can express (an unknown grant type on reset continue, a
// parameter the endpoint does not take); a Call is a value, so changing a
// copy leaves the original as it was.
type Call struct {
	Endpoint Endpoint
	ClientID string
	Request  FormRequest
	// Override sets parameters after encoding; an empty value removes one.
	Override map[Param]string
}

// Form is what Send puts on the wire.
func (c Call) Form() url.Values {
	form := url.Values{}
	if c.Request != nil {
		form = c.Request.Form()
	}
	if c.ClientID != "" {
		form.Set(string(ParamClientID), c.ClientID)
	}
	for p, v := range c.Override {
		if v == "" {
			form.Del(string(p))
		} else {
			form.Set(string(p), v)
		}
	}
	return form
}

// Get is the value of p that Send would put on the wire ("" when absent).
func (c Call) Get(p Param) string { return c.Form().Get(string(p)) }

// Set overrides p ("" removes it). The override map is copied, so copies
// of c made before keep their own.
func (c *Call) Set(p Param, value string) {
	o := maps.Clone(c.Override)
	if o == nil {
		o = map[Param]string{}
	}
	o[p] = value
	c.Override = o
}

// Call binds req to ep with this client's client_id, for a caller that
// changes it before it is sent (Send).
func (c *Client) Call(ep Endpoint, req FormRequest) Call {
	return Call{Endpoint: ep, ClientID: c.ClientID, Request: req}
}

// Send posts call as it stands and returns the raw answer whatever its
// status, as Do does.
func (c *Client) Send(ctx context.Context, call Call) (*Response, error) {
	return c.Do(ctx, call.Endpoint, call.Form())
}

// form builds a url.Values that leaves out empty values: the pages send
// optional parameters only when they apply.
type form struct{ v url.Values }

func newForm() *form { return &form{v: url.Values{}} }

func (f *form) set(p Param, value string) *form {
	if value != "" {
		f.v.Set(string(p), value)
	}
	return f
}

func (f *form) values() url.Values { return f.v }

// joinList writes a space-separated list parameter (challenge types,
// capabilities, scopes), leaving out empty items.
func joinList[S ~string](items []S) string {
	s := make([]string, 0, len(items))
	for _, it := range items {
		if it != "" {
			s = append(s, string(it))
		}
	}
	return strings.Join(s, " ")
}

// encodeAttributes writes the JSON object string the attributes parameter
// takes. A map of strings always encodes (invalid UTF-8 is replaced), so
// there is no error to return.
func encodeAttributes(a Attributes) string {
	if len(a) == 0 {
		return ""
	}
	b, _ := json.Marshal(map[string]string(a))
	return string(b)
}
