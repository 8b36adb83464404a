package scenarios

import (
	"context"

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
	constructors[FlowSignInMFA] = func(c *Config) Flow {
		c.defaultCapabilities()
		return &signInSecondFactor{pooledFlow: pooledFlow{cfg: c, name: FlowSignInMFA}}
	}
	constructors[FlowSignInRegister] = func(c *Config) Flow {
		c.defaultCapabilities()
		return &signInSecondFactor{pooledFlow: pooledFlow{cfg: c, name: FlowSignInRegister}, register: true}
	}
	flowMethods[FlowSignInMFA] = nativeauth.SignUpMethodPassword
	flowMethods[FlowSignInRegister] = nativeauth.SignUpMethodPassword
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
	pooledFlow
	register bool
}

// Setup fills the pool through sign-up (not measured). For signin-mfa each
// new account registers its verified email as a strong method (the
// registration after sign-up answers preverified); for signin-register the
// accounts are left without one.
func (f *signInSecondFactor) Setup(ctx context.Context, n int) error {
	mode := registerAfterSignUp
	if f.register {
		mode = stopAtRegistration
	}
	return setupPoolWith(ctx, f.cfg, FlowSignUpPassword, n, func(su *signUp) { su.registration = mode })
}

func (f *signInSecondFactor) Run(ctx context.Context, it Iteration) error {
	w, r := f.cfg.walker(f.name), newIter(f.name, it)
	user, ok := f.cfg.Pool.Take()
	if !ok {
		return &StepError{Flow: f.name, Step: StepSignInInitiate, Err: ErrPoolEmpty}
	}
	keep := true
	defer func() {
		if keep {
			f.cfg.Pool.Put(user)
		} else {
			f.cfg.Pool.Drop()
		}
	}()
	p, err := challengedSignIn(ctx, r, w, user, nativeauth.ChallengeTypePassword)
	if err != nil {
		return err
	}
	want := nativeauth.SuberrorMFARequired
	if f.register {
		want = nativeauth.SuberrorRegistrationRequired
	}
	err = r.do(ctx, StepTokenPassword, func(ctx context.Context) (outcome, error) {
		_, err := w.Token(ctx, p, SignInTokenRequest(p, "", f.cfg.Scopes))
		return secondFactorTurn(p, err, want)
	})
	if err != nil {
		return err
	}
	var tok *nativeauth.TokenResult
	if f.register {
		// The user has a method from here on, whatever happens next.
		keep = false
		tok, err = registerEmail(ctx, r, w, p)
	} else {
		tok, err = f.mfa(ctx, r, w, p)
	}
	if err != nil {
		return err
	}
	return refresh(ctx, r, w, p, tok)
}

// mfa runs introspect, the challenge of the email method and mfa_oob.
func (f *signInSecondFactor) mfa(ctx context.Context, r *iter, w *Walker, p *Progress) (*nativeauth.TokenResult, error) {
	var method string
	err := r.do(ctx, StepSignInIntrospect, func(ctx context.Context) (outcome, error) {
		res, err := w.SignInIntrospect(ctx, p)
		if err == nil {
			if method = emailMethod(res.Methods); method == "" {
				err = unexpected("introspect lists no email method (the flow reads codes from the account's mailbox)")
			}
		}
		return p.outcome(err)
	})
	if err != nil {
		return nil, err
	}
	err = r.do(ctx, StepSignInChallengeMFA, func(ctx context.Context) (outcome, error) {
		res, err := w.ChallengeMFA(ctx, p, method)
		if err == nil && res.ChallengeType != nativeauth.ChallengeTypeOOB {
			err = unexpected("challenge_type %q, want oob", res.ChallengeType)
		}
		return p.outcome(err)
	})
	if err != nil {
		return nil, err
	}
	code, err := r.waitOTP(ctx, w, p)
	if err != nil {
		return nil, err
	}
	var tok *nativeauth.TokenResult
	err = r.do(ctx, StepTokenMFAOOB, func(ctx context.Context) (outcome, error) {
		var err error
		tok, err = w.Token(ctx, p, MFAOOBRequest(p, code, f.cfg.Scopes))
		return p.outcome(err)
	})
	return tok, err
}

