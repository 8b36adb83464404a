package nativeauth

import (
	"context"
	"net/url"
	"strings"
)

// Every typed method returns either a result or an error, never both. The
// error is an *Error for an error answer of the API, a *ProtocolError for an
// answer that breaks the contract, or a transport or context error.

func (c *Client) continuation(ctx context.Context, ep Endpoint, form url.Values) (*ContinuationResult, error) {
	resp, err := c.send(ctx, ep, form)
	if err != nil {
		return nil, err
	}
	return decodeContinuation(resp)
}

func decodeContinuation(resp *Response) (*ContinuationResult, error) {
	w, redirect, err := decode(resp, true)
	if err != nil {
		return nil, err
	}
	if redirect != nil {
		return &ContinuationResult{Redirect: redirect, Response: resp}, nil
	}
	if err := missing(resp, member{"continuation_token", w.ContinuationToken != ""}); err != nil {
		return nil, err
	}
	return &ContinuationResult{ContinuationToken: w.ContinuationToken, Response: resp}, nil
}

func (c *Client) challenge(ctx context.Context, ep Endpoint, req ChallengeRequest) (*ChallengeResult, error) {
	resp, err := c.send(ctx, ep, req.Form())
	if err != nil {
		return nil, err
	}
	return decodeChallenge(resp)
}

func decodeChallenge(resp *Response) (*ChallengeResult, error) {
	w, redirect, err := decode(resp, true)
	if err != nil {
		return nil, err
	}
	if redirect != nil {
		return &ChallengeResult{Redirect: redirect, Response: resp}, nil
	}
	if err := missing(resp,
		member{"challenge_type", w.ChallengeType != ""},
		member{"continuation_token", w.ContinuationToken != ""},
	); err != nil {
		return nil, err
	}
	return &ChallengeResult{
		ChallengeType:        w.ChallengeType,
		ContinuationToken:    w.ContinuationToken,
		Interval:             intOr0(w.Interval),
		BindingMethod:        w.BindingMethod,
		ChallengeChannel:     w.ChallengeChannel,
		ChallengeTargetLabel: w.ChallengeTargetLabel,
		CodeLength:           intOr0(w.CodeLength),
		Response:             resp,
	}, nil
}

// SignUpStart calls /signup/v1.0/start. Callers must check result.Redirect
// first: when set, the tenant wants a web-based flow and nothing else in the
// result is filled.
func (c *Client) SignUpStart(ctx context.Context, req SignUpStartRequest) (*ContinuationResult, error) {
	return c.continuation(ctx, EndpointSignUpStart, req.Form())
}

// SignUpChallenge calls /signup/v1.0/challenge. Callers must check
// result.Redirect first; otherwise ChallengeType says whether an OTP was
// sent (oob) or a password is expected.
func (c *Client) SignUpChallenge(ctx context.Context, req ChallengeRequest) (*ChallengeResult, error) {
	return c.challenge(ctx, EndpointSignUpChallenge, req)
}

// SignUpContinue calls /signup/v1.0/continue with the grant req.GrantType
// (oob, password or attributes). Callers must check result.Redirect first.
// An attributes_required, credential_required or verification_required
// answer is an *Error carrying the continuation token to go on with.
func (c *Client) SignUpContinue(ctx context.Context, req SignUpContinueRequest) (*ContinuationResult, error) {
	return c.continuation(ctx, EndpointSignUpContinue, req.Form())
}

// SignInInitiate calls /oauth2/v2.0/initiate. Callers must check
// result.Redirect first.
func (c *Client) SignInInitiate(ctx context.Context, req InitiateRequest) (*ContinuationResult, error) {
	return c.continuation(ctx, EndpointSignInInitiate, req.Form())
}

// SignInChallenge calls /oauth2/v2.0/challenge. Callers must check
// result.Redirect first.
func (c *Client) SignInChallenge(ctx context.Context, req ChallengeRequest) (*ChallengeResult, error) {
	return c.challenge(ctx, EndpointSignInChallenge, req)
}

// Token calls /oauth2/v2.0/token with any grant type: password and oob
// (sign-in), mfa_oob (second factor), continuation_token (after sign-up,
// reset or strong-method registration) and refresh_token. Callers must
// check result.Redirect first (2026-02 revision). An mfa_required or
// registration_required answer is an *Error carrying the continuation
// token to go on with.
func (c *Client) Token(ctx context.Context, req TokenRequest) (*TokenResult, error) {
	resp, err := c.send(ctx, EndpointToken, req.Form())
	if err != nil {
		return nil, err
	}
	return decodeToken(resp)
}

