package scenarios

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Walker walks the documented flows one call at a time, for a caller that
// checks every answer or changes the next request before it is sent: the
// conformance suites. It uses the load flows' Config (client, OTP source,
// usernames, attributes, scopes, challenge types, password policy), so a
// walk sends what a load iteration sends.
type Walker struct {
	Config
	// Flow, when set, is the flow whose challenge_type lists the walk
	// sends (a load iteration's); otherwise the tenant's sign-up method
	// picks the flow.
	Flow string
	// Skew is how long before a challenge a code it sent may be dated: the
	// target's clock and a mailbox's may disagree by that much. Zero for
	// load, where a user signs in again right after the last iteration.
	Skew time.Duration
	// Existing returns a user with a known password that may sign in; nil
	// signs one up for every call that needs one.
	Existing func(ctx context.Context) (Credential, error)
	// Now is the target's clock; nil means time.Now. A code is looked for
	// from a second before the challenge that sent it.
	Now func() time.Time
}

// Progress is a flow in progress: whose it is and where it stands.
type Progress struct {
	Username string
	// Password is the user's password; empty on a passcode tenant.
	Password nativeauth.Secret
	// ContinuationToken is the token to go on with; Previous the one
	// before it.
	ContinuationToken, Previous nativeauth.Secret
	// Since is when the last code was asked for.
	Since time.Time
	// PollInterval is what the reset submit asked for between polls.
	PollInterval time.Duration
	// Last is the last answer, whatever it was.
	Last *nativeauth.Response
}

// Reached is a flow walked up to one endpoint: the call a conforming
// tenant accepts there, about to be sent, and how the flow got there.
type Reached struct {
	Progress
	Call nativeauth.Call
}