func emailMethod(ms []nativeauth.StrongMethod) string {
	for _, m := range ms {
		if m.ChallengeChannel == nativeauth.ChallengeChannelEmail {
			return m.ID
		}
	}
	return ""
}

// registerEmail registers the account's email as a strong method from a
// registration_required continuation token in p, then takes the tokens.
// After sign-up the email is preverified (no code); after a password
// sign-in a code goes to it.
func registerEmail(ctx context.Context, r *iter, w *Walker, p *Progress) (*nativeauth.TokenResult, error) {
	err := r.do(ctx, StepRegisterIntrospect, func(ctx context.Context) (outcome, error) {
		res, err := w.RegisterIntrospect(ctx, p)
		if err == nil && emailMethod(res.Methods) == "" {
			err = unexpected("register introspect offers no email method")
		}
		return p.outcome(err)
	})
	if err != nil {
		return nil, err
	}
	var preverified bool
	err = r.do(ctx, StepRegisterChallenge, func(ctx context.Context) (outcome, error) {
		res, err := w.RegisterChallenge(ctx, p, nativeauth.ChallengeChannelEmail, p.Username)
		if err == nil {
			switch res.ChallengeType {
			case nativeauth.ChallengeTypePreverified:
				preverified = true
			case nativeauth.ChallengeTypeOOB:
			default:
				err = unexpected("challenge_type %q, want oob or preverified", res.ChallengeType)
			}
		}
		return p.outcome(err)
	})
	if err != nil {
		return nil, err
	}
	var code nativeauth.Secret
	if !preverified {
		if code, err = r.waitOTP(ctx, w, p); err != nil {
			return nil, err
		}
	}
	err = r.do(ctx, StepRegisterContinue, func(ctx context.Context) (outcome, error) {
		return p.outcome(w.RegisterContinue(ctx, p, code))
	})
	if err != nil {
		return nil, err
	}
	var tok *nativeauth.TokenResult
	err = r.do(ctx, StepTokenContinuation, func(ctx context.Context) (outcome, error) {
		var err error
		tok, err = w.Token(ctx, p, TokenAfterRegistration(p, w.Scopes))
		return p.outcome(err)
	})
	return tok, err
}

// secondFactorTurn is the outcome of a token call that must answer the
// suberror want (mfa_required or registration_required) with a
// continuation token (the walk moved p on to it): that answer is the flow's
// documented turn, and anything else, tokens included, a failure.
func secondFactorTurn(p *Progress, err error, want nativeauth.Suberror) (outcome, error) {
	out := outcome{resp: p.Last}
	if err == nil {
		return out, unexpected("tokens where the tenant should answer %s (is MFA on for this user?)", want)
	}
	ae, ok := asAPIError(err)
	if !ok || ae.code != nativeauth.ErrInvalidGrant || ae.sub != want {
		return out, err
	}
	if ae.continuationToken == "" {
		return out, unexpected("%s without a continuation_token", want)
	}
	out.expectedSuberrors = []nativeauth.Suberror{want}
	return out, err
}

// defaultCapabilities makes an MFA flow advertise DefaultCapabilities
// unless its config says otherwise (an empty list: none).
func (c *Config) defaultCapabilities() {
	if c.Capabilities == nil {
		c.Capabilities = DefaultCapabilities
	}
}

// registration is what a sign-up does when its token call answers
// registration_required.
type registration uint8

const (
	registrationFails   registration = iota // a failure (the existing sign-up flows)
	stopAtRegistration                      // the account exists: done, without a method
	registerAfterSignUp                     // register the (preverified) email, then the tokens
)
