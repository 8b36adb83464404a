package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// A RawTrigger makes the request itself, for cases a form cannot express
// (another HTTP method, an Origin header).
type RawTrigger func(ctx context.Context, e *Env, r *Reached) (resp *nativeauth.Response, skip string, err error)

// rawTriggers are looked up before triggers.
var rawTriggers = map[string]RawTrigger{
	"cors_origin":    corsRequest(http.MethodPost),
	"cors_preflight": corsRequest(http.MethodOptions),
}

func init() {
	for name, t := range map[string]Trigger{
		"start_with_password_and_attributes":  startWithPasswordAndAttributes,
		"submit_oob":                          valid,
		"submit_password":                     submitPassword,
		"submit_attributes":                   submitAttributes,
		"challenge_after_credential_required": challengeAfterCredentialRequired,
		"token_after_signup":                  tokenAfterSignUp,
		"token_after_sspr":                    tokenAfterSSPR,
		"refresh_token_grant":                 refreshTokenGrant,
		"poll_after_submit":                   valid,
		"scope_without_openid":                scopeWithout(nativeauth.ScopeOpenID),
		"scope_without_offline_access":        scopeWithout(nativeauth.ScopeOfflineAccess),
		"attribute_unknown":                   attributeUnknown,
		"attribute_invalid":                   attributeInvalid,
		"attributes_missing":                  attributesMissing,
		"credential_not_submitted":            credentialNotSubmitted,
		"verification_skipped":                verificationSkipped,
		"username_registered_meanwhile":       registeredMeanwhile,
		"continuation_token_other_step":       otherStep,
		"oob_superseded":                      oobSuperseded,
		"oob_expired":                         oobExpired,
		"any_request":                         valid,
		"any_error":                           mutate("client_id", ""),
		"signup_complete":                     tokenAfterSignUp,
	} {
		triggers[name] = t
	}
}

func valid(_ context.Context, _ *Env, r *Reached) (url.Values, string, error) {
	return r.Form, "", nil
}

func needPassword(e *Env) string {
	if e.Tenant.SignUpMethod != "password" {
		return "the tenant is expected to sign up with email one-time passcode; this case needs a password tenant"
	}
	return ""
}

// signUpToOOB runs start (with the given password and attributes) and
// challenge for a fresh user and returns the oob form for continue.
func (e *Env) signUpToOOB(ctx context.Context, tag string, withPassword bool, attrs nativeauth.Attributes) (*SignUp, url.Values, error) {
	su, err := e.SignUpStart(ctx, tag, withPassword, attrs)
	if err != nil {
		return nil, nil, err
	}
	if _, err := e.SignUpChallenge(ctx, su); err != nil {
		return nil, nil, err
	}
	code, err := e.Code(ctx, su.Username, su.Since)
	if err != nil {
		return nil, nil, err
	}
	return su, e.Form("continuation_token", su.CT, "grant_type", "oob", "oob", code), nil
}

func startWithPasswordAndAttributes(_ context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if skip := needPassword(e); skip != "" {
		return nil, skip, nil
	}
	if r.Endpoint != nativeauth.EndpointSignUpStart {
		return nil, "", fmt.Errorf("start_with_password_and_attributes on %s", r.Endpoint)
	}
	return set(r.Form, "password", e.NewPassword(), "attributes", attributesJSON(e.Tenant.RequiredAttributes())), "", nil
}

// credentialNotSubmitted: start without a password, then submit the code.
func credentialNotSubmitted(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if skip := needPassword(e); skip != "" {
		return nil, skip, nil
	}
	su, form, err := e.signUpToOOB(ctx, "nocred", false, e.Tenant.RequiredAttributes())
	if err != nil {
		return nil, "", err
	}
	r.Username = su.Username
	return form, "", nil
}

// toCredentialRequired walks a password-at-continue sign-up up to the
// credential_required answer and returns its continuation token.
func (e *Env) toCredentialRequired(ctx context.Context, r *Reached) (*SignUp, error) {
	su, form, err := e.signUpToOOB(ctx, "cred", false, e.Tenant.RequiredAttributes())
	if err != nil {
		return nil, err
	}
	r.Username = su.Username
	s, err := e.call(ctx, nativeauth.EndpointSignUpContinue, form)
	if err != nil {
		return nil, err
	}
	if s.Error() != string(nativeauth.ErrCredentialRequired) || s.CT() == "" {
		return nil, fmt.Errorf("setup: continue without a password answered %d %q, want credential_required with a continuation_token", s.Resp.HTTPStatus, s.Error())
	}
	su.CT = s.CT()
	return su, nil
}