func (w *Walker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// flowOf is the load flow whose requests a walk of ep sends.
func (w *Walker) flowOf(ep nativeauth.Endpoint) string {
	if w.Flow != "" {
		return w.Flow
	}
	otp := w.SignUpMethod == nativeauth.SignUpMethodOTP
	switch ep {
	case nativeauth.EndpointSignUpStart, nativeauth.EndpointSignUpChallenge, nativeauth.EndpointSignUpContinue:
		if otp {
			return FlowSignUpOTP
		}
		return FlowSignUpPassword
	case nativeauth.EndpointSignInInitiate, nativeauth.EndpointSignInChallenge, nativeauth.EndpointToken:
		if otp {
			return FlowSignInOTP
		}
		return FlowSignInPassword
	}
	return FlowSSPR
}

// ChallengeTypes is the challenge_type list a walk sends to ep.
func (w *Walker) ChallengeTypes(ep nativeauth.Endpoint) []nativeauth.ChallengeType {
	return w.challengeTypes(w.flowOf(ep))
}

// PasswordTypes is the list an app sends for the password challenge that
// answers credential_required.
var PasswordTypes = []nativeauth.ChallengeType{nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect}

// NewPassword is a fresh password that satisfies the tenant's policy.
func (w *Walker) NewPassword() (nativeauth.Secret, error) {
	pw, err := NewPassword(w.Password)
	return nativeauth.Secret(pw), err
}

// Code reads the code sent to username since the given instant.
func (w *Walker) Code(ctx context.Context, username string, since time.Time) (nativeauth.Secret, error) {
	if w.OTP == nil {
		return "", errors.New("no OTP source configured")
	}
	timeout := w.OTPTimeout
	if timeout <= 0 {
		timeout = 90 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	code, err := w.OTP.Code(ctx, username, since)
	if err != nil {
		return "", fmt.Errorf("read the code sent to %s: %w", username, err)
	}
	return code, nil
}

// answered keeps a call's answer in p: the response, and its continuation
// token when it has one. A redirect is an error, since the walk cannot go
// on natively.
func (p *Progress) answered(resp *nativeauth.Response, ct nativeauth.Secret, r *nativeauth.Redirect) error {
	p.Last = resp
	p.moveOn(ct)
	return redirected(r)
}

// failed keeps in p a call that returned no result: the error answer, and
// the continuation token an error may carry (credential_required,
// attributes_required, mfa_required…). It returns err.
func (p *Progress) failed(err error) error {
	p.Last = nativeauth.ResponseOf(err)
	if ae, ok := nativeauth.AsError(err); ok {
		p.moveOn(ae.ContinuationToken)
	}
	return err
}

func (p *Progress) moveOn(ct nativeauth.Secret) {
	if ct != "" {
		p.Previous, p.ContinuationToken = p.ContinuationToken, ct
	}
}

// continued keeps a ContinuationResult in p.
func (p *Progress) continued(res *nativeauth.ContinuationResult, err error) error {
	if res == nil {
		return p.failed(err)
	}
	return p.answered(res.Response, res.ContinuationToken, res.Redirect)
}

// redirected is the error of a redirect answer: the walk cannot go on
// natively. Nil when r is.
func redirected(r *nativeauth.Redirect) error {
	switch {
	case r == nil:
		return nil
	case r.Reason != "":
		return fmt.Errorf("%w: %s", ErrRedirect, r.Reason)
	}
	return ErrRedirect
}

// StartSignUp starts a sign-up for a fresh user, with a new password when
// password is set and the given attributes.
func (w *Walker) StartSignUp(ctx context.Context, tag string, password bool, attrs nativeauth.Attributes) (*Progress, error) {
	p := &Progress{Username: w.Users.New(tag)}
	if password {
		pw, err := w.NewPassword()
		if err != nil {
			return p, err
		}
		p.Password = pw
	}
	return p, w.SignUpStart(ctx, p, password, attrs)
}

// SignUpStart sends sign-up start for p's user, with its password when
// sendPassword is set, and attrs.
func (w *Walker) SignUpStart(ctx context.Context, p *Progress, sendPassword bool, attrs nativeauth.Attributes) error {
	p.Since = w.since()
	req := w.signUpStartRequest(p, attrs)
	if !sendPassword {
		req.Password = ""
	}
	res, err := w.Client.SignUpStart(ctx, req)
	return p.continued(res, err)
}

// since is the instant from which a code asked for now counts.
func (w *Walker) since() time.Time { return w.now().Add(-w.Skew) }

func (w *Walker) signUpStartRequest(p *Progress, attrs nativeauth.Attributes) nativeauth.SignUpStartRequest {
	return nativeauth.SignUpStartRequest{Username: p.Username, ChallengeTypes: w.ChallengeTypes(nativeauth.EndpointSignUpStart),
		Password: p.Password, Attributes: attrs, Capabilities: w.Capabilities}
}

// Challenge calls the challenge endpoint ep with types (the walk's list for
// ep when none).
func (w *Walker) Challenge(ctx context.Context, p *Progress, ep nativeauth.Endpoint, types ...nativeauth.ChallengeType) (*nativeauth.ChallengeResult, error) {
	var call func(context.Context, nativeauth.ChallengeRequest) (*nativeauth.ChallengeResult, error)
	switch ep {
	case nativeauth.EndpointSignUpChallenge:
		call = w.Client.SignUpChallenge
	case nativeauth.EndpointSignInChallenge:
		call = w.Client.SignInChallenge
	case nativeauth.EndpointResetChallenge:
		call = w.Client.ResetChallenge
	default:
		return nil, fmt.Errorf("%s is not a challenge endpoint", ep)
	}
	if len(types) == 0 {
		types = w.ChallengeTypes(ep)
	}
	p.Since = w.since()
	res, err := call(ctx, nativeauth.ChallengeRequest{ContinuationToken: p.ContinuationToken, ChallengeTypes: types})
	if res == nil {
		return nil, p.failed(err)
	}
	return res, p.answered(res.Response, res.ContinuationToken, res.Redirect)
}

// ContinueSignUp sends req to sign-up continue with p's token. An error
// answer that carries a token (credential_required, attributes_required)
// moves p on to it and is returned as the *nativeauth.Error.
func (w *Walker) ContinueSignUp(ctx context.Context, p *Progress, req nativeauth.SignUpContinueRequest) error {
	req.ContinuationToken = p.ContinuationToken
	res, err := w.Client.SignUpContinue(ctx, req)
	return p.continued(res, err)
}

// SubmitSignUpCode sends the code of the last challenge to sign-up continue.
func (w *Walker) SubmitSignUpCode(ctx context.Context, p *Progress) error {
	code, err := w.Code(ctx, p.Username, p.Since)
	if err != nil {
		return err
	}
	return w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypeOOB, OOB: code})
}