// decodeToken allows a redirect: the 2026-02 revision documents one (the
// older pages define none).
func decodeToken(resp *Response) (*TokenResult, error) {
	w, redirect, err := decode(resp, true)
	if err != nil {
		return nil, err
	}
	if redirect != nil {
		return &TokenResult{Redirect: redirect, Response: resp}, nil
	}
	if err := missing(resp,
		member{"token_type", w.TokenType != ""},
		member{"access_token", w.AccessToken != ""},
	); err != nil {
		return nil, err
	}
	return &TokenResult{
		TokenType:    w.TokenType,
		Scope:        w.Scope,
		ExpiresIn:    intOr0(w.ExpiresIn),
		ExtExpiresIn: intOr0(w.ExtExpiresIn),
		AccessToken:  w.AccessToken,
		RefreshToken: w.RefreshToken,
		IDToken:      w.IDToken,
		ClientInfo:   w.ClientInfo,
		Response:     resp,
	}, nil
}

// ResetStart calls /resetpassword/v1.0/start. Callers must check
// result.Redirect first.
func (c *Client) ResetStart(ctx context.Context, req ResetStartRequest) (*ContinuationResult, error) {
	return c.continuation(ctx, EndpointResetStart, req.Form())
}

// ResetChallenge calls /resetpassword/v1.0/challenge. Callers must check
// result.Redirect first.
func (c *Client) ResetChallenge(ctx context.Context, req ChallengeRequest) (*ChallengeResult, error) {
	return c.challenge(ctx, EndpointResetChallenge, req)
}

// ResetContinue calls /resetpassword/v1.0/continue with grant_type oob.
// The pages define no redirect here; one is a *ProtocolError.
func (c *Client) ResetContinue(ctx context.Context, req ResetContinueRequest) (*ResetContinueResult, error) {
	resp, err := c.send(ctx, EndpointResetContinue, req.Form())
	if err != nil {
		return nil, err
	}
	return decodeResetContinue(resp)
}

// decodeResetContinue allows no redirect: the pages define none for this endpoint.
func decodeResetContinue(resp *Response) (*ResetContinueResult, error) {
	w, _, err := decode(resp, false)
	if err != nil {
		return nil, err
	}
	if err := missing(resp,
		member{"continuation_token", w.ContinuationToken != ""},
		member{"expires_in", w.ExpiresIn != nil},
	); err != nil {
		return nil, err
	}
	return &ResetContinueResult{ContinuationToken: w.ContinuationToken, ExpiresIn: *w.ExpiresIn, Response: resp}, nil
}

// ResetSubmit calls /resetpassword/v1.0/submit with the new password. The
// pages define no redirect here; one is a *ProtocolError.
func (c *Client) ResetSubmit(ctx context.Context, req ResetSubmitRequest) (*ResetSubmitResult, error) {
	resp, err := c.send(ctx, EndpointResetSubmit, req.Form())
	if err != nil {
		return nil, err
	}
	return decodeResetSubmit(resp)
}

// decodeResetSubmit allows no redirect: the pages define none for this endpoint.
func decodeResetSubmit(resp *Response) (*ResetSubmitResult, error) {
	w, _, err := decode(resp, false)
	if err != nil {
		return nil, err
	}
	if err := missing(resp,
		member{"continuation_token", w.ContinuationToken != ""},
		member{"poll_interval", w.PollInterval != nil},
	); err != nil {
		return nil, err
	}
	return &ResetSubmitResult{ContinuationToken: w.ContinuationToken, PollInterval: *w.PollInterval, Response: resp}, nil
}

// ResetPollCompletion calls /resetpassword/v1.0/poll_completion. Status may
// be not_started or in_progress: poll again after PollInterval. The
// continuation token is present once the status is succeeded: a succeeded
// answer without one is a *ProtocolError.
func (c *Client) ResetPollCompletion(ctx context.Context, req PollRequest) (*PollResult, error) {
	resp, err := c.send(ctx, EndpointResetPollCompletion, req.Form())
	if err != nil {
		return nil, err
	}
	return decodePoll(resp)
}

// decodePoll allows no redirect: the pages define none for this endpoint.
func decodePoll(resp *Response) (*PollResult, error) {
	w, _, err := decode(resp, false)
	if err != nil {
		return nil, err
	}
	// A succeeded reset is worth only its continuation token (it signs the
	// user in at token); without one the answer is half a success.
	if err := missing(resp,
		member{"status", w.Status != ""},
		member{"continuation_token", w.Status != PollStatusSucceeded || w.ContinuationToken != ""},
	); err != nil {
		return nil, err
	}
	return &PollResult{Status: w.Status, ContinuationToken: w.ContinuationToken, Response: resp}, nil
}

// IsRedirect reports whether the answer was a redirect to a web-based flow.
func (r *ContinuationResult) IsRedirect() bool { return r != nil && r.Redirect != nil }

// IsRedirect reports whether the answer was a redirect to a web-based flow.
func (r *ChallengeResult) IsRedirect() bool { return r != nil && r.Redirect != nil }

func joinScopes(scopes []string) string {
	var out []string
	for _, s := range scopes {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}
