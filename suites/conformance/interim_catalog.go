package conformance

// The catalog package (suites/catalog) had not landed when these specs were
// written. Until it does, this file lists the documented behaviours the
// specs check, each taken from the reference pages in shared/spec with its
// section. When the catalog lands this file is replaced by an adapter over
// catalog.All() and catalog.Labels(); nothing else changes.

import (
	"slices"
	"strings"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/suites/check"
)

// Pages of the reference.
const (
	pagePassword = "native-auth-email-password-api"
	pageOTP      = "native-auth-email-otp-api"
)

// endpointNames are the short names used in endpoint:<name> labels.
var endpointNames = map[nativeauth.Endpoint]string{
	nativeauth.EndpointSignUpStart:         "signup-start",
	nativeauth.EndpointSignUpChallenge:     "signup-challenge",
	nativeauth.EndpointSignUpContinue:      "signup-continue",
	nativeauth.EndpointSignInInitiate:      "initiate",
	nativeauth.EndpointSignInChallenge:     "signin-challenge",
	nativeauth.EndpointToken:               "token",
	nativeauth.EndpointResetStart:          "reset-start",
	nativeauth.EndpointResetChallenge:      "reset-challenge",
	nativeauth.EndpointResetContinue:       "reset-continue",
	nativeauth.EndpointResetSubmit:         "reset-submit",
	nativeauth.EndpointResetPollCompletion: "reset-poll",
}

// flowOf is the flow an endpoint belongs to.
func flowOf(ep nativeauth.Endpoint) string {
	switch {
	case strings.HasPrefix(string(ep), "/signup/"):
		return "signup"
	case strings.HasPrefix(string(ep), "/resetpassword/"):
		return "sspr"
	}
	return "signin"
}

// sections name where each endpoint is specified on the password page.
var sections = map[nativeauth.Endpoint]string{
	nativeauth.EndpointSignUpStart:         "Sign-up API reference § Step 1: Request to start the sign-up flow",
	nativeauth.EndpointSignUpChallenge:     "Sign-up API reference § Step 2: Select an authentication method",
	nativeauth.EndpointSignUpContinue:      "Sign-up API reference § Step 3: Submit one-time passcode",
	nativeauth.EndpointSignInInitiate:      "Sign-in API reference § Step 1: Request to start the sign-in flow",
	nativeauth.EndpointSignInChallenge:     "Sign-in API reference § Step 2: Select an authentication method",
	nativeauth.EndpointToken:               "Sign-in API reference § Step 3: Request for security tokens",
	nativeauth.EndpointResetStart:          "Self-service password reset § Step 1: Request to start the self-service password reset flow",
	nativeauth.EndpointResetChallenge:      "Self-service password reset § Step 2: Select an authentication method",
	nativeauth.EndpointResetContinue:       "Self-service password reset § Step 3: Submit one-time passcode",
	nativeauth.EndpointResetSubmit:         "Self-service password reset § Step 4: Submit a new password",
	nativeauth.EndpointResetPollCompletion: "Self-service password reset § Step 5: Poll for password reset status",
}

// badContinuationError is what each endpoint documents for a continuation
// token that fails validation. The pages disagree between endpoints
// (invalid_grant on sign-up challenge, sign-in challenge and token;
// invalid_request elsewhere); each endpoint is held to its own table.
var badContinuationError = map[nativeauth.Endpoint]nativeauth.ErrorCode{
	nativeauth.EndpointSignUpChallenge:     nativeauth.ErrInvalidGrant,
	nativeauth.EndpointSignUpContinue:      nativeauth.ErrInvalidRequest,
	nativeauth.EndpointSignInChallenge:     nativeauth.ErrInvalidGrant,
	nativeauth.EndpointToken:               nativeauth.ErrInvalidGrant,
	nativeauth.EndpointResetChallenge:      nativeauth.ErrInvalidRequest,
	nativeauth.EndpointResetContinue:       nativeauth.ErrInvalidRequest,
	nativeauth.EndpointResetSubmit:         nativeauth.ErrInvalidRequest,
	nativeauth.EndpointResetPollCompletion: nativeauth.ErrInvalidRequest,
}

