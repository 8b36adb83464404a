package nativeauth

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
)

// StrongMethod is one strong authentication method of an introspect
// answer. On sign-in introspect ID is opaque and LoginHint masked; on
// register introspect ID is "email" or "sms" and the email's LoginHint is
// unmasked, for prefill.
type StrongMethod struct {
	ID               string        `json:"id"`
	ChallengeType    ChallengeType `json:"challenge_type"`
	ChallengeChannel string        `json:"challenge_channel"`
	LoginHint        string        `json:"login_hint,omitempty"`
}

// IntrospectRequest is the form of /oauth2/v2.0/introspect and
// /register/v1.0/introspect.
type IntrospectRequest struct {
	ContinuationToken Secret
}

// IntrospectResult is the answer of either introspect endpoint. Callers
// must check Redirect first.
type IntrospectResult struct {
	Redirect          *Redirect
	ContinuationToken Secret
	Methods           []StrongMethod
	Response          *Response
}

// MFAChallengeRequest is the form of /oauth2/v2.0/challenge when it
// challenges a second factor: the id of a method from sign-in introspect.
// ChallengeTypes is optional: Microsoft's JS client sends it, the page's
// example and the Android client do not.
type MFAChallengeRequest struct {
	ContinuationToken Secret
	ID                string
	ChallengeTypes    []ChallengeType
}

// RegisterChallengeRequest is the form of /register/v1.0/challenge.
type RegisterChallengeRequest struct {
	ContinuationToken Secret
	ChallengeType     ChallengeType // oob
	ChallengeChannel  string        // email or sms, echoed from introspect
	ChallengeTarget   string        // the email or phone number the user typed
}

// RegisterChallengeResult is the answer of /register/v1.0/challenge:
// ChallengeType oob (a code was sent to ChallengeTarget) or preverified
// (nothing was sent; continue with grant_type continuation_token).
type RegisterChallengeResult struct {
	Redirect          *Redirect
	ChallengeType     ChallengeType
	ContinuationToken Secret
	BindingMethod     string // oob only
	ChallengeTarget   string // oob only: as the request sent it
	ChallengeChannel  string // oob only
	CodeLength        int    // oob only
	Interval          int    // seconds, only with prompt=none
	Response          *Response
}

// RegisterContinueRequest is the form of /register/v1.0/continue:
// GrantType oob with OOB, or continuation_token after a preverified
// challenge.
type RegisterContinueRequest struct {
	ContinuationToken Secret
	GrantType         GrantType
	OOB               Secret
}

// Form encodes the request.
func (r IntrospectRequest) Form() url.Values {
	return newForm().set(ParamContinuationToken, r.ContinuationToken.Reveal()).values()
}

// Form encodes the request; challenge_type only when set.
func (r MFAChallengeRequest) Form() url.Values {
	return newForm().
		set(ParamContinuationToken, r.ContinuationToken.Reveal()).
		set(ParamID, r.ID).
		set(ParamChallengeType, joinList(r.ChallengeTypes)).values()
}

// Form encodes the request.
func (r RegisterChallengeRequest) Form() url.Values {
	return newForm().
		set(ParamContinuationToken, r.ContinuationToken.Reveal()).
		set(ParamChallengeType, string(r.ChallengeType)).
		set(ParamChallengeChannel, r.ChallengeChannel).
		set(ParamChallengeTarget, r.ChallengeTarget).values()
}

// Form encodes the request.
func (r RegisterContinueRequest) Form() url.Values {
	return newForm().
		set(ParamContinuationToken, r.ContinuationToken.Reveal()).
		set(ParamGrantType, string(r.GrantType)).
		set(ParamOOB, r.OOB.Reveal()).values()
}

// SignInIntrospect calls /oauth2/v2.0/introspect with the continuation token
// of an mfa_required answer. Callers must check result.Redirect first.
func (c *Client) SignInIntrospect(ctx context.Context, req IntrospectRequest) (*IntrospectResult, error) {
	return call[IntrospectResult](ctx, c, EndpointSignInIntrospect, req, redirectAllowed)
}

// RegisterIntrospect calls /register/v1.0/introspect with the continuation
// token of a registration_required answer. Callers must check
// result.Redirect first.
func (c *Client) RegisterIntrospect(ctx context.Context, req IntrospectRequest) (*IntrospectResult, error) {
	return call[IntrospectResult](ctx, c, EndpointRegisterIntrospect, req, redirectAllowed)
}

