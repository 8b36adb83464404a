package scenarios

import (
	"context"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Steps of the 2026-02 revision's second-factor branches.
const (
	StepSignInIntrospect   StepName = "signin.introspect"
	StepSignInChallengeMFA StepName = "signin.challenge.mfa"
	StepTokenMFAOOB        StepName = "token.mfa_oob"
	StepRegisterIntrospect StepName = "register.introspect"
	StepRegisterChallenge  StepName = "register.challenge"
	StepRegisterContinue   StepName = "register.continue"
)

// Flows of the 2026-02 revision.
const (
	// FlowSignInMFA signs a user with a registered strong method in with
	// the password, then the emailed second factor.
	FlowSignInMFA = "signin-mfa"
	// FlowSignInRegister signs a user without a strong method in with the
	// password, registers the account's email as one (a code to it), then
	// takes the tokens. Each iteration consumes a user: after it the user
	// has a method and would be asked for MFA instead.
	FlowSignInRegister = "signin-register"
)

// DefaultCapabilities is what the MFA flows advertise (the pages' example
// sends both).
var DefaultCapabilities = []nativeauth.Capability{nativeauth.CapabilityMFARequired, nativeauth.CapabilityRegistrationRequired}

func init() {
	DefaultChallengeTypes[FlowSignInMFA] = []nativeauth.ChallengeType{nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect}
	DefaultChallengeTypes[FlowSignInRegister] = []nativeauth.ChallengeType{nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect}
	constructors[FlowSignInMFA] = func(c *Config) Flow { return &signInSecondFactor{cfg: c, name: FlowSignInMFA} }
	constructors[FlowSignInRegister] = func(c *Config) Flow {
		return &signInSecondFactor{cfg: c, name: FlowSignInRegister, register: true}
	}
	flowMethods[FlowSignInMFA] = MethodPassword
	flowMethods[FlowSignInRegister] = MethodPassword
	flowSteps[FlowSignInMFA] = []StepName{StepSignInInitiate, StepSignInChallenge, StepTokenPassword,
		StepSignInIntrospect, StepSignInChallengeMFA, StepOTPWait, StepTokenMFAOOB, StepTokenRefresh}
	flowSteps[FlowSignInRegister] = []StepName{StepSignInInitiate, StepSignInChallenge, StepTokenPassword,
		StepRegisterIntrospect, StepRegisterChallenge, StepOTPWait, StepRegisterContinue, StepTokenContinuation, StepTokenRefresh}
}

// signInSecondFactor is sign-in with a password followed by the branch the
// tenant answers: MFA (signin-mfa) or strong-method registration
// (signin-register). Either branch answered where the other was due is a
// failure: the flow measures one path.
type signInSecondFactor struct {
	cfg      *Config
	name     string
	register bool
}

func (f *signInSecondFactor) Name() string { return f.name }

// Setup fills the pool through sign-up (not measured). For signin-mfa each
// new account registers its verified email as a strong method (the
// registration after sign-up answers preverified); for signin-register the
// accounts are left without one.
func (f *signInSecondFactor) Setup(ctx context.Context, n int) error {
	mode := registerAfterSignUp
	if f.register {
		mode = stopAtRegistration
	}
	return setupPoolWith(ctx, f.cfg, FlowSignUpPassword, n, func(su *signUp) {
		su.caps = f.cfg.capabilities()
		su.registration = mode
	})
}

func (f *signInSecondFactor) Ready(concurrency int) error { return f.cfg.Pool.ready(concurrency) }

func (f *signInSecondFactor) Run(ctx context.Context, it Iteration) error {
	cfg := f.cfg
	r := newIter(f.name, it)
	user, ok := cfg.Pool.Take()
	if !ok {
		return &StepError{Flow: f.name, Step: StepSignInInitiate, Err: ErrPoolEmpty}
	}
	keep := true
	defer func() {
		if keep {
			cfg.Pool.Put(user)
		} else {
			cfg.Pool.Drop()
		}
	}()
	types := cfg.challengeTypes(f.name)

	var ct nativeauth.Secret
	err := r.do(ctx, StepSignInInitiate, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.SignInInitiate(ctx, nativeauth.InitiateRequest{Username: user.Username, ChallengeTypes: types, Capabilities: cfg.capabilities()})
		return continuationOutcome(res, err, &ct)
	})
	if err != nil {
		return err
	}
	err = r.do(ctx, StepSignInChallenge, func(ctx context.Context) (outcome, error) {
		return challenge(cfg.Client.SignInChallenge, ctx, ct, types, nativeauth.ChallengeTypePassword, &ct)
	})
	if err != nil {
		return err
	}
	want := nativeauth.SuberrorMFARequired
	if f.register {
		want = nativeauth.SuberrorRegistrationRequired
	}
	err = r.do(ctx, StepTokenPassword, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.Token(ctx, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypePassword, ContinuationToken: ct, Password: user.Password, Scopes: cfg.Scopes})
		return secondFactorTurn(res, err, want, &ct)
	})
	if err != nil {
		return err
	}

	var tok *nativeauth.TokenResult
	if f.register {
		// The user has a method from here on, whatever happens next.
		keep = false
		tok, err = registerEmail(ctx, r, cfg, user.Username, ct)
	} else {
		tok, err = f.mfa(ctx, r, user.Username, ct)
	}
	if err != nil {
		return err
	}
	return refresh(ctx, r, cfg, tok)
}