func challengeAfterCredentialRequired(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if skip := needPassword(e); skip != "" {
		return nil, skip, nil
	}
	su, err := e.toCredentialRequired(ctx, r)
	if err != nil {
		return nil, "", err
	}
	return e.Form("continuation_token", su.CT, "challenge_type", "password redirect"), "", nil
}

func submitPassword(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if r.Endpoint != nativeauth.EndpointSignUpContinue {
		// Token (password grant) and reset submit: the reached request
		// already submits the password.
		return r.Form, "", nil
	}
	if skip := needPassword(e); skip != "" {
		return nil, skip, nil
	}
	su, err := e.toCredentialRequired(ctx, r)
	if err != nil {
		return nil, "", err
	}
	s, err := e.expectOK(ctx, "sign-up password challenge", nativeauth.EndpointSignUpChallenge, e.Form("continuation_token", su.CT, "challenge_type", "password redirect"))
	if err != nil {
		return nil, "", err
	}
	// Attributes go at start so that the password is the last step.
	return e.Form("continuation_token", s.CT(), "grant_type", "password", "password", e.NewPassword()), "", nil
}

// toAttributesRequired walks a sign-up without attributes to the
// attributes_required answer.
func (e *Env) toAttributesRequired(ctx context.Context, r *Reached) (Step, error) {
	if len(e.Tenant.RequiredAttributes()) == 0 {
		return Step{}, errNoRequiredAttributes
	}
	su, form, err := e.signUpToOOB(ctx, "attrs", e.Tenant.SignUpMethod == "password", nil)
	if err != nil {
		return Step{}, err
	}
	r.Username = su.Username
	r.Previous = su.CT
	return e.call(ctx, nativeauth.EndpointSignUpContinue, form)
}

var errNoRequiredAttributes = fmt.Errorf("the tenant is expected to have no required attribute")

func submitAttributes(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	s, err := e.toAttributesRequired(ctx, r)
	if err == errNoRequiredAttributes {
		return nil, err.Error(), nil
	}
	if err != nil {
		return nil, "", err
	}
	if s.Error() != string(nativeauth.ErrAttributesRequired) || s.CT() == "" {
		return nil, "", fmt.Errorf("setup: continue without attributes answered %d %q, want attributes_required", s.Resp.HTTPStatus, s.Error())
	}
	return e.Form("continuation_token", s.CT(), "grant_type", "attributes", "attributes", attributesJSON(e.Tenant.RequiredAttributes())), "", nil
}

// attributesMissing: the request whose answer is attributes_required.
func attributesMissing(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if len(e.Tenant.RequiredAttributes()) == 0 {
		return nil, errNoRequiredAttributes.Error(), nil
	}
	su, form, err := e.signUpToOOB(ctx, "attrs", e.Tenant.SignUpMethod == "password", nil)
	if err != nil {
		return nil, "", err
	}
	r.Username = su.Username
	return form, "", nil
}

func attributeUnknown(_ context.Context, e *Env, r *Reached) (url.Values, string, error) {
	attrs := e.Tenant.RequiredAttributes()
	attrs["extension_00000000000000000000000000000000_ciamcheckUnknown"] = "x"
	return set(r.Form, "attributes", attributesJSON(attrs)), "", nil
}