// An introspect answer needs a non-empty methods list whose every method has
// id, challenge_type and challenge_channel: Microsoft's clients cannot go on
// without them (the JS client would send the literal "undefined").
func (*IntrospectResult) required(w *wireBody) []member {
	ms := []member{
		{"continuation_token", w.ContinuationToken != ""},
		{"methods", len(w.Methods) > 0},
	}
	for i, m := range w.Methods {
		ms = append(ms,
			member{fmt.Sprintf("methods[%d].id", i), m.ID != ""},
			member{fmt.Sprintf("methods[%d].challenge_type", i), m.ChallengeType != ""},
			member{fmt.Sprintf("methods[%d].challenge_channel", i), m.ChallengeChannel != ""},
		)
	}
	return ms
}

func (r *IntrospectResult) fill(w *wireBody, redirect *Redirect, resp *Response) {
	*r = IntrospectResult{Redirect: redirect, ContinuationToken: w.ContinuationToken, Methods: w.Methods, Response: resp}
}

// SignInChallengeMFA calls /oauth2/v2.0/challenge with the id of a strong
// method: the tenant sends a code on the method's channel. Callers must
// check result.Redirect first (SMS blocked by fraud protection is one).
func (c *Client) SignInChallengeMFA(ctx context.Context, req MFAChallengeRequest) (*ChallengeResult, error) {
	return call[ChallengeResult](ctx, c, EndpointSignInChallenge, req, redirectAllowed)
}

// RegisterChallenge calls /register/v1.0/challenge. Callers must check
// result.Redirect first, then ChallengeType: oob (enter the code sent) or
// preverified (continue at once with grant_type continuation_token).
func (c *Client) RegisterChallenge(ctx context.Context, req RegisterChallengeRequest) (*RegisterChallengeResult, error) {
	return call[RegisterChallengeResult](ctx, c, EndpointRegisterChallenge, req, redirectAllowed)
}

// An oob answer needs the members the page marks as returned; a preverified
// answer needs only its continuation token.
func (*RegisterChallengeResult) required(w *wireBody) []member {
	oob := w.ChallengeType == ChallengeTypeOOB
	return []member{
		{"challenge_type", w.ChallengeType != ""},
		{"continuation_token", w.ContinuationToken != ""},
		{"binding_method", !oob || w.BindingMethod != ""},
		{"challenge_target", !oob || w.ChallengeTarget != ""},
		{"challenge_channel", !oob || w.ChallengeChannel != ""},
		{"code_length", !oob || w.CodeLength != nil},
	}
}

func (r *RegisterChallengeResult) fill(w *wireBody, redirect *Redirect, resp *Response) {
	*r = RegisterChallengeResult{
		Redirect:          redirect,
		ChallengeType:     w.ChallengeType,
		ContinuationToken: w.ContinuationToken,
		BindingMethod:     w.BindingMethod,
		ChallengeTarget:   w.ChallengeTarget,
		ChallengeChannel:  w.ChallengeChannel,
		CodeLength:        intOr0(w.CodeLength),
		Interval:          intOr0(w.Interval),
		Response:          resp,
	}
}

// RegisterContinue calls /register/v1.0/continue; its continuation token
// goes to /token with grant_type continuation_token. The pages define no
// redirect here; one is a *ProtocolError.
func (c *Client) RegisterContinue(ctx context.Context, req RegisterContinueRequest) (*ContinuationResult, error) {
	return call[ContinuationResult](ctx, c, EndpointRegisterContinue, req, redirectNone)
}

// IsRedirect reports whether the answer was a redirect to a web-based flow.
func (r *IntrospectResult) IsRedirect() bool { return r != nil && r.Redirect != nil }

// IsRedirect reports whether the answer was a redirect to a web-based flow.
func (r *RegisterChallengeResult) IsRedirect() bool { return r != nil && r.Redirect != nil }

// IsRedirect reports whether the token answer was a redirect (2026-02: a
// capability the tenant needs was not advertised).
func (r *TokenResult) IsRedirect() bool { return r != nil && r.Redirect != nil }

// LogValue implements slog.LogValuer without revealing secrets.
func (r IntrospectRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r MFAChallengeRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r RegisterChallengeRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r RegisterContinueRequest) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r *IntrospectResult) LogValue() slog.Value { return redactedValue(r) }

// LogValue implements slog.LogValuer without revealing secrets.
func (r *RegisterChallengeResult) LogValue() slog.Value { return redactedValue(r) }
