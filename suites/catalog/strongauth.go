package catalog

import (
	"slices"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

// The 2026-02 revision: capabilities, multifactor sign-in and just-in-time
// registration of a strong authentication method. Its pages are Markdown;
// sections are their headings without the '#' marks, quotes their text
// with table cells joined by a space and `code` and *emphasis* marks
// dropped (as the older pages' plain-text rendering reads).

// Triggers of the 2026-02 revision.
const (
	TriggerMFARequired          TriggerName = "password_of_mfa_user"
	TriggerRegistrationRequired TriggerName = "password_of_user_without_strong_method"
	TriggerMFAChallenge         TriggerName = "challenge_strong_method"
	TriggerSubmitMFAOOB         TriggerName = "submit_mfa_oob"
	TriggerMFAOOBWrong          TriggerName = "mfa_oob_wrong"
	TriggerRegisterPreverified  TriggerName = "register_email_verified_at_signup"
	TriggerCapabilityUnknown    TriggerName = "capability_unknown"
	TriggerCapabilityMissing    TriggerName = "capability_missing"
	TriggerContactInvalid       TriggerName = "challenge_target_invalid"
	TriggerPhoneBlockedByRep    TriggerName = "phone_blocked_by_reputation"
	TriggerPhoneBlockedByAdmin  TriggerName = "phone_region_blocked_by_admin"
)

func init() {
	for n, d := range map[TriggerName]string{
		TriggerMFARequired:          "on a tenant requiring MFA, send the correct password of a user with a registered strong method (grant_type=password, capabilities advertised at initiate)",
		TriggerRegistrationRequired: "on a tenant requiring MFA, send the correct password of a user without a strong method (grant_type=password, capabilities advertised at initiate)",
		TriggerMFAChallenge:         "after mfa_required and introspect, call /oauth2/v2.0/challenge with the id of the email method and no challenge_type, as the page's example",
		TriggerSubmitMFAOOB:         "submit the code of the MFA challenge (grant_type=mfa_oob)",
		TriggerMFAOOBWrong:          "submit a wrong code for the MFA challenge (grant_type=mfa_oob)",
		TriggerRegisterPreverified:  "after a sign-up (the email verified by its code) answered registration_required at token, register that email",
		TriggerCapabilityUnknown:    "send capabilities with a value besides mfa_required and registration_required",
		TriggerCapabilityMissing:    "on a tenant requiring MFA, start for a user who needs a capability without advertising it",
		TriggerContactInvalid:       "send a challenge_target that is not an email address",
		TriggerPhoneBlockedByRep:    "register a phone number the tenant's fraud checks block (target backdoor)",
		TriggerPhoneBlockedByAdmin:  "register a phone number of a region the administrator blocked (target backdoor)",
	} {
		triggerDescriptions[n] = d
	}
}

// Sections of the 2026-02 reference page.
const (
	r26SignUp      = "API reference for sign-up"
	r26SUStart     = r26SignUp + " / Step 1: Request to start the sign-up flow"
	r26SignIn      = "API reference for sign-in flow"
	r26SIInitiate  = r26SignIn + " / Step 1: Request to start the sign-in flow"
	r26SIChallenge = r26SignIn + " / Step 2: Select an authentication method"
	r26SIToken     = r26SignIn + " / Step 3: Request for security tokens"
	r26Introspect  = r26SignIn + " / Get user registered strong authentication methods"
	r26Register    = "Register a strong authentication method API reference"
	r26RegIntro    = r26Register + " / Step 1: Get the list of strong authentication methods"
	r26RegChal     = r26Register + " / Step 2: Select strong authentication method"
	r26RegCont     = r26Register + " / Step 3: Submit challenge"
	r26SSPR        = "Self-service password reset (SSPR)"
	r26SSPRStart   = r26SSPR + " / Step 1: Request to start the self-service password reset flow"
	ctBehaviour    = "Behavior for unsupported challenge types and capabilities"
	capRow         = "the API returns redirect. Supported values are mfa_required and registration_required."
)

func r26(section, quote string) Source {
	return Source{Page: PageReference2026, Section: section, Quote: quote}
}
func ct26(section, quote string) Source {
	return Source{Page: PageChallengeTypes2026, Section: section, Quote: quote}
}

// firstFactorTokenTriggers end a walk in tokens after the first factor
// (or after sign-up or reset), as the older pages document.
var firstFactorTokenTriggers = []TriggerName{TriggerTokenAfterSignUp, TriggerTokenAfterSSPR, TriggerRefreshToken,
	TriggerScopeWithoutOpenID, TriggerScopeWithoutOffline, TriggerSignUpComplete}

// needFirstFactorTokens makes the older pages' entries that expect tokens
// right after the first factor need a tenant without MFA: on one that
// requires it, the 2026-02 revision answers mfa_required or
// registration_required there instead.
func needFirstFactorTokens(e *Entry) {
	if revision2026Only(*e) || slices.Contains(e.Needs, profile.CapNoMFA) {
		return
	}
	if e.Endpoint == nativeauth.EndpointToken && (e.Kind == KindSuccess || e.Kind == KindProtocol) ||
		slices.Contains(firstFactorTokenTriggers, e.Trigger.Name) {
		e.Needs = append(e.Needs, profile.CapNoMFA)
	}
}

// revision2026Only reports whether only the 2026-02 pages document e.
func revision2026Only(e Entry) bool {
	for _, s := range e.Source {
		if s.Page != PageReference2026 && s.Page != PageChallengeTypes2026 {
			return false
		}
	}
	return len(e.Source) > 0
}

// Constraints of the strong-method lists, checked by suites/check.
const (
	methodsMasked   = "non-empty list of strong methods {id, challenge_type, challenge_channel}; login_hint masked"
	methodsEnroll   = "non-empty list of strong methods {id, challenge_type, challenge_channel}; email login_hint unmasked"
	revision2026Not = "Revision 2026-02: the older pages do not document this."
)

func strongAuthEntries() []Entry {
	mfa := needs(profile.CapMFA)
	pwd := methods(nativeauth.SignUpMethodPassword)
	out := capabilityStartEntries(mfa, pwd)
	out = append(out, mfaSignInEntries(mfa, pwd)...)
	return append(out, registrationEntries(mfa, pwd)...)
}

// capabilityStartEntries are what the three start endpoints answer for
// capabilities: one the API does not know, one the tenant needs and the
// app did not advertise. mfa and pwd are the options every entry of the
// revision carries.
func capabilityStartEntries(mfa, pwd opt) []Entry {
	var out []Entry
	for _, start := range []struct {
		ep      nativeauth.Endpoint
		name    string
		section string
	}{
		{nativeauth.EndpointSignInInitiate, "signin.initiate", r26SIInitiate},
		{nativeauth.EndpointSignUpStart, "signup.start", r26SUStart},
		{nativeauth.EndpointResetStart, "sspr.start", r26SSPRStart},
	} {
		extra := []opt{}
		if start.ep == nativeauth.EndpointResetStart {
			extra = append(extra, needs(profile.CapSSPR))
		}
		out = append(out,
			errEntry(start.name+".error.invalid_request.capability_unknown", "invalid_request for a capability the API does not support", start.ep,
				nativeauth.ErrInvalidRequest, "", TriggerCapabilityUnknown, append(extra,
					src(r26(start.section, capRow), ct26(ctBehaviour, "Client app includes unsupported capability Native authentication API returns an error and treats the request as invalid.")),
					note(revision2026Not),
					inferred("the pages say the API \"returns an error and treats the request as invalid\" without naming the error; invalid_request is the tables' value for a request that fails validation", AspectError))...),
			entry(start.name+".redirect.capability_missing", "redirect with redirect_reason when a capability the tenant needs is not advertised", KindRedirect, start.ep,
				TriggerCapabilityMissing, append(extra, mfa, pwd,
					src(r26(start.section, capRow), ct26(ctBehaviour, "If these capabilities are required but not supported, native authentication API initiates a")),
					fields(redirectFields...), absent("continuation_token"),
					inferred("the pages say a missing required capability makes the API redirect, not at which call; the suite asks at the start, where the tenant already knows what the user needs", AspectFields),
					note(revision2026Not+" Where the redirect comes is the tenant's choice (here, or at /token after the password); the suite asks at the start, where the tenant already knows the user needs MFA or registration. redirect_reason is documented at /token and recorded, not required, here."))...),
		)
	}
	return out
}

// mfaSignInEntries are the second factor of a sign-in: the token errors
// that ask for it, introspect, the challenge and the mfa_oob grant.
func mfaSignInEntries(mfa, pwd opt) []Entry {
	return []Entry{
		errEntry("signin.token.error.invalid_grant.mfa_required", "invalid_grant/mfa_required with a continuation token for a user with a strong method", nativeauth.EndpointToken,
			nativeauth.ErrInvalidGrant, nativeauth.SuberrorMFARequired, TriggerMFARequired, mfa, pwd,
			src(r26(r26SIToken+errResp, "mfa_required MFA is required. The response includes a")),
			fields(ctField), note(revision2026Not)),
		errEntry("signin.token.error.invalid_grant.registration_required", "invalid_grant/registration_required with a continuation token for a user without a strong method", nativeauth.EndpointToken,
			nativeauth.ErrInvalidGrant, nativeauth.SuberrorRegistrationRequired, TriggerRegistrationRequired, mfa, pwd,
			src(r26(r26SIToken+errResp, "registration_required The user must complete an MFA challenge but has no registered strong authentication method.")),
			fields(ctField), note(revision2026Not),
			inferred("the page says the answer tells the app to register and the registration endpoints need a continuation token; the token is inferred as required, as the page states for mfa_required", AspectFields)),
		entry("signin.token.mfa_oob.success", "mfa_oob with the code of the MFA challenge answers the tokens", KindSuccess, nativeauth.EndpointToken, TriggerSubmitMFAOOB, mfa, pwd,
			src(r26(r26SIToken, "when verifying the user's second factor authentication.")),
			fields(tokenFields()...), note(revision2026Not)),
		errEntry("signin.token.mfa_oob.error.invalid_grant.invalid_oob_value", "invalid_grant/invalid_oob_value for a wrong second-factor code", nativeauth.EndpointToken,
			nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, TriggerMFAOOBWrong, mfa, pwd,
			src(r26(r26SIToken+errResp, "invalid_oob_value The value of one-time passcode that the app submits is invalid."),
				r26(r26SIToken, "The app is submitting the email one-time passcode to satisfy an MFA challenge when the primary authentication method is email with password.")),
			note(revision2026Not)),
		entry("signin.introspect.success", "introspect lists the user's strong methods, hints masked", KindSuccess, nativeauth.EndpointSignInIntrospect, TriggerValid, mfa, pwd,
			src(r26(r26Introspect+success, "methods A list (of objects) of user registered strong authentication methods."),
				r26(r26Introspect+success, "login_hint The hint for the strong authentication method such as an obfuscated email.")),
			fields(ctField, arr("methods", methodsMasked)), note(revision2026Not)),
		missingClientID.at("signin.introspect", nativeauth.EndpointSignInIntrospect, mfa, pwd,
			src(r26(r26Introspect+errResp, "invalid_request Request parameter validation failed. To understand what happened, use the message in the error description."))),
		confidentialClient.at("signin.introspect", nativeauth.EndpointSignInIntrospect, mfa, pwd, needs(profile.CapConfidentialClient),
			src(r26(r26Introspect+errResp, "invalid_client The client ID included in the request isn't for a public client."))),
		tamperedTokenRequest.at("signin.introspect", nativeauth.EndpointSignInIntrospect, mfa, pwd,
			src(r26(r26Introspect+errResp, `"error_description": "AADSTS901007: The continuation_token provided is not valid for this endpoint.`)),
			inferred("the table's invalid_request row covers any failed validation; only the example shows it for a continuation token", AspectError)),
		entry("signin.challenge.mfa.success", "challenge with the id of a strong method sends a code and answers oob", KindSuccess, nativeauth.EndpointSignInChallenge, TriggerMFAChallenge, mfa, pwd,
			src(r26(r26Introspect, `"challenge_channel": "email",`),
				r26(r26SIChallenge, "This parameter is required when the client app challenges the user for a second factor authentication.")),
			fields(ctField, val("challenge_type", string(nativeauth.ChallengeTypeOOB)), val("binding_method", nativeauth.BindingMethodPrompt),
				val("challenge_channel", nativeauth.ChallengeChannelEmail), strC("challenge_target_label", "masked email of the user"), num("code_length", "integer > 0")),
			note(revision2026Not+" Without challenge_type, as the page's example and the Android client send it; the JS client adds one (client-facts.md).")),
	}
}

// registrationEntries are the just-in-time registration of a strong
// method: /register/v1.0/introspect, challenge and continue.
func registrationEntries(mfa, pwd opt) []Entry {
	return []Entry{
		entry("register.introspect.success", "register introspect lists the methods the user may register, the email unmasked", KindSuccess, nativeauth.EndpointRegisterIntrospect, TriggerValid, mfa, pwd,
			src(r26(r26RegIntro+success, "methods A list (of objects) of strong authentication methods available to the user to enroll."),
				r26(r26RegIntro+success, "This value is used by the client app to prepopulate the email textbox.")),
			fields(ctField, arr("methods", methodsEnroll)), note(revision2026Not)),
		missingClientID.at("register.introspect", nativeauth.EndpointRegisterIntrospect, mfa, pwd,
			src(r26(r26RegIntro+errResp, "or the request didn't include client_id parameter the client ID value is empty or invalid"))),
		tamperedTokenRequest.at("register.introspect", nativeauth.EndpointRegisterIntrospect, mfa, pwd,
			src(r26(r26RegIntro+errResp, "invalid_request Request parameter validation failed such as a validation of continuation token failed"))),
		entry("register.challenge.success", "register challenge sends a code to the contact and answers oob", KindSuccess, nativeauth.EndpointRegisterChallenge, TriggerValid, mfa, pwd,
			src(r26(r26RegChal+success, `"challenge_type": "oob",`),
				r26(r26RegChal+success, "challenge_target The target the challenge was sent to. This is the same as the input provided in the request.")),
			fields(ctField, val("challenge_type", string(nativeauth.ChallengeTypeOOB)), val("binding_method", nativeauth.BindingMethodPrompt),
				str("challenge_target"), val("challenge_channel", nativeauth.ChallengeChannelEmail), num("code_length", "integer > 0")),
			note(revision2026Not)),
		entry("register.challenge.preverified", "register challenge answers preverified for the email the sign-up verified", KindSuccess, nativeauth.EndpointRegisterChallenge, TriggerRegisterPreverified, mfa, pwd,
			src(r26(r26RegChal+success, `"challenge_type": "preverified"`)),
			fields(ctField, val("challenge_type", string(nativeauth.ChallengeTypePreverified))), absent("binding_method", "code_length"),
			note(revision2026Not)),
		errEntry("register.challenge.error.invalid_request", "invalid_request for a contact that is not an email address", nativeauth.EndpointRegisterChallenge,
			nativeauth.ErrInvalidRequest, "", TriggerContactInvalid, mfa, pwd, codes(nativeauth.CodeInvalidVerificationContact),
			src(r26(r26RegChal+errResp, "The errors here are similar to those you can experience when you call the /register/v1.0/introspect endpoint.")),
			inferred("the page refers to the introspect table, whose invalid_request row covers failed validation; 901001 is what Microsoft's SDKs read as an invalid contact (client-facts.md), recorded only", AspectError),
			note(revision2026Not)),
		errEntry("register.challenge.error.access_denied.provider_blocked_by_rep", "access_denied/provider_blocked_by_rep for a phone number fraud checks block", nativeauth.EndpointRegisterChallenge,
			nativeauth.ErrAccessDenied, nativeauth.SuberrorProviderBlockedByRep, TriggerPhoneBlockedByRep, mfa, pwd, needs(profile.CapFaults),
			src(r26(r26RegChal+errResp, "provider_blocked_by_rep The multifactor authentication method is blocked (phone number was blocked by RepMap).")),
			note(revision2026Not+" The page heads the suberror table \"for an invalid_grant error\" though it lists the access_denied suberrors: a copy slip, read as access_denied.")),
		errEntry("register.challenge.error.access_denied.provider_blocked_by_admin", "access_denied/provider_blocked_by_admin for a phone region the administrator blocked", nativeauth.EndpointRegisterChallenge,
			nativeauth.ErrAccessDenied, nativeauth.SuberrorProviderBlockedByAdmin, TriggerPhoneBlockedByAdmin, mfa, pwd, needs(profile.CapFaults),
			src(r26(r26RegChal+errResp, "provider_blocked_by_admin The tenant administrator has blocked the phone region.")),
			note(revision2026Not)),
		entry("register.continue.success", "register continue with the code answers a continuation token", KindSuccess, nativeauth.EndpointRegisterContinue, TriggerValid, mfa, pwd,
			src(r26(r26RegCont+success, "Use this continuation token to call the /oauth2/v2.0/token endpoint to request for security tokens.")),
			fields(ctField), note(revision2026Not)),
		missingClientID.at("register.continue", nativeauth.EndpointRegisterContinue, mfa, pwd,
			src(r26(r26RegCont+errResp, "or the request didn't include client_id parameter the client ID value is empty or invalid"))),
		errEntry("register.continue.error.invalid_grant", "invalid_grant for a grant type that is not supported", nativeauth.EndpointRegisterContinue,
			nativeauth.ErrInvalidGrant, "", TriggerGrantTypeUnknown, mfa, pwd,
			src(r26(r26RegCont+errResp, "invalid_grant The grant type included in the request isn't valid or supported, or OTP value is incorrect."))),
		errEntry("register.continue.error.invalid_grant.invalid_oob_value", "invalid_grant/invalid_oob_value for a wrong code", nativeauth.EndpointRegisterContinue,
			nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, TriggerOOBWrong, mfa, pwd,
			src(r26(r26RegCont+errResp, "invalid_oob_value The value of one-time passcode is invalid."))),
	}
}
