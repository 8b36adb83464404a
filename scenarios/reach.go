package scenarios

import (
	"context"
	"fmt"
	"slices"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Reach walks the flow that leads to ep, with fresh users or the existing
// one, and returns the call to ep that a conforming tenant accepts; nothing
// is sent to ep itself. A conformance trigger then changes one thing in it.
func (w *Walker) Reach(ctx context.Context, ep nativeauth.Endpoint) (*Reached, error) {
	switch ep {
	case nativeauth.EndpointSignUpStart:
		p := &Progress{Username: w.Users.New("start")}
		if w.SignUpMethod != nativeauth.SignUpMethodOTP {
			pw, err := w.NewPassword()
			if err != nil {
				return nil, err
			}
			p.Password = pw
		}
		return &Reached{Progress: *p, Call: w.Client.Call(ep, w.signUpStartRequest(p, w.Attributes))}, nil
	case nativeauth.EndpointSignUpChallenge:
		p, err := w.StartSignUp(ctx, "su", w.SignUpMethod != nativeauth.SignUpMethodOTP, w.Attributes)
		if err != nil {
			return nil, err
		}
		return w.challengeCall(p, ep), nil
	case nativeauth.EndpointSignUpContinue:
		return w.SignUpUntilCode(ctx, "su", w.SignUpMethod != nativeauth.SignUpMethodOTP, w.Attributes)
	case nativeauth.EndpointSignInInitiate, nativeauth.EndpointSignInChallenge, nativeauth.EndpointToken:
		return w.reachSignIn(ctx, ep)
	case nativeauth.EndpointResetStart, nativeauth.EndpointResetChallenge, nativeauth.EndpointResetContinue,
		nativeauth.EndpointResetSubmit, nativeauth.EndpointResetPollCompletion:
		return w.reachReset(ctx, ep)
	case nativeauth.EndpointSignInIntrospect, nativeauth.EndpointRegisterIntrospect,
		nativeauth.EndpointRegisterChallenge, nativeauth.EndpointRegisterContinue:
		return w.reachSecondFactor(ctx, ep)
	}
	return nil, fmt.Errorf("reach: no flow leads to %s", ep)
}

func (w *Walker) challengeCall(p *Progress, ep nativeauth.Endpoint) *Reached {
	return &Reached{Progress: *p, Call: w.Client.Call(ep,
		nativeauth.ChallengeRequest{ContinuationToken: p.ContinuationToken, ChallengeTypes: w.ChallengeTypes(ep)})}
}

func (w *Walker) reachSignIn(ctx context.Context, ep nativeauth.Endpoint) (*Reached, error) {
	user, err := w.ExistingUser(ctx)
	if err != nil {
		return nil, err
	}
	if ep == nativeauth.EndpointSignInInitiate {
		p := Progress{Username: user.Username, Password: user.Password}
		return &Reached{Progress: p, Call: w.Client.Call(ep, nativeauth.InitiateRequest{Username: user.Username,
			ChallengeTypes: w.ChallengeTypes(ep), Capabilities: w.Capabilities})}, nil
	}
	p, err := w.StartSignIn(ctx, user)
	if err != nil {
		return nil, err
	}
	if ep == nativeauth.EndpointSignInChallenge {
		return w.challengeCall(p, ep), nil
	}
	if _, err := w.Challenge(ctx, p, nativeauth.EndpointSignInChallenge); err != nil {
		return nil, err
	}
	// The token entries document a refresh_token and an id_token as present
	// because offline_access and openid were asked: ask for them whatever
	// the profile's scopes, or a conforming tenant fails.
	req, err := w.SignInToken(ctx, p, w.ScopesWith(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess))
	if err != nil {
		return nil, err
	}
	return &Reached{Progress: *p, Call: w.Client.Call(ep, req)}, nil
}

func (w *Walker) reachReset(ctx context.Context, ep nativeauth.Endpoint) (*Reached, error) {
	if ep == nativeauth.EndpointResetStart {
		su, err := w.CompleteSignUp(ctx, "reset")
		if err != nil {
			return nil, err
		}
		p := Progress{Username: su.Username, Password: su.Password}
		return &Reached{Progress: p, Call: w.Client.Call(ep, nativeauth.ResetStartRequest{Username: su.Username,
			ChallengeTypes: w.ChallengeTypes(ep), Capabilities: w.Capabilities})}, nil
	}
	before := map[nativeauth.Endpoint]nativeauth.Endpoint{
		nativeauth.EndpointResetChallenge:      nativeauth.EndpointResetStart,
		nativeauth.EndpointResetContinue:       nativeauth.EndpointResetChallenge,
		nativeauth.EndpointResetSubmit:         nativeauth.EndpointResetContinue,
		nativeauth.EndpointResetPollCompletion: nativeauth.EndpointResetContinue,
	}[ep]
	p, err := w.ResetUntil(ctx, before)
	if err != nil {
		return nil, err
	}
	var req nativeauth.FormRequest
	switch ep {
	case nativeauth.EndpointResetChallenge:
		return w.challengeCall(p, ep), nil
	case nativeauth.EndpointResetContinue:
		code, err := w.Code(ctx, p.Username, p.Since)
		if err != nil {
			return nil, err
		}
		req = nativeauth.ResetContinueRequest{ContinuationToken: p.ContinuationToken, OOB: code}
	case nativeauth.EndpointResetSubmit:
		pw, err := w.NewPassword()
		if err != nil {
			return nil, err
		}
		req = nativeauth.ResetSubmitRequest{ContinuationToken: p.ContinuationToken, NewPassword: pw}
	default:
		pw, err := w.NewPassword()
		if err != nil {
			return nil, err
		}
		if err := w.ResetSubmit(ctx, p, pw); err != nil {
			return nil, err
		}
		req = nativeauth.PollRequest{ContinuationToken: p.ContinuationToken}
	}
	return &Reached{Progress: *p, Call: w.Client.Call(ep, req)}, nil
}

// ScopesWith is the walk's scopes with extra appended, each once.
func (w *Walker) ScopesWith(extra ...string) []string {
	var out []string
	for _, s := range append(slices.Clone(w.Scopes), extra...) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