// SignUpUntilCode starts a sign-up and asks for the code: the request the
// walk returns is the continue that submits it.
func (w *Walker) SignUpUntilCode(ctx context.Context, tag string, password bool, attrs nativeauth.Attributes) (*Reached, error) {
	p, err := w.StartSignUp(ctx, tag, password, attrs)
	if err != nil {
		return nil, err
	}
	start := p.ContinuationToken
	if _, err := w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge); err != nil {
		return nil, err
	}
	code, err := w.Code(ctx, p.Username, p.Since)
	if err != nil {
		return nil, err
	}
	p.Previous = start
	return &Reached{Progress: *p, Call: w.Client.Call(nativeauth.EndpointSignUpContinue,
		nativeauth.SignUpContinueRequest{ContinuationToken: p.ContinuationToken, GrantType: nativeauth.GrantTypeOOB, OOB: code})}, nil
}

// CompleteSignUp runs a whole sign-up for a fresh user of the tenant's
// method, with the required attributes at start; p's token is the one for
// the token endpoint.
func (w *Walker) CompleteSignUp(ctx context.Context, tag string) (*Progress, error) {
	p, err := w.StartSignUp(ctx, tag, w.SignUpMethod != nativeauth.SignUpMethodOTP, w.Attributes)
	if err != nil {
		return p, err
	}
	if _, err := w.Challenge(ctx, p, nativeauth.EndpointSignUpChallenge); err != nil {
		return p, err
	}
	err = w.SubmitSignUpCode(ctx, p)
	// A tenant may still ask for attributes the profile did not list.
	for i := 0; i < 2 && nativeauth.IsError(err, nativeauth.ErrAttributesRequired); i++ {
		ae, _ := nativeauth.AsError(err)
		attrs := nativeauth.Attributes{}
		for _, a := range ae.RequiredAttributes {
			attrs[a.Name] = "ciamcheck"
		}
		err = w.ContinueSignUp(ctx, p, nativeauth.SignUpContinueRequest{GrantType: nativeauth.GrantTypeAttributes, Attributes: attrs})
	}
	return p, err
}

// ContinuationTokenRequest is the token request that signs in with the
// token of a completed sign-up or reset.
func ContinuationTokenRequest(p *Progress, scopes []string) nativeauth.TokenRequest {
	return nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeContinuationToken,
		ContinuationToken: p.ContinuationToken, Username: p.Username, Scopes: scopes}
}

// SignInTokenRequest is the token request after the sign-in challenge: the
// code when there is one, the user's password otherwise.
func SignInTokenRequest(p *Progress, code nativeauth.Secret, scopes []string) nativeauth.TokenRequest {
	req := nativeauth.TokenRequest{ContinuationToken: p.ContinuationToken, Scopes: scopes}
	if code != "" {
		req.GrantType, req.OOB = nativeauth.GrantTypeOOB, code
	} else {
		req.GrantType, req.Password = nativeauth.GrantTypePassword, p.Password
	}
	return req
}

// TokenAfterSignUp is the call that signs in with the token of a completed
// sign-up or reset.
func (w *Walker) TokenAfterSignUp(p *Progress, scopes []string) nativeauth.Call {
	return w.Client.Call(nativeauth.EndpointToken, ContinuationTokenRequest(p, scopes))
}

// Token sends a token request and records the answer in p.
func (w *Walker) Token(ctx context.Context, p *Progress, req nativeauth.TokenRequest) (*nativeauth.TokenResult, error) {
	res, err := w.Client.Token(ctx, req)
	if res == nil {
		return nil, p.failed(err)
	}
	return res, p.answered(res.Response, "", res.Redirect)
}

// StartSignIn sends initiate for user.
func (w *Walker) StartSignIn(ctx context.Context, user Credential) (*Progress, error) {
	p := &Progress{Username: user.Username, Password: user.Password, Since: w.since()}
	res, err := w.Client.SignInInitiate(ctx, nativeauth.InitiateRequest{Username: user.Username,
		ChallengeTypes: w.ChallengeTypes(nativeauth.EndpointSignInInitiate), Capabilities: w.Capabilities})
	return p, p.continued(res, err)
}

// SignInToken is the token request after the sign-in challenge: the
// password, or the code the challenge sent.
func (w *Walker) SignInToken(ctx context.Context, p *Progress, scopes []string) (nativeauth.TokenRequest, error) {
	if w.SignUpMethod != nativeauth.SignUpMethodOTP {
		return SignInTokenRequest(p, "", scopes), nil
	}
	code, err := w.Code(ctx, p.Username, p.Since)
	return SignInTokenRequest(p, code, scopes), err
}

// ExistingUser is a user that may sign in.
func (w *Walker) ExistingUser(ctx context.Context) (Credential, error) {
	if w.Existing != nil {
		return w.Existing(ctx)
	}
	p, err := w.CompleteSignUp(ctx, "existing")
	if err != nil {
		return Credential{}, err
	}
	return Credential{Username: p.Username, Password: p.Password}, nil
}