// Label vocabulary, frozen: a --label-filter keeps its meaning.
const (
	LabelFlowSignUp             = "flow:signup"
	LabelFlowSignIn             = "flow:signin"
	LabelFlowSSPR               = "flow:sspr"
	LabelFlowProtocol           = "flow:protocol"
	LabelMethodPassword         = "method:password"
	LabelMethodOTP              = "method:otp"
	LabelNeedsBackdoor          = "needs:backdoor"
	LabelNeedsDisabledClient    = "needs:disabled-client"
	LabelNeedsConfidentialClint = "needs:confidential-client"
)

// LabelVocabulary is every label a spec may carry, sorted.
func LabelVocabulary() []string {
	out := []string{LabelFlowSignUp, LabelFlowSignIn, LabelFlowSSPR, LabelFlowProtocol,
		LabelMethodPassword, LabelMethodOTP, LabelNeedsBackdoor, LabelNeedsDisabledClient, LabelNeedsConfidentialClint, LabelSlow}
	for _, ep := range nativeauth.Endpoints {
		out = append(out, "endpoint:"+endpointNames[ep])
	}
	slices.Sort(out)
	return out
}

// caseFor builds one entry of the interim list.
func caseFor(ep nativeauth.Endpoint, slug, title, trigger string, status int, code nativeauth.ErrorCode, sub nativeauth.Suberror, extra ...string) Case {
	c := Case{
		ID:       endpointNames[ep] + "." + slug,
		Title:    title,
		Flow:     flowOf(ep),
		Endpoint: ep,
		Trigger:  trigger,
		Want:     check.ErrorWant{HTTPStatus: status, Error: code, Suberror: sub},
		Source:   pagePassword + " § " + sections[ep],
		Labels:   []string{"flow:" + flowOf(ep), "endpoint:" + endpointNames[ep]},
	}
	c.Labels = append(c.Labels, extra...)
	return c
}