// attributeInvalid sends a value its regex refuses, at start or on
// continue with grant_type=attributes.
func attributeInvalid(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	var bad *Attribute
	for i, a := range e.Tenant.Attributes {
		if a.Regex != "" {
			bad = &e.Tenant.Attributes[i]
			break
		}
	}
	if bad == nil {
		return nil, "the tenant is expected to have no attribute with a validation regex", nil
	}
	if r.Endpoint != nativeauth.EndpointSignUpStart && !bad.Required {
		if e.SetTenantConfig == nil {
			return nil, "the attribute with a validation regex (" + bad.Name + ") is optional, and the pages' table does not take optional attributes on continue after verification", nil
		}
		// Through the backdoor the attribute becomes required for this
		// spec, so continue asks for it and validates it.
		name := bad.Name
		err := withTenant(ctx, e, func(cfg *backdoor.Config) {
			for i := range cfg.Attributes {
				if cfg.Attributes[i].Name == name {
					cfg.Attributes[i].Required = true
				}
			}
		}, func(t *Tenant) {
			for i := range t.Attributes {
				if t.Attributes[i].Name == name {
					t.Attributes[i].Required = true
				}
			}
		})
		if err != nil {
			return nil, "", err
		}
		bad = &Attribute{Name: name, Required: true, Regex: bad.Regex}
	}
	attrs := e.Tenant.RequiredAttributes()
	attrs[bad.Name] = invalidFor(bad.Regex)
	if r.Endpoint == nativeauth.EndpointSignUpStart {
		return set(r.Form, "attributes", attributesJSON(attrs)), "", nil
	}
	s, err := e.toAttributesRequired(ctx, r)
	if err == errNoRequiredAttributes {
		return nil, err.Error(), nil
	}
	if err != nil {
		return nil, "", err
	}
	return e.Form("continuation_token", s.CT(), "grant_type", "attributes", "attributes", attributesJSON(attrs)), "", nil
}

// invalidFor returns a value the regex rejects.
func invalidFor(regex string) string {
	for _, v := range []string{"!not valid!", "", "0", "a", "@@"} {
		if re, err := compileRegex(regex); err == nil && !re.MatchString(v) {
			return v
		}
	}
	return "!not valid!"
}

// verificationSkipped sends the password (or attributes) to continue
// before the code is verified.
func verificationSkipped(_ context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if e.Tenant.SignUpMethod == "password" {
		return set(r.Form, "grant_type", "password", "oob", "", "password", e.NewPassword()), "", nil
	}
	return set(r.Form, "grant_type", "attributes", "oob", "", "attributes", attributesJSON(e.Tenant.RequiredAttributes())), "", nil
}

// registeredMeanwhile completes another sign-up of the same email before
// this flow's request.
func registeredMeanwhile(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if r.Username == "" {
		return nil, "", fmt.Errorf("username_registered_meanwhile on %s: no username", r.Endpoint)
	}
	other := *e
	other.NewUsername = func(string) string { return r.Username }
	if _, err := other.CompleteSignUp(ctx, "meanwhile"); err != nil {
		return nil, "", fmt.Errorf("setup: the concurrent sign-up: %w", err)
	}
	return r.Form, "", nil
}

// otherStep sends this flow's token of the step before.
func otherStep(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if r.Previous == "" {
		// The flow's first token: start a flow of the same kind and send
		// its start token to a later step it was not issued for.
		return nil, "", fmt.Errorf("continuation_token_other_step on %s: no earlier token", r.Endpoint)
	}
	return set(r.Form, "continuation_token", r.Previous), "", nil
}

// challengeOf is the challenge endpoint of the flow an oob-taking endpoint
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

// oobSuperseded challenges again, then submits the first code with the new
// token.
func oobSuperseded(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	first := r.Form.Get("oob")
	if first == "" {
		return nil, "the target's sign-in uses a password: no code to supersede", nil
	}
	types := resetChallengeTypes
	if r.Endpoint != nativeauth.EndpointResetContinue {
		types = "oob redirect"
		if r.Endpoint == nativeauth.EndpointSignUpContinue {
			types = signUpChallengeTypes
		}
	}
	since := e.Now()
	s, err := e.expectOK(ctx, "second challenge", challengeOf(r.Endpoint), e.Form("continuation_token", r.Form.Get("continuation_token"), "challenge_type", types))
	if err != nil {
		return nil, "", err
	}
	second, err := e.Code(ctx, r.Username, since)
	if err != nil {
		return nil, "", err
	}
	if second == first {
		return nil, "the target sent the same code twice; a superseded code cannot be told apart", nil
	}
	return set(r.Form, "continuation_token", s.CT()), "", nil
}

// oobExpired moves the clock past the code's lifetime.
func oobExpired(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if e.AdvanceClock == nil {
		return nil, "the target has no clock backdoor to let the code expire", nil
	}
	if err := e.AdvanceClock(ctx, e.OTPLifetime+time.Second); err != nil {
		return nil, "", fmt.Errorf("advance clock: %w", err)
	}
	return r.Form, "", nil
}

