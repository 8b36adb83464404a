package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

// Credentials and attributes: codes, passwords and user attributes, and
// the sign-up turns that ask for them.

func wrongOOB(_ context.Context, _ Env, r *scenarios.Reached) *nativeauth.Response {
	right := r.Call.Get(nativeauth.ParamOOB)
	wrong := strings.Repeat("0", max(len(right), 8))
	if wrong == right {
		wrong = strings.Repeat("1", len(right))
	}
	r.Call.Set(nativeauth.ParamOOB, wrong)
	return nil
}

// expiredOOB moves the clock past the code's lifetime.
func expiredOOB(ctx context.Context, e Env, _ *scenarios.Reached) *nativeauth.Response {
	return advanceClock(ctx, e, otpLifetime+time.Second, "the target has no clock backdoor to let the code expire")
}

// challengeOf is the challenge endpoint of the flow a code-taking endpoint
// belongs to.
func challengeOf(ep nativeauth.Endpoint) nativeauth.Endpoint {
	switch ep {
	case nativeauth.EndpointSignUpContinue:
		return nativeauth.EndpointSignUpChallenge
	case nativeauth.EndpointResetContinue:
		return nativeauth.EndpointResetChallenge
	}
	return nativeauth.EndpointSignInChallenge
}

// supersededOOB challenges again, then submits the first code with the new
// token.
func supersededOOB(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	first := r.Call.Get(nativeauth.ParamOOB)
	if first == "" {
		Skip("the target's sign-in uses a password: no code to supersede")
	}
	w := e.Walker()
	// The second code must be observably later than the first, for the
	// emulator's clock and a real mailbox alike.
	since := w.Now()
	p := r.Progress
	got(w.Challenge(ctx, &p, challengeOf(r.Call.Endpoint)))
	second := got(w.Code(ctx, r.Username, since))
	if second.Reveal() == first {
		Skip("the target sent the same code twice; a superseded code cannot be told apart")
	}
	r.Call.Set(nativeauth.ParamContinuationToken, p.ContinuationToken.Reveal())
	return nil
}

func tooLong(e Env) string {
	return "Aa1!" + strings.Repeat("x", max(e.Expect().PasswordPolicy.MaxLength, 256)+1)
}

func tooWeak(e Env) string {
	return strings.Repeat("a", max(e.Expect().PasswordPolicy.MinLength, 8)+4)
}

// password puts a password into the parameter the endpoint takes it in.
func password(pw func(Env) string) Driver {
	return func(_ context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
		switch r.Call.Endpoint {
		case nativeauth.EndpointResetSubmit:
			r.Call.Set(nativeauth.ParamNewPassword, pw(e))
			return nil
		case nativeauth.EndpointSignUpStart, nativeauth.EndpointSignUpContinue:
			if e.Expect().SignUpMethod == nativeauth.SignUpMethodOTP {
				Skip("the tenant signs up with email OTP: no password to judge")
			}
			if r.Call.Endpoint == nativeauth.EndpointSignUpStart {
				r.Call.Set(nativeauth.ParamPassword, pw(e))
				return nil
			}
			r.Call.Request = nativeauth.SignUpContinueRequest{ContinuationToken: r.ContinuationToken,
				GrantType: nativeauth.GrantTypePassword, Password: nativeauth.Secret(pw(e))}
			return nil
		}
		ok(fmt.Errorf("password trigger on %s: no password parameter", r.Call.Endpoint))
		return nil
	}
}

func bannedPassword(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	banned := e.Expect().PasswordPolicy.Banned
	if len(banned) == 0 {
		Skip("the target profile names no banned password word")
	}
	return password(func(Env) string { return "Xy1!" + banned[0] + "Qz9" })(ctx, e, r)
}

func recentlyUsedPassword(_ context.Context, _ Env, r *scenarios.Reached) *nativeauth.Response {
	switch {
	case r.Call.Endpoint == nativeauth.EndpointSignUpStart || r.Call.Endpoint == nativeauth.EndpointSignUpContinue:
		Skip("a user who is signing up has no previous password, so no request can provoke password_recently_used at sign-up (the pages list it there anyway)")
	case r.Call.Endpoint != nativeauth.EndpointResetSubmit:
		ok(errors.New("password_recently_used needs a reset submit for a user with a known password"))
	case r.Password == "":
		Skip("the user signed up with email one-time passcode and has no password to reuse")
	}
	r.Call.Set(nativeauth.ParamNewPassword, r.Password.Reveal())
	return nil
}

func startWithPasswordAndAttributes(_ context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	onlyAt(r, catalog.TriggerStartWithPasswordAttr, nativeauth.EndpointSignUpStart)
	req, _ := r.Call.Request.(nativeauth.SignUpStartRequest)
	pw := got(e.Walker().NewPassword())
	req.Password, req.Attributes = pw, e.Expect().RequiredAttributes()
	r.Call.Request = req
	return nil
}