// Cases is the list of single-request behaviours, in page order.
func Cases() []Case {
	var out []Case
	add := func(c Case) { out = append(out, c) }
	for _, ep := range nativeauth.Endpoints {
		starts := ep == nativeauth.EndpointSignUpStart || ep == nativeauth.EndpointSignInInitiate || ep == nativeauth.EndpointResetStart
		chooses := starts || strings.HasSuffix(string(ep), "/challenge")
		ok := caseFor(ep, "ok", "a valid request gets the documented success", "valid", 200, "", "")
		if ep == nativeauth.EndpointSignUpStart || ep == nativeauth.EndpointSignUpContinue || ep == nativeauth.EndpointToken {
			ok.Labels = append(ok.Labels, LabelMethodPassword)
		}
		add(ok)
		add(caseFor(ep, "missing-client-id", "without client_id: invalid_request", "missing_client_id", 400, nativeauth.ErrInvalidRequest, ""))
		add(caseFor(ep, "unknown-client-id", "a well-formed client_id the tenant does not have: unauthorized_client", "unknown_client_id", 400, nativeauth.ErrUnauthorizedClient, ""))
		if starts {
			c := caseFor(ep, "disabled-client", "a client with native auth disabled: invalid_client / nativeauthapi_disabled", "disabled_client", 400, nativeauth.ErrInvalidClient, nativeauth.SuberrorNativeAuthAPIDisabled, LabelNeedsDisabledClient)
			c.Needs = []string{"disabled-client"}
			add(c)
		}
		if chooses {
			add(caseFor(ep, "no-redirect", "challenge_type without redirect: unsupported_challenge_type", "challenge_type_without_redirect", 400, nativeauth.ErrUnsupportedChallengeType, ""))
			add(caseFor(ep, "invalid-challenge-type", "an unknown challenge type: invalid_request", "challenge_type_invalid", 400, nativeauth.ErrInvalidRequest, ""))
			r := caseFor(ep, "redirect", "only redirect supported by the app: challenge_type redirect", "challenge_type_redirect_only", 200, "", "")
			r.Redirect = true
			add(r)
		}
		if bad, ok := badContinuationError[ep]; ok {
			add(caseFor(ep, "missing-continuation-token", "without continuation_token: invalid_request", "continuation_token_missing", 400, nativeauth.ErrInvalidRequest, ""))
			add(caseFor(ep, "tampered-continuation-token", "a tampered continuation token: "+string(bad), "continuation_token_tampered", 400, bad, ""))
			add(caseFor(ep, "other-flow-continuation-token", "a continuation token of another flow: "+string(bad), "continuation_token_other_flow", 400, bad, ""))
			add(caseFor(ep, "expired-continuation-token", "an expired continuation token: expired_token", "continuation_token_expired", 400, nativeauth.ErrExpiredToken, "", LabelNeedsBackdoor))
		}
	}
	su, sc, tok := nativeauth.EndpointSignUpStart, nativeauth.EndpointSignUpContinue, nativeauth.EndpointToken
	rs, rc, rsub, poll := nativeauth.EndpointResetStart, nativeauth.EndpointResetContinue, nativeauth.EndpointResetSubmit, nativeauth.EndpointResetPollCompletion
	add(caseFor(su, "user-exists", "an existing username: user_already_exists", "username_exists", 400, nativeauth.ErrUserAlreadyExists, ""))
	add(caseFor(su, "malformed-username", "a username that is not an email: invalid_request", "username_malformed", 400, nativeauth.ErrInvalidRequest, ""))
	for _, p := range []struct {
		slug, trigger string
		sub           nativeauth.Suberror
	}{
		{"password-too-short", "password_too_short", nativeauth.SuberrorPasswordTooShort},
		{"password-too-long", "password_too_long", nativeauth.SuberrorPasswordTooLong},
		{"password-too-weak", "password_too_weak", nativeauth.SuberrorPasswordTooWeak},
		{"password-banned", "password_banned", nativeauth.SuberrorPasswordBanned},
		{"password-is-invalid", "password_invalid_characters", nativeauth.SuberrorPasswordIsInvalid},
	} {
		add(caseFor(su, p.slug, "a password the policy refuses: invalid_grant / "+string(p.sub), p.trigger, 400, nativeauth.ErrInvalidGrant, p.sub, LabelMethodPassword))
		add(caseFor(rsub, p.slug, "a new password the policy refuses: invalid_grant / "+string(p.sub), p.trigger, 400, nativeauth.ErrInvalidGrant, p.sub, LabelMethodPassword))
	}
	add(caseFor(rsub, "password-recently-used", "the current password again: invalid_grant / password_recently_used", "password_recently_used", 400, nativeauth.ErrInvalidGrant, nativeauth.SuberrorPasswordRecentlyUsed, LabelMethodPassword))
	add(caseFor(sc, "wrong-oob", "a wrong one-time passcode: invalid_grant / invalid_oob_value", "oob_wrong", 400, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, LabelMethodOTP))
	add(caseFor(sc, "unknown-grant-type", "an unknown grant_type: invalid_grant", "grant_type_unknown", 400, nativeauth.ErrInvalidGrant, ""))
	add(caseFor(sc, "replayed-continuation-token", "the same continuation token twice: invalid_request", "continuation_token_replayed", 400, nativeauth.ErrInvalidRequest, ""))
	add(caseFor(nativeauth.EndpointSignInInitiate, "user-not-found", "an unknown username: user_not_found", "username_unknown", 400, nativeauth.ErrUserNotFound, ""))
	wp := caseFor(tok, "wrong-password", "a wrong password: invalid_grant", "password_wrong", 400, nativeauth.ErrInvalidGrant, "", LabelMethodPassword)
	wp.Want.ErrorCodes = []int{nativeauth.CodeInvalidCredentials}
	add(wp)
	add(caseFor(tok, "unknown-grant-type", "an unknown grant_type: unsupported_grant_type", "grant_type_unknown", 400, nativeauth.ErrUnsupportedGrantType, ""))
	add(caseFor(tok, "invalid-scope", "a scope of no resource: invalid_scope", "scope_invalid", 400, nativeauth.ErrInvalidScope, ""))
	add(caseFor(tok, "replayed-continuation-token", "the challenge's continuation token used twice: invalid_grant", "continuation_token_replayed", 400, nativeauth.ErrInvalidGrant, ""))
	add(caseFor(rs, "user-not-found", "an unknown username: user_not_found", "username_unknown", 400, nativeauth.ErrUserNotFound, ""))
	add(caseFor(rc, "wrong-oob", "a wrong one-time passcode: invalid_grant / invalid_oob_value", "oob_wrong", 400, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, LabelMethodOTP))
	add(caseFor(poll, "other-step-continuation-token", "the continue step's token instead of the submit's: invalid_request", "continuation_token_other_step", 400, nativeauth.ErrInvalidRequest, ""))
	cr := caseFor(sc, "credential-required", "no password at start: credential_required with a continuation token", "credential_not_submitted", 400, nativeauth.ErrCredentialRequired, "", LabelMethodPassword)
	cr.Want.ErrorCodes = []int{nativeauth.CodeCredentialRequired}
	cr.Rules = []check.FieldRule{{Name: "continuation_token", JSONType: "string", Required: true}}
	add(cr)
	ar := caseFor(sc, "attributes-required", "required attributes not sent: attributes_required with required_attributes", "attributes_missing", 400, nativeauth.ErrAttributesRequired, "")
	ar.Rules = []check.FieldRule{{Name: "continuation_token", JSONType: "string", Required: true}, {Name: "required_attributes", JSONType: "array", Required: true, Constraint: "non-empty"}}
	add(ar)
	add(caseFor(su, "attribute-invalid", "an attribute value its regex refuses: invalid_grant / attribute_validation_failed", "attribute_invalid", 400, nativeauth.ErrInvalidGrant, nativeauth.SuberrorAttributeValidationFailed))
	add(caseFor(sc, "attribute-invalid", "an attribute value its regex refuses on continue: invalid_grant / attribute_validation_failed", "attribute_invalid", 400, nativeauth.ErrInvalidGrant, nativeauth.SuberrorAttributeValidationFailed))
	add(caseFor(su, "attribute-unknown", "an attribute the tenant does not define is ignored", "attribute_unknown", 200, "", ""))
	add(caseFor(sc, "submit-password", "the password after credential_required continues the sign-up", "submit_password", 200, "", "", LabelMethodPassword))
	add(caseFor(sc, "submit-attributes", "the required attributes after attributes_required continue the sign-up", "submit_attributes", 200, "", ""))
	add(caseFor(nativeauth.EndpointSignUpChallenge, "password-challenge", "challenge after credential_required selects the password", "challenge_after_credential_required", 200, "", "", LabelMethodPassword))
	add(caseFor(sc, "superseded-oob", "the code of a challenge that a newer one replaced: invalid_grant / invalid_oob_value", "oob_superseded", 400, nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, LabelMethodOTP))
	add(caseFor(sc, "user-registered-meanwhile", "the email was registered by another sign-up meanwhile: user_already_exists", "username_registered_meanwhile", 400, nativeauth.ErrUserAlreadyExists, ""))
	add(caseFor(tok, "after-signup", "continuation_token grant after sign-up issues tokens", "token_after_signup", 200, "", ""))
	add(caseFor(tok, "after-sspr", "continuation_token grant after a reset issues tokens", "token_after_sspr", 200, "", ""))
	add(caseFor(tok, "refresh", "a refresh token issued with offline_access is usable", "refresh_token_grant", 200, "", ""))
	add(caseFor(tok, "no-offline-access", "without offline_access: no refresh_token", "scope_without_offline_access", 200, "", ""))
	add(caseFor(tok, "no-openid", "without openid: no id_token", "scope_without_openid", 200, "", ""))
	cors := caseFor(su, "cors-origin", "a cross-site Origin gets no Access-Control-* header", "cors_origin", 200, "", "")
	cors.Kind, cors.Flow, cors.Labels = KindProtocol, "protocol", []string{LabelFlowProtocol}
	cors.Headers = []check.HeaderRule{{Name: "Access-Control-", Absent: true, Prefix: true}}
	add(cors)
	pre := caseFor(su, "cors-preflight", "a CORS preflight gets no Access-Control-* header", "cors_preflight", 0, "", "")
	pre.Kind, pre.Flow, pre.Labels = KindProtocol, "protocol", []string{LabelFlowProtocol}
	pre.Headers = []check.HeaderRule{{Name: "Access-Control-", Absent: true, Prefix: true}}
	add(pre)
	return out
}