func tokenAfterSignUp(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	su, err := e.CompleteSignUp(ctx, "tok")
	if err != nil {
		return nil, "", err
	}
	r.Username = su.Username
	return e.Form("continuation_token", su.CT, "grant_type", "continuation_token", "username", su.Username,
		"scope", e.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)), "", nil
}

func tokenAfterSSPR(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if !e.Tenant.SSPR {
		return nil, "the tenant is expected to have self-service password reset disabled", nil
	}
	ct, user, err := e.resetToSucceeded(ctx)
	if err != nil {
		return nil, "", err
	}
	r.Username = user
	return e.Form("continuation_token", ct, "grant_type", "continuation_token", "username", user,
		"scope", e.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)), "", nil
}

// resetToSucceeded runs a whole reset for a fresh user and returns the
// continuation token of the succeeded poll.
func (e *Env) resetToSucceeded(ctx context.Context) (string, string, error) {
	su, err := e.CompleteSignUp(ctx, "reset")
	if err != nil {
		return "", "", err
	}
	rs, err := e.ResetTo(ctx, su.Username, "continue")
	if err != nil {
		return "", "", err
	}
	s, err := e.expectOK(ctx, "reset submit", nativeauth.EndpointResetSubmit, e.Form("continuation_token", rs.CT, "new_password", e.NewPassword()))
	if err != nil {
		return "", "", err
	}
	interval, _ := s.Body.Int("poll_interval")
	ct := s.CT()
	for range 30 {
		p, err := e.call(ctx, nativeauth.EndpointResetPollCompletion, e.Form("continuation_token", ct))
		if err != nil {
			return "", "", err
		}
		if p.CT() != "" {
			ct = p.CT()
		}
		switch nativeauth.PollStatus(p.Body.String("status")) {
		case nativeauth.PollStatusSucceeded:
			return ct, su.Username, nil
		case nativeauth.PollStatusFailed:
			return "", "", fmt.Errorf("setup: the reset failed")
		}
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(time.Duration(max(interval, 0)) * time.Second):
		}
	}
	return "", "", fmt.Errorf("setup: the reset did not complete in 30 polls")
}

func refreshTokenGrant(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if r.Endpoint != nativeauth.EndpointToken {
		return nil, "", fmt.Errorf("refresh_token_grant on %s", r.Endpoint)
	}
	first := set(r.Form, "scope", e.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess))
	s, err := e.call(ctx, nativeauth.EndpointToken, first)
	if err != nil {
		return nil, "", err
	}
	rt := s.Body.String("refresh_token")
	if rt == "" {
		return nil, "", fmt.Errorf("setup: token with offline_access answered %d without a refresh_token", s.Resp.HTTPStatus)
	}
	return e.Form("grant_type", "refresh_token", "refresh_token", rt, "scope", e.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)), "", nil
}

func scopeWithout(scope string) Trigger {
	return func(_ context.Context, e *Env, r *Reached) (url.Values, string, error) {
		var keep []string
		for _, s := range strings.Fields(e.Scope(nativeauth.ScopeOpenID, nativeauth.ScopeOfflineAccess)) {
			if s != scope {
				keep = append(keep, s)
			}
		}
		return set(r.Form, "scope", strings.Join(keep, " ")), "", nil
	}
}

// corsRequest sends the valid request (or its preflight) with an Origin of
// another site, as a browser would.
func corsRequest(method string) RawTrigger {
	return func(ctx context.Context, e *Env, r *Reached) (*nativeauth.Response, string, error) {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(r.Form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(e.BaseURL, "/")+string(r.Endpoint), body)
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("Origin", "https://app.ciamcheck.example")
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req.Header.Set("Access-Control-Request-Method", http.MethodPost)
			req.Header.Set("Access-Control-Request-Headers", "content-type")
		}
		start := time.Now()
		resp, err := e.HTTP.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, "", err
		}
		return &nativeauth.Response{Endpoint: r.Endpoint, HTTPStatus: resp.StatusCode, Header: resp.Header, Body: b,
			Timing: nativeauth.Timing{Start: start, Done: time.Now()}}, "", nil
	}
}

// compileRegex compiles a tenant's attribute regex.
func compileRegex(s string) (*regexp.Regexp, error) { return regexp.Compile(s) }