// mfa runs introspect, the challenge of the email method and mfa_oob.
func (f *signInSecondFactor) mfa(ctx context.Context, r *iter, username string, ct nativeauth.Secret) (*nativeauth.TokenResult, error) {
	cfg := f.cfg
	var method string
	err := r.do(ctx, StepSignInIntrospect, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.SignInIntrospect(ctx, nativeauth.IntrospectRequest{ContinuationToken: ct})
		if err != nil {
			return outcome{}, err
		}
		out := outcome{resp: res.Response, redirect: res.Redirect}
		if res.Redirect != nil {
			return out, nil
		}
		for _, m := range res.Methods {
			if m.ChallengeChannel == nativeauth.ChallengeChannelEmail {
				method = m.ID
				break
			}
		}
		if method == "" {
			return out, unexpected("introspect lists no email method (the flow reads codes from the account's mailbox)")
		}
		ct = res.ContinuationToken
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	since := time.Now()
	err = r.do(ctx, StepSignInChallengeMFA, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.SignInChallengeMFA(ctx, nativeauth.MFAChallengeRequest{ContinuationToken: ct, ID: method})
		if err != nil {
			return outcome{}, err
		}
		out := outcome{resp: res.Response, redirect: res.Redirect}
		if res.Redirect != nil {
			return out, nil
		}
		if res.ChallengeType != nativeauth.ChallengeTypeOOB {
			return out, unexpected("challenge_type %q, want oob", res.ChallengeType)
		}
		ct = res.ContinuationToken
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	code, err := r.waitOTP(ctx, cfg.OTP, cfg.OTPTimeout, username, since)
	if err != nil {
		return nil, err
	}
	var tok *nativeauth.TokenResult
	err = r.do(ctx, StepTokenMFAOOB, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.Token(ctx, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeMFAOOB, ContinuationToken: ct, OOB: code, Scopes: cfg.Scopes})
		return tokenOutcome(res, err, &tok)
	})
	return tok, err
}