// flowEntry is a catalog entry proven by a flow spec.
type flowEntry struct {
	ID, Source string
}

// flowEntries maps the flow specs' keys to catalog entries.
var flowEntries = map[string]flowEntry{
	"signup.password-at-start":              {"flow.signup-password-at-start", pagePassword + " § Sign-up flow protocol details"},
	"signin.password":                       {"flow.signin-password", pagePassword + " § Sign-in flow protocol details"},
	"signup.credential-required":            {"flow.signup-credential-required", pagePassword + " § Sign-up Step 3 (credential_required) and Step 4"},
	"signup.attributes-at-continue":         {"flow.signup-attributes-at-continue", pageOTP + " § Sign-up Step 3 (attributes_required) and Step 4"},
	"signup.optional-after-verification":    {"flow.signup-optional-after-verification", pagePassword + " § Submitting user attributes to endpoints"},
	"signup.new-challenge-invalidates-code": {"flow.signup-new-challenge-invalidates-code", pagePassword + " § Sign-in API endpoints (/challenge: a new OTP each call)"},
	"signin.refresh":                        {"flow.signin-refresh-token", pagePassword + " § Sign-in Step 3 (refresh_token only with offline_access)"},
	"signin.otp":                            {"flow.signin-otp", pageOTP + " § Sign-in flow protocol details"},
	"sspr.reset":                            {"flow.sspr-reset", pagePassword + " § Self-service password reset flow protocol details"},
	"sspr.signin-after-reset":               {"flow.sspr-signin-after-reset", pagePassword + " § SSPR Step 5 (sign in with the poll continuation token)"},
	"sspr.old-password-rejected":            {"flow.sspr-old-password-rejected", pagePassword + " § Self-service password reset"},
}

// FlowID is the catalog ID a flow spec proves, "" for an unknown key.
func FlowID(key string) string { return flowEntries[key].ID }

func flowID(key string) string { return FlowID(key) }

// flowText is a flow spec's text: its catalog tag and what it shows.
func flowText(key, text string) string { return Tag(FlowID(key)) + " " + text }

// catalogRefs lists every catalog entry for the run record, in order.
func catalogRefs() []EntryRef {
	var out []EntryRef
	for _, c := range Cases() {
		out = append(out, EntryRef{ID: c.ID, Source: c.Source})
	}
	for _, k := range sortedKeys(flowEntries) {
		out = append(out, EntryRef{ID: flowEntries[k].ID, Source: flowEntries[k].Source})
	}
	return out
}

// Entries lists every catalog entry (ID and source).
func Entries() []EntryRef { return catalogRefs() }