func init() {
	triggers["poll_failed"] = pollWith(nativeauth.PollStatusFailed)
	triggers["poll_not_started"] = pollWith(nativeauth.PollStatusNotStarted, nativeauth.PollStatusSucceeded)
	triggers["poll_in_progress"] = pollWith(nativeauth.PollStatusInProgress, nativeauth.PollStatusSucceeded)
	triggers["sspr_disabled"] = ssprDisabled
	rawTriggers["signup_complete"] = signUpComplete
}

// withConfig edits the tenant configuration for the rest of the spec.
// withTenant is withConfig that also changes what the suite expects of the
// tenant (e.Tenant) for the rest of the spec, so the flows reach the
// endpoint the way the edited tenant wants. Specs in one process run one
// at a time, and each ginkgo -p process has its own embedded emulator; a
// target shared by ginkgo -p processes is safe because only Serial specs
// may edit it (mayChangeTenant).
func withTenant(ctx context.Context, e *Env, editConfig func(*backdoor.Config), editTenant func(*Tenant)) error {
	if err := withConfig(ctx, e, editConfig); err != nil {
		return err
	}
	old := e.Tenant
	changed := old
	changed.Attributes = slices.Clone(old.Attributes)
	changed.Banned = slices.Clone(old.Banned)
	editTenant(&changed)
	e.Tenant = changed
	DeferCleanup(func() { e.Tenant = old })
	return nil
}

func withConfig(ctx context.Context, e *Env, edit func(*backdoor.Config)) error {
	if e.SetTenantConfig == nil {
		return fmt.Errorf("the target has no tenant configuration backdoor")
	}
	if err := mayChangeTenant("editing the tenant configuration"); err != nil {
		return err
	}
	restore, err := e.SetTenantConfig(ctx, edit)
	if err != nil {
		return err
	}
	DeferCleanup(func(ctx SpecContext) error { return restore(ctx) })
	return nil
}

// pollWith makes the tenant answer the given poll statuses, then polls
// once after a fresh submit.
func pollWith(seq ...nativeauth.PollStatus) Trigger {
	return func(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
		err := withConfig(ctx, e, func(cfg *backdoor.Config) { cfg.SSPR.PollSequence = seq })
		if err != nil {
			return nil, "", err
		}
		return r.Form, "", nil
	}
}

// ssprDisabled turns self-service password reset off after the flow
// reached this step (or finds it off on the tenant).
func ssprDisabled(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if e.Tenant.SSPR {
		err := withConfig(ctx, e, func(cfg *backdoor.Config) { cfg.SSPR.Enabled = false })
		if err != nil {
			return nil, "", err
		}
	}
	return r.Form, "", nil
}

// signUpComplete runs a whole sign-up, then signs the user in; every
// answer is kept as the spec's evidence (the code entries check them all).
func signUpComplete(ctx context.Context, e *Env, r *Reached) (*nativeauth.Response, string, error) {
	su, err := e.CompleteSignUp(ctx, "complete")
	if err != nil {
		return nil, "", err
	}
	r.Username = su.Username
	t, err := e.Token(ctx, "continuation_token", su.CT, "grant_type", "continuation_token", "username", su.Username, "scope", e.Scope(nativeauth.ScopeOpenID))
	if err != nil {
		return nil, "", err
	}
	if e.Tenant.SignUpMethod == "password" {
		si, err := e.SignInInitiate(ctx, su.Username, "password redirect")
		if err != nil {
			return nil, "", err
		}
		if _, err := e.SignInChallenge(ctx, si, "password redirect"); err != nil {
			return nil, "", err
		}
		if t, err = e.Token(ctx, "continuation_token", si.CT, "grant_type", "password", "password", su.Password, "scope", e.Scope(nativeauth.ScopeOpenID)); err != nil {
			return nil, "", err
		}
	}
	return t.Resp, "", nil
}

// noConfigBackdoor is the reason a case that changes the tenant mid-flow
// skips on a target without the emulator's configuration backdoor.
const noConfigBackdoor = "the case changes the tenant's configuration mid-flow, which needs the emulator's configuration backdoor"

// setMethod is an edit of the tenant to sign-up method m, config and
// expectations alike.
func setMethod(ctx context.Context, e *Env, m string) error {
	return withTenant(ctx, e, func(cfg *backdoor.Config) { cfg.SignUpMethod = m }, func(t *Tenant) { t.SignUpMethod = m })
}