// registerEmail registers the account's email as a strong method from a
// registration_required continuation token, then takes the tokens. After
// sign-up the email is preverified (no code); after a password sign-in a
// code goes to it.
func registerEmail(ctx context.Context, r *iter, cfg *Config, username string, ct nativeauth.Secret) (*nativeauth.TokenResult, error) {
	var channel string
	err := r.do(ctx, StepRegisterIntrospect, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.RegisterIntrospect(ctx, nativeauth.IntrospectRequest{ContinuationToken: ct})
		if err != nil {
			return outcome{}, err
		}
		out := outcome{resp: res.Response, redirect: res.Redirect}
		if res.Redirect != nil {
			return out, nil
		}
		for _, m := range res.Methods {
			if m.ChallengeChannel == nativeauth.ChallengeChannelEmail {
				channel = m.ChallengeChannel
			}
		}
		if channel == "" {
			return out, unexpected("register introspect offers no email method")
		}
		ct = res.ContinuationToken
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	since := time.Now()
	var preverified bool
	err = r.do(ctx, StepRegisterChallenge, func(ctx context.Context) (outcome, error) {
		res, err := cfg.Client.RegisterChallenge(ctx, nativeauth.RegisterChallengeRequest{ContinuationToken: ct,
			ChallengeType: nativeauth.ChallengeTypeOOB, ChallengeChannel: channel, ChallengeTarget: username})
		if err != nil {
			return outcome{}, err
		}
		out := outcome{resp: res.Response, redirect: res.Redirect}
		if res.Redirect != nil {
			return out, nil
		}
		switch res.ChallengeType {
		case nativeauth.ChallengeTypePreverified:
			preverified = true
		case nativeauth.ChallengeTypeOOB:
		default:
			return out, unexpected("challenge_type %q, want oob or preverified", res.ChallengeType)
		}
		ct = res.ContinuationToken
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	req := nativeauth.RegisterContinueRequest{ContinuationToken: ct, GrantType: nativeauth.GrantTypeContinuationToken}
	if !preverified {
		code, err := r.waitOTP(ctx, cfg.OTP, cfg.OTPTimeout, username, since)
		if err != nil {
			return nil, err
		}
		req = nativeauth.RegisterContinueRequest{ContinuationToken: ct, GrantType: nativeauth.GrantTypeOOB, OOB: code}
	}
	err = r.do(ctx, StepRegisterContinue, func(ctx context.Context) (outcome, error) {
		req.ContinuationToken = ct
		res, err := cfg.Client.RegisterContinue(ctx, req)
		return continuationOutcome(res, err, &ct)
	})
	if err != nil {
		return nil, err
	}
	var tok *nativeauth.TokenResult
	err = r.do(ctx, StepTokenContinuation, func(ctx context.Context) (outcome, error) {
		// After registration the JS client sends no username (client-facts).
		res, err := cfg.Client.Token(ctx, nativeauth.TokenRequest{GrantType: nativeauth.GrantTypeContinuationToken, ContinuationToken: ct, Scopes: cfg.Scopes})
		return tokenOutcome(res, err, &tok)
	})
	return tok, err
}

// secondFactorTurn is the outcome of a token call that must answer the
// suberror want (mfa_required or registration_required) with a
// continuation token: that answer is the flow's documented turn, and
// anything else (tokens included) a failure.
func secondFactorTurn(res *nativeauth.TokenResult, err error, want nativeauth.Suberror, ct *nativeauth.Secret) (outcome, error) {
	if err == nil {
		out := outcome{}
		if res != nil {
			out = outcome{resp: res.Response, redirect: res.Redirect}
			if res.Redirect != nil {
				return out, nil
			}
		}
		return out, unexpected("tokens where the tenant should answer %s (is MFA on for this user?)", want)
	}
	ae, ok := asAPIError(err)
	if !ok || ae.code != nativeauth.ErrInvalidGrant || ae.sub != want {
		return outcome{}, err
	}
	if ae.continuationToken == "" {
		return outcome{}, unexpected("%s without a continuation_token", want)
	}
	*ct = ae.continuationToken
	return outcome{expectedSuberrors: []nativeauth.Suberror{want}}, err
}

// capabilities is what the MFA flows advertise.
func (c *Config) capabilities() []nativeauth.Capability {
	if c.Capabilities != nil {
		return c.Capabilities
	}
	return DefaultCapabilities
}

// registration is what a sign-up does when its token call answers
// registration_required.
type registration uint8

const (
	registrationFails   registration = iota // a failure (the existing sign-up flows)
	stopAtRegistration                      // the account exists: done, without a method
	registerAfterSignUp                     // register the (preverified) email, then the tokens
)
