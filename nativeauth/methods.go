package nativeauth

import "context"

// Every typed method returns either a result or an error, never both. The
// error is an *Error for an error answer of the API, a *ProtocolError for an
// answer that breaks the contract, or a transport or context error.

// answer is a result of the typed methods: it names the members its
// success body must carry and fills itself from a decoded body (an empty one
// for a redirect answer).
type answer interface {
	required(w *wireBody) []member
	fill(w *wireBody, redirect *Redirect, resp *Response)
}

// answerOf is a pointer to a result type T, the receiver of its answer
// methods.
type answerOf[T any] interface {
	*T
	answer
}

// redirects says whether the pages define a redirect answer for an
// endpoint; where they define none, one is a *ProtocolError.
type redirects bool

const (
	redirectAllowed redirects = true
	redirectNone    redirects = false
)

// call is every typed method: send req to ep, decode the answer into a T.
func call[T any, P answerOf[T]](ctx context.Context, c *Client, ep Endpoint, req FormRequest, r redirects) (*T, error) {
	resp, err := c.send(ctx, ep, req.Form())
	if err != nil {
		return nil, err
	}
	return decodeAnswer[T, P](resp, r)
}

// decodeAnswer returns a result or an error, never both.
func decodeAnswer[T any, P answerOf[T]](resp *Response, r redirects) (*T, error) {
	w, redirect, err := decode(resp, bool(r))
	if err != nil {
		return nil, err
	}
	res := P(new(T))
	if redirect != nil {
		res.fill(&wireBody{}, redirect, resp)
		return res, nil
	}
	if err := missing(resp, res.required(w)...); err != nil {
		return nil, err
	}
	res.fill(w, nil, resp)
	return res, nil
}

func (*ContinuationResult) required(w *wireBody) []member {
	return []member{{"continuation_token", w.ContinuationToken != ""}}
}

func (r *ContinuationResult) fill(w *wireBody, redirect *Redirect, resp *Response) {
	*r = ContinuationResult{Redirect: redirect, ContinuationToken: w.ContinuationToken, Response: resp}
}

func (*ChallengeResult) required(w *wireBody) []member {
	return []member{
		{"challenge_type", w.ChallengeType != ""},
		{"continuation_token", w.ContinuationToken != ""},
	}
}

func (r *ChallengeResult) fill(w *wireBody, redirect *Redirect, resp *Response) {
	*r = ChallengeResult{
		Redirect:             redirect,
		ChallengeType:        w.ChallengeType,
		ContinuationToken:    w.ContinuationToken,
		Interval:             intOr0(w.Interval),
		BindingMethod:        w.BindingMethod,
		ChallengeChannel:     w.ChallengeChannel,
		ChallengeTargetLabel: w.ChallengeTargetLabel,
		CodeLength:           intOr0(w.CodeLength),
		Response:             resp,
	}
}

// SignUpStart calls /signup/v1.0/start. Callers must check result.Redirect
// first: when set, the tenant wants a web-based flow and nothing else in the
// result is filled.
func (c *Client) SignUpStart(ctx context.Context, req SignUpStartRequest) (*ContinuationResult, error) {
	return call[ContinuationResult](ctx, c, EndpointSignUpStart, req, redirectAllowed)
}

// SignUpChallenge calls /signup/v1.0/challenge. Callers must check
// result.Redirect first; otherwise ChallengeType says whether an OTP was
// sent (oob) or a password is expected.
func (c *Client) SignUpChallenge(ctx context.Context, req ChallengeRequest) (*ChallengeResult, error) {
	return call[ChallengeResult](ctx, c, EndpointSignUpChallenge, req, redirectAllowed)
}

// SignUpContinue calls /signup/v1.0/continue with the grant req.GrantType
// (oob, password or attributes). Callers must check result.Redirect first.
// An attributes_required, credential_required or verification_required
// answer is an *Error carrying the continuation token to go on with.
func (c *Client) SignUpContinue(ctx context.Context, req SignUpContinueRequest) (*ContinuationResult, error) {
	return call[ContinuationResult](ctx, c, EndpointSignUpContinue, req, redirectAllowed)
}

// SignInInitiate calls /oauth2/v2.0/initiate. Callers must check
// result.Redirect first.
func (c *Client) SignInInitiate(ctx context.Context, req InitiateRequest) (*ContinuationResult, error) {
	return call[ContinuationResult](ctx, c, EndpointSignInInitiate, req, redirectAllowed)
}

// SignInChallenge calls /oauth2/v2.0/challenge. Callers must check
// result.Redirect first.
func (c *Client) SignInChallenge(ctx context.Context, req ChallengeRequest) (*ChallengeResult, error) {
	return call[ChallengeResult](ctx, c, EndpointSignInChallenge, req, redirectAllowed)
}