// redirectForced starts a sign-up whose challenge_type list suits a
// passcode tenant ("oob redirect"), verifies the email, then switches the
// tenant to email with password: at continue the tenant needs a password
// the app never said it could give, and must fall back to the web.
func redirectForced(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if e.SetTenantConfig == nil {
		return nil, noConfigBackdoor, nil
	}
	if err := setMethod(ctx, e, "otp"); err != nil {
		return nil, "", err
	}
	r.Username = e.NewUsername("redirect")
	since := e.Now().Add(-time.Second)
	s, err := e.expectOK(ctx, "sign-up start", nativeauth.EndpointSignUpStart, e.Form(
		"username", r.Username, "challenge_type", "oob redirect", "attributes", attributesJSON(e.Tenant.RequiredAttributes())))
	if err != nil {
		return nil, "", err
	}
	if s, err = e.expectOK(ctx, "sign-up challenge", nativeauth.EndpointSignUpChallenge, e.Form(
		"continuation_token", s.CT(), "challenge_type", "oob redirect")); err != nil {
		return nil, "", err
	}
	code, err := e.Code(ctx, r.Username, since)
	if err != nil {
		return nil, "", err
	}
	if err := setMethod(ctx, e, "password"); err != nil {
		return nil, "", err
	}
	return e.Form("continuation_token", s.CT(), "grant_type", "oob", "oob", code), "", nil
}

// userCreationFails makes the tenant fail the account creation that the
// reached continue (the last step of the sign-up) would do.
func userCreationFails(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if e.SetTenantConfig == nil {
		return nil, noConfigBackdoor, nil
	}
	if err := withConfig(ctx, e, func(cfg *backdoor.Config) { cfg.FailUserCreation = true }); err != nil {
		return nil, "", err
	}
	return r.Form, "", nil
}

// emailOTPDisabled turns email one-time passcode off for the tenant's
// users before the reached continue.
func emailOTPDisabled(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if e.SetTenantConfig == nil {
		return nil, noConfigBackdoor, nil
	}
	err := withConfig(ctx, e, func(cfg *backdoor.Config) { cfg.OTP.EmailDisabled = true })
	if err != nil {
		return nil, "", err
	}
	return r.Form, "", nil
}

// scopeNotConsented completes a sign-up and asks for tokens with a scope
// the client has no consent for.
func scopeNotConsented(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if e.UnconsentedScope == "" {
		return nil, "the target profile names no API scope the client has no consent for (unconsented_scope)", nil
	}
	su, err := e.CompleteSignUp(ctx, "consent")
	if err != nil {
		return nil, "", err
	}
	r.Username = su.Username
	return e.Form("continuation_token", su.CT, "grant_type", "continuation_token", "username", su.Username,
		"scope", nativeauth.ScopeOpenID+" "+e.UnconsentedScope), "", nil
}

func init() {
	triggers["redirect_forced"] = redirectForced
	triggers["user_creation_fails"] = userCreationFails
	triggers["email_otp_disabled"] = emailOTPDisabled
	triggers["scope_not_consented"] = scopeNotConsented
}

func init() { rawTriggers["poll_after_submit"] = pollUntilFinal }

// pollUntilFinal polls after submit, waiting poll_interval between calls as
// the page asks, and returns the final answer (succeeded or failed).
func pollUntilFinal(ctx context.Context, e *Env, r *Reached) (*nativeauth.Response, string, error) {
	if r.Endpoint != nativeauth.EndpointResetPollCompletion {
		return nil, "", fmt.Errorf("poll_after_submit on %s", r.Endpoint)
	}
	ct := r.Form.Get("continuation_token")
	for range 30 {
		p, err := e.call(ctx, nativeauth.EndpointResetPollCompletion, e.Form("continuation_token", ct))
		if err != nil {
			return nil, "", err
		}
		st := nativeauth.PollStatus(p.Body.String("status"))
		if st == nativeauth.PollStatusSucceeded || st == nativeauth.PollStatusFailed || p.Resp.HTTPStatus != http.StatusOK {
			return p.Resp, "", nil
		}
		if p.CT() != "" {
			ct = p.CT()
		}
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(time.Duration(max(r.PollInterval, 0)) * time.Second):
		}
	}
	return nil, "", fmt.Errorf("setup: no final status after 30 polls")
}