// untilCode replaces the reached call with the continue that submits the
// code of a fresh sign-up started with or without a password and with
// attrs.
func untilCode(ctx context.Context, e Env, r *scenarios.Reached, tag string, password bool, attrs nativeauth.Attributes) *nativeauth.Response {
	GinkgoHelper()
	*r = *got(e.Walker().SignUpUntilCode(ctx, tag, password, attrs))
	return nil
}

// credentialNotSubmitted starts without a password, then submits the code.
func credentialNotSubmitted(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	return untilCode(ctx, e, r, "nocred", false, e.Expect().RequiredAttributes())
}

// untilAnswer walks a sign-up to the error answer want after the code, and
// leaves r at the token it carries.
func untilAnswer(ctx context.Context, e Env, r *scenarios.Reached, tag string, password bool, attrs nativeauth.Attributes, want nativeauth.ErrorCode) {
	GinkgoHelper()
	untilCode(ctx, e, r, tag, password, attrs)
	p := r.Progress
	err := e.Walker().ContinueSignUp(ctx, &p, r.Call.Request.(nativeauth.SignUpContinueRequest))
	if !nativeauth.IsError(err, want) || p.ContinuationToken == r.ContinuationToken {
		ok(fmt.Errorf("the continue after the code answered %v, want %s with a continuation_token", err, want))
	}
	r.Progress = p
}

// toCredentialRequired walks a password-at-continue sign-up up to the
// credential_required answer.
func toCredentialRequired(ctx context.Context, e Env, r *scenarios.Reached) {
	GinkgoHelper()
	untilAnswer(ctx, e, r, "cred", false, e.Expect().RequiredAttributes(), nativeauth.ErrCredentialRequired)
}

func challengeAfterCredentialRequired(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	toCredentialRequired(ctx, e, r)
	r.Call = e.Walker().Client.Call(nativeauth.EndpointSignUpChallenge,
		nativeauth.ChallengeRequest{ContinuationToken: r.ContinuationToken, ChallengeTypes: scenarios.PasswordTypes})
	return nil
}

func submitPassword(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	if r.Call.Endpoint != nativeauth.EndpointSignUpContinue {
		// Token (password grant) and reset submit: the reached request
		// already submits the password.
		return nil
	}
	if !passwordTenant(e.Expect()) {
		Skip(needPassword)
	}
	toCredentialRequired(ctx, e, r)
	w := e.Walker()
	p := r.Progress
	got(w.Challenge(ctx, &p, nativeauth.EndpointSignUpChallenge, scenarios.PasswordTypes...))
	pw := got(w.NewPassword())
	// Attributes went at start, so the password is the last step.
	return reached(r, &p, w.Client.Call(nativeauth.EndpointSignUpContinue,
		nativeauth.SignUpContinueRequest{ContinuationToken: p.ContinuationToken, GrantType: nativeauth.GrantTypePassword, Password: pw}))
}

// toAttributesRequired walks a sign-up without attributes to the
// attributes_required answer.
func toAttributesRequired(ctx context.Context, e Env, r *scenarios.Reached) {
	GinkgoHelper()
	untilAnswer(ctx, e, r, "attrs", e.Expect().SignUpMethod != nativeauth.SignUpMethodOTP, nil, nativeauth.ErrAttributesRequired)
}

// attributesCall is the continue that submits attrs with r's token.
func attributesCall(e Env, r *scenarios.Reached, attrs nativeauth.Attributes) nativeauth.Call {
	return e.Walker().Client.Call(nativeauth.EndpointSignUpContinue,
		nativeauth.SignUpContinueRequest{ContinuationToken: r.ContinuationToken, GrantType: nativeauth.GrantTypeAttributes, Attributes: attrs})
}

func submitAttributes(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	toAttributesRequired(ctx, e, r)
	r.Call = attributesCall(e, r, e.Expect().RequiredAttributes())
	return nil
}

// attributesMissing is the request whose answer is attributes_required.
func attributesMissing(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	return untilCode(ctx, e, r, "attrs", e.Expect().SignUpMethod != nativeauth.SignUpMethodOTP, nil)
}

// setAttributes replaces the attributes of the reached sign-up request.
func setAttributes(r *scenarios.Reached, attrs nativeauth.Attributes) *nativeauth.Response {
	GinkgoHelper()
	switch req := r.Call.Request.(type) {
	case nativeauth.SignUpStartRequest:
		req.Attributes = attrs
		r.Call.Request = req
	case nativeauth.SignUpContinueRequest:
		req.Attributes = attrs
		r.Call.Request = req
	default:
		ok(fmt.Errorf("%s takes no attributes", r.Call.Endpoint))
	}
	return nil
}