// Token calls /oauth2/v2.0/token with any grant type: password and oob
// (sign-in), mfa_oob (second factor), continuation_token (after sign-up,
// reset or strong-method registration) and refresh_token. Callers must
// check result.Redirect first (2026-02 revision: the older pages define
// none). An mfa_required or registration_required answer is an *Error
// carrying the continuation token to go on with.
func (c *Client) Token(ctx context.Context, req TokenRequest) (*TokenResult, error) {
	return call[TokenResult](ctx, c, EndpointToken, req, redirectAllowed)
}

func (*TokenResult) required(w *wireBody) []member {
	return []member{
		{"token_type", w.TokenType != ""},
		{"access_token", w.AccessToken != ""},
	}
}

func (r *TokenResult) fill(w *wireBody, redirect *Redirect, resp *Response) {
	*r = TokenResult{
		Redirect:     redirect,
		TokenType:    w.TokenType,
		Scope:        w.Scope,
		ExpiresIn:    intOr0(w.ExpiresIn),
		ExtExpiresIn: intOr0(w.ExtExpiresIn),
		AccessToken:  w.AccessToken,
		RefreshToken: w.RefreshToken,
		IDToken:      w.IDToken,
		ClientInfo:   w.ClientInfo,
		Response:     resp,
	}
}

// ResetStart calls /resetpassword/v1.0/start. Callers must check
// result.Redirect first.
func (c *Client) ResetStart(ctx context.Context, req ResetStartRequest) (*ContinuationResult, error) {
	return call[ContinuationResult](ctx, c, EndpointResetStart, req, redirectAllowed)
}

// ResetChallenge calls /resetpassword/v1.0/challenge. Callers must check
// result.Redirect first.
func (c *Client) ResetChallenge(ctx context.Context, req ChallengeRequest) (*ChallengeResult, error) {
	return call[ChallengeResult](ctx, c, EndpointResetChallenge, req, redirectAllowed)
}

// ResetContinue calls /resetpassword/v1.0/continue with grant_type oob.
// The pages define no redirect here; one is a *ProtocolError.
func (c *Client) ResetContinue(ctx context.Context, req ResetContinueRequest) (*ResetContinueResult, error) {
	return call[ResetContinueResult](ctx, c, EndpointResetContinue, req, redirectNone)
}

func (*ResetContinueResult) required(w *wireBody) []member {
	return []member{
		{"continuation_token", w.ContinuationToken != ""},
		{"expires_in", w.ExpiresIn != nil},
	}
}

func (r *ResetContinueResult) fill(w *wireBody, _ *Redirect, resp *Response) {
	*r = ResetContinueResult{ContinuationToken: w.ContinuationToken, ExpiresIn: intOr0(w.ExpiresIn), Response: resp}
}

// ResetSubmit calls /resetpassword/v1.0/submit with the new password. The
// pages define no redirect here; one is a *ProtocolError.
func (c *Client) ResetSubmit(ctx context.Context, req ResetSubmitRequest) (*ResetSubmitResult, error) {
	return call[ResetSubmitResult](ctx, c, EndpointResetSubmit, req, redirectNone)
}

func (*ResetSubmitResult) required(w *wireBody) []member {
	return []member{
		{"continuation_token", w.ContinuationToken != ""},
		{"poll_interval", w.PollInterval != nil},
	}
}

func (r *ResetSubmitResult) fill(w *wireBody, _ *Redirect, resp *Response) {
	*r = ResetSubmitResult{ContinuationToken: w.ContinuationToken, PollInterval: intOr0(w.PollInterval), Response: resp}
}

// ResetPollCompletion calls /resetpassword/v1.0/poll_completion. Status may
// be not_started or in_progress: poll again after PollInterval. The
// continuation token is present once the status is succeeded: a succeeded
// answer without one is a *ProtocolError. The pages define no redirect
// here.
func (c *Client) ResetPollCompletion(ctx context.Context, req PollRequest) (*PollResult, error) {
	return call[PollResult](ctx, c, EndpointResetPollCompletion, req, redirectNone)
}

// A succeeded reset is worth only its continuation token (it signs the user
// in at token); without one the answer is half a success.
func (*PollResult) required(w *wireBody) []member {
	return []member{
		{"status", w.Status != ""},
		{"continuation_token", w.Status != PollStatusSucceeded || w.ContinuationToken != ""},
	}
}

func (r *PollResult) fill(w *wireBody, _ *Redirect, resp *Response) {
	*r = PollResult{Status: w.Status, ContinuationToken: w.ContinuationToken, Response: resp}
}

// IsRedirect reports whether the answer was a redirect to a web-based flow.
func (r *ContinuationResult) IsRedirect() bool { return r != nil && r.Redirect != nil }

// IsRedirect reports whether the answer was a redirect to a web-based flow.
func (r *ChallengeResult) IsRedirect() bool { return r != nil && r.Redirect != nil }