// StartReset sends reset start for username and asks for the code.
func (w *Walker) StartReset(ctx context.Context, user Credential) (*Progress, error) {
	p := &Progress{Username: user.Username, Password: user.Password}
	res, err := w.Client.ResetStart(ctx, nativeauth.ResetStartRequest{Username: user.Username,
		ChallengeTypes: w.ChallengeTypes(nativeauth.EndpointResetStart), Capabilities: w.Capabilities})
	return p, p.continued(res, err)
}

// ResetContinue submits the code of the last reset challenge.
func (w *Walker) ResetContinue(ctx context.Context, p *Progress, code nativeauth.Secret) error {
	res, err := w.Client.ResetContinue(ctx, nativeauth.ResetContinueRequest{ContinuationToken: p.ContinuationToken, OOB: code})
	if res == nil {
		return p.failed(err)
	}
	return p.answered(res.Response, res.ContinuationToken, nil)
}

// ResetSubmit sends the new password.
func (w *Walker) ResetSubmit(ctx context.Context, p *Progress, password nativeauth.Secret) error {
	res, err := w.Client.ResetSubmit(ctx, nativeauth.ResetSubmitRequest{ContinuationToken: p.ContinuationToken, NewPassword: password})
	if res == nil {
		return p.failed(err)
	}
	p.PollInterval = time.Duration(res.PollInterval) * time.Second
	return p.answered(res.Response, res.ContinuationToken, nil)
}

// Poll polls once; the status is "" when the answer was not a status.
func (w *Walker) Poll(ctx context.Context, p *Progress) (nativeauth.PollStatus, error) {
	res, err := w.Client.ResetPollCompletion(ctx, nativeauth.PollRequest{ContinuationToken: p.ContinuationToken})
	if res == nil {
		return "", p.failed(err)
	}
	return res.Status, p.answered(res.Response, res.ContinuationToken, nil)
}

// PollUntilFinal polls, waiting the poll interval between calls as the
// page asks, until the status is succeeded or failed or the answer is not
// a status; at most maxPolls times.
func (w *Walker) PollUntilFinal(ctx context.Context, p *Progress, maxPolls int) (nativeauth.PollStatus, error) {
	for range maxPolls {
		st, err := w.Poll(ctx, p)
		if err != nil || st == nativeauth.PollStatusSucceeded || st == nativeauth.PollStatusFailed {
			return st, err
		}
		if err := sleep(ctx, p.PollInterval); err != nil {
			return st, err
		}
	}
	return "", fmt.Errorf("no final status after %d polls", maxPolls)
}

// ResetUntil walks a reset for a fresh user of its own (a reset changes the
// password, so no shared user may take part) up to and including step:
// start, challenge or continue.
func (w *Walker) ResetUntil(ctx context.Context, step nativeauth.Endpoint) (*Progress, error) {
	su, err := w.CompleteSignUp(ctx, "reset")
	if err != nil {
		return nil, err
	}
	p, err := w.StartReset(ctx, Credential{Username: su.Username, Password: su.Password})
	if err != nil || step == nativeauth.EndpointResetStart {
		return p, err
	}
	if _, err := w.Challenge(ctx, p, nativeauth.EndpointResetChallenge); err != nil || step == nativeauth.EndpointResetChallenge {
		return p, err
	}
	code, err := w.Code(ctx, p.Username, p.Since)
	if err != nil {
		return p, err
	}
	return p, w.ResetContinue(ctx, p, code)
}

// ResetToSucceeded runs a whole reset and polls until it succeeded; p's
// token is the one for the token endpoint.
func (w *Walker) ResetToSucceeded(ctx context.Context) (*Progress, error) {
	p, err := w.ResetUntil(ctx, nativeauth.EndpointResetContinue)
	if err != nil {
		return nil, err
	}
	pw, err := w.NewPassword()
	if err != nil {
		return nil, err
	}
	if err := w.ResetSubmit(ctx, p, pw); err != nil {
		return nil, err
	}
	st, err := w.PollUntilFinal(ctx, p, w.maxPolls())
	if err == nil && st != nativeauth.PollStatusSucceeded {
		err = fmt.Errorf("the reset ended %q", st)
	}
	return p, err
}

func (w *Walker) maxPolls() int {
	if w.MaxPolls > 0 {
		return w.MaxPolls
	}
	return 30
}