func unknownAttribute(_ context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	attrs := e.Expect().RequiredAttributes()
	attrs["extension_00000000000000000000000000000000_ciamcheckUnknown"] = "x"
	return setAttributes(r, attrs)
}

// invalidAttribute sends a value its regex refuses, at start or on
// continue with grant_type=attributes.
func invalidAttribute(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	i := slices.IndexFunc(e.Expect().Attributes, func(a profile.AttributeSpec) bool { return a.Regex != "" })
	if i < 0 {
		Skip("the tenant is expected to have no attribute with a validation regex")
	}
	bad := e.Expect().Attributes[i]
	if r.Call.Endpoint != nativeauth.EndpointSignUpStart && !bad.Required {
		// Through the backdoor the attribute becomes required for this
		// spec, so continue asks for it and validates it.
		changed(requireAttribute(ctx, e, bad.Name), "the attribute with a validation regex ("+bad.Name+") is optional, and the pages' table does not take optional attributes on continue after verification")
	}
	attrs := e.Expect().RequiredAttributes()
	attrs[bad.Name] = invalidFor(bad.Regex)
	if r.Call.Endpoint == nativeauth.EndpointSignUpStart {
		return setAttributes(r, attrs)
	}
	toAttributesRequired(ctx, e, r)
	r.Call = attributesCall(e, r, attrs)
	return nil
}

// requireAttribute makes the named attribute required for the rest of the
// spec.
func requireAttribute(ctx context.Context, e Env, name string) error {
	return e.ChangeTenant(ctx, func(cfg *backdoor.Config) {
		for i := range cfg.Attributes {
			if cfg.Attributes[i].Name == name {
				cfg.Attributes[i].Required = true
			}
		}
	})
}

// invalidFor returns a value the regex rejects.
func invalidFor(regex string) string {
	re, err := regexp.Compile(regex)
	if err != nil {
		return "!not valid!"
	}
	for _, v := range []string{"!not valid!", "", "0", "a", "@@"} {
		if !re.MatchString(v) {
			return v
		}
	}
	return "!not valid!"
}

// verificationSkipped sends the password (or attributes) to continue
// before the code is verified.
func verificationSkipped(_ context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	req := nativeauth.SignUpContinueRequest{ContinuationToken: r.ContinuationToken}
	if e.Expect().SignUpMethod == nativeauth.SignUpMethodOTP {
		req.GrantType, req.Attributes = nativeauth.GrantTypeAttributes, e.Expect().RequiredAttributes()
	} else {
		pw := got(e.Walker().NewPassword())
		req.GrantType, req.Password = nativeauth.GrantTypePassword, pw
	}
	r.Call.Request = req
	return nil
}

// oobAttemptsExceeded spends the target's limit of wrong passcodes on the
// reached continuation token, then leaves the reached call, with the right
// code, to be judged. The pages give no limit; the emulator's backdoor
// tells its own.
func oobAttemptsExceeded(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	stats, err := e.Stats(ctx)
	changed(err, "the pages give no limit on passcode attempts; the case reads the emulator's (otp.max_attempts) through its backdoor")
	limit := stats.OTPMaxAttempts
	if limit <= 0 {
		ok(fmt.Errorf("the backdoor reports a passcode attempt limit of %d", limit))
	}
	for i := range limit {
		guess := *r
		wrongOOB(ctx, e, &guess)
		resp := got(e.Walker().Client.Send(ctx, guess.Call))
		if resp.HTTPStatus == http.StatusOK {
			ok(fmt.Errorf("wrong passcode %d of %d was accepted (status 200)", i+1, limit))
		}
	}
	return nil
}

// attributesBeforeVerification sends every required attribute to /continue
// before the passcode, then leaves the passcode submission to be judged,
// with the token the attributes answer carried if it carried one.
func attributesBeforeVerification(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
	attrs := e.Expect().RequiredAttributes()
	untilCode(ctx, e, r, "attrsfirst", e.Expect().SignUpMethod != nativeauth.SignUpMethodOTP, nil)
	code, isCode := r.Call.Request.(nativeauth.SignUpContinueRequest)
	if !isCode {
		ok(fmt.Errorf("the reached sign-up continue is a %T", r.Call.Request))
	}
	p := r.Progress
	// The pages do not say what this call answers: an error answer is not
	// a setup failure, a transport failure is.
	err := e.Walker().ContinueSignUp(ctx, &p, nativeauth.SignUpContinueRequest{ContinuationToken: r.ContinuationToken,
		GrantType: nativeauth.GrantTypeAttributes, Attributes: attrs})
	var apiErr *nativeauth.Error
	if err != nil && !errors.As(err, &apiErr) {
		ok(err)
	}
	if p.ContinuationToken != "" {
		code.ContinuationToken = p.ContinuationToken
	}
	r.Progress, r.Call.Request = p, code
	return nil
}
