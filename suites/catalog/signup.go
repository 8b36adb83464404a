package catalog

import (
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

const (
	suStart     = nativeauth.EndpointSignUpStart
	suChallenge = nativeauth.EndpointSignUpChallenge
	suContinue  = nativeauth.EndpointSignUpContinue
)

func signUpEntries() []Entry {
	var out []Entry
	out = append(out, signUpStartEntries()...)
	out = append(out, signUpChallengeEntries()...)
	out = append(out, signUpContinueEntries()...)
	return out
}

func signUpStartEntries() []Entry {
	out := []Entry{
		entry("signup.start.success", "start answers a continuation token", KindSuccess, suStart, TriggerValid,
			bothPages(pwSUStart+success, otpSUStart+success, ctRow),
			triggerSays(startValid+"; the password too on a password tenant, and every required attribute"),
			fields(ctField), absent("challenge_type")),
		entry("signup.start.success.with_password_and_attributes", "start with password and attributes at once answers a continuation token", KindSuccess, suStart, TriggerStartWithPasswordAttr,
			src(pw(pwSUStart, "Example 2 (include user attributes and password in the request):")),
			methods(nativeauth.SignUpMethodPassword), needs(profile.CapSignUpPassword), fields(ctField)),
		entry("signup.start.redirect", "start with only the redirect challenge type answers redirect", KindRedirect, suStart, TriggerRedirectOnly,
			bothPages(pwSUStart+success, otpSUStart+success, redirect),
			fields(redirectFields...), absent("continuation_token")),
		missingClientID.at("signup.start", suStart,
			bothPages(pwSUStart+errResp, otpSUStart+errResp, "invalid_request Request parameter validation failed such as when the challenge_type parameter value contains an unsupported authentication method or the request didn't include client_id parameter the client ID value is empty or invalid.")),
		errEntry("signup.start.error.invalid_request.when_challenge_type_invalid", "invalid_request for an unsupported authentication method in challenge_type", suStart, nativeauth.ErrInvalidRequest, "", TriggerChallengeTypeInvalid,
			bothPages(pwSUStart+errResp, otpSUStart+errResp, "invalid_request Request parameter validation failed such as when the challenge_type parameter value contains an unsupported authentication method")),
		confidentialClient.at("signup.start", suStart,
			bothPages(pwSUStart+errResp, otpSUStart+errResp, rowInvalidClient),
			needs(profile.CapConfidentialClient),
			note("The table says to read the suberror for the cause, but the only suberror it lists is nativeauthapi_disabled; for a confidential client no suberror is documented, so none is checked.")),
		disabledClient.at("signup.start", suStart,
			bothPages(pwSUStart+errResp, otpSUStart+errResp, rowDisabled),
			needs(profile.CapDisabledClient)),
		unknownClientID.at("signup.start", suStart,
			bothPages(pwSUStart+errResp, otpSUStart+errResp, rowUnauthorizedClient)),
		noRedirect.at("signup.start", suStart,
			bothPages(pwSUStart+errResp, otpSUStart+errResp, rowUnsupportedChallenge),
			accept(nativeauth.ErrInvalidRequest),
			note("Contradiction: the tables give unsupported_challenge_type for a list without redirect, but every example of this very case on the other endpoints is \"error\": \"invalid_request\" with \"AADSTS901007: The challenge_type list parameter does not include the 'redirect' type.\"; both are accepted.")),
		errEntry("signup.start.error.user_already_exists", "user_already_exists for the email of an existing user", suStart, nativeauth.ErrUserAlreadyExists, "", TriggerUsernameExists,
			bothPages(pwSUStart+errResp, otpSUStart+errResp, "user_already_exists User already exists."),
			needs(profile.CapExistingUser), codes(nativeauth.CodeUserAlreadyExists)),
		errEntry("signup.start.error.invalid_grant.attribute_validation_failed", "invalid_grant/attribute_validation_failed for an attribute sent at start that fails validation", suStart, nativeauth.ErrInvalidGrant, nativeauth.SuberrorAttributeValidationFailed, TriggerAttributeInvalid,
			bothPages(pwSUStart+errResp, otpSUStart+errResp, "invalid_attributes A list (array of objects) of attributes that failed validation. This response is possible if the app submits user attributes, and the suberror parameter's value is attribute_validation_failed."),
			needs(profile.CapAttributeRegex), fields(arr("invalid_attributes", "non-empty list of {name}")),
			illustrative(AspectError),
			note("Documented only by the invalid_attributes parameter of start's error response, which names the suberror and not the error; neither start table lists the suberror, and the OTP page's start table has no invalid_grant at all. So the suberror and invalid_attributes are checked and the error is only recorded: invalid_grant is what the continue (attributes) table, the only table that lists attribute_validation_failed, pairs it with.")),
	}
	out = append(out, clientIDEntries("signup.start", suStart, []Source{pw(pwSUStart+errResp, clientIDClause), otp(otpSUStart+errResp, clientIDClause)})...)
	for _, p := range passwordPolicyEntries("signup.start", suStart, pwSUStart+errResp, methods(nativeauth.SignUpMethodPassword), needs(profile.CapSignUpPassword)) {
		if p.Expect.Suberror == nativeauth.SuberrorPasswordRecentlyUsed {
			p.Notes = "A new account has no password history, so this row of the sign-up table cannot be reached by a real sign-up; a target can only show it through a configured history. Listed because the table lists it."
		}
		out = append(out, p)
	}
	return out
}

func signUpChallengeEntries() []Entry {
	out := []Entry{
		entry("signup.challenge.oob.success", "challenge sends an email one-time passcode and answers oob", KindSuccess, suChallenge, TriggerValid,
			bothPages(pwSUChallenge+success, otpSUChallenge+success, `"challenge_type": "oob",`),
			fields(oobChallengeFields(true)...)),
		entry("signup.challenge.password.success", "challenge after credential_required answers password", KindSuccess, suChallenge, TriggerChallengeForPassword,
			src(pw(pwSUOOB+success, `"challenge_type": "password",`)),
			methods(nativeauth.SignUpMethodPassword), needs(profile.CapSignUpPassword),
			fields(val("challenge_type", string(nativeauth.ChallengeTypePassword)), ctField),
			note("The password page documents this second challenge call inside \"Step 3\"; its challenge_type note says the list is expected to contain \"password redirect\" while step 2 says \"oob password redirect\".")),
		entry("signup.challenge.redirect", "challenge with only the redirect challenge type answers redirect", KindRedirect, suChallenge, TriggerRedirectOnly,
			bothPages(pwSUChallenge+success, otpSUChallenge+success, redirect),
			fields(redirectFields...), absent("continuation_token")),
		missingClientID.at("signup.challenge", suChallenge,
			src(pw(pwSUChallenge+errResp, "invalid_request Request parameter validation failed such as client ID is empty or invalid."))),
		invalidChallengeType.at("signup.challenge", suChallenge,
			src(otp(otpSUChallenge+errResp, "invalid_request Request parameter validation failed such as when the challenge_type parameter includes an invalid challenge type or continuation token validation failed.")),
			accept(nativeauth.ErrUnsupportedChallengeType),
			note("The OTP page's table also says unsupported_challenge_type when \"the challenge_type parameter value isn't supported\", so both are accepted.")),
		confidentialClient.at("signup.challenge", suChallenge,
			src(otp(otpSUChallenge+errResp, "invalid_client The client ID included in the request doesn't exist or isn't for a public client.")),
			needs(profile.CapConfidentialClient),
			note("Only the OTP page lists invalid_client here, for a client that \"doesn't exist or isn't for a public client\"; on start an unknown client is unauthorized_client. The confidential-client half is checked.")),
		expiredToken.at("signup.challenge", suChallenge,
			bothPages(pwSUChallenge+errResp, otpSUChallenge+errResp, rowExpiredShort),
			needs(profile.CapClock)),
		noRedirect.at("signup.challenge", suChallenge,
			src(pw(pwSUChallenge+errResp, rowUnsupportedChallenge), otp(otpSUChallenge+errResp, "unsupported_challenge_type The challenge_type parameter value isn't supported or doesn't include the redirect challenge type.")),
			accept(nativeauth.ErrInvalidRequest),
			note("Contradiction: the example error of this step is \"invalid_request\" with \"AADSTS901007: The challenge_type list parameter does not include the 'redirect' type.\" while the table says unsupported_challenge_type; both are accepted. Also, challenge_type is marked \"Required: No\" yet \"must always include the redirect challenge type\".")),
		tamperedToken.at("signup.challenge", suChallenge,
			src(pw(pwSUChallenge+errResp, "invalid_grant The continuation token is invalid.")),
			accept(nativeauth.ErrInvalidRequest),
			note("Contradiction: the password page's table gives invalid_grant for an invalid continuation token here, while the OTP page's table for the same endpoint says invalid_request (\"continuation token validation failed\"), as do the SSPR endpoints; both are accepted.")),
		errEntry("signup.challenge.error.invalid_client.when_client_unknown", "invalid_client for a client ID that does not exist", suChallenge, nativeauth.ErrInvalidClient, "", TriggerUnknownClientID,
			src(otp(otpSUChallenge+errResp, "invalid_client The client ID included in the request doesn't exist or isn't for a public client.")),
			accept(nativeauth.ErrUnauthorizedClient),
			note("The \"doesn't exist\" half of the OTP page's row. Contradiction: start, initiate and SSPR start give unauthorized_client for a client ID the tenant does not know, and a tenant cannot tell at /challenge which table the app read; both are accepted.")),
	}
	return append(out, clientIDEntries("signup.challenge", suChallenge, []Source{pw(pwSUChallenge+errResp, "invalid_request Request parameter validation failed such as client ID is empty or invalid.")})...)
}

func signUpContinueEntries() []Entry {
	out := append(signUpContinueAnswers(), signUpContinueErrors()...)
	out = append(out, clientIDEntries("signup.continue", suContinue, []Source{pw(pwSUOOB+" / Response", clientIDClause), otp(otpSUOOB+success, clientIDClause)})...)
	out = append(out, signUpContinueBeyondTables()...)
	return append(out, signUpContinuePasswordPolicy()...)
}

// signUpContinueAnswers are the answers /continue gives on the way to a
// finished sign-up: a token, a redirect, or the next thing it needs.
func signUpContinueAnswers() []Entry {
	return []Entry{
		entry("signup.continue.oob.success", "continue with the right one-time passcode answers a continuation token", KindSuccess, suContinue, TriggerSubmitOOB,
			src(pw(pwSUOOB, "Microsoft Entra issues a continuation token."),
				otp(otpSUOOB+success, "the app gets a continuation token without submitting any attributes")),
			fields(ctField),
			note("Holds when the password (password page) and every required attribute were sent at start; otherwise the answer is credential_required or attributes_required.")),
		entry("signup.continue.password.success", "continue with a valid password answers a continuation token", KindSuccess, suContinue, TriggerSubmitPassword,
			src(pw(pwSUPassword+success, "the app gets a continuation token without submitting any attributes")),
			methods(nativeauth.SignUpMethodPassword), needs(profile.CapSignUpPassword), fields(ctField)),
		entry("signup.continue.attributes.success", "continue with every required attribute answers a continuation token", KindSuccess, suContinue, TriggerSubmitAttributes,
			src(pw(pwSUAttributes+success, "If the request is successful, Microsoft Entra issues a continuation token, which the app can use to request for security tokens."),
				otp(otpSUAttributes+success, `"continuation_token": "AQABAAEAAAYn...",`)),
			needs(profile.CapRequiredAttributes), fields(ctField)),
		entry("signup.continue.redirect", "continue answers redirect when the tenant needs a method the app did not advertise", KindRedirect, suContinue, TriggerRedirectForced,
			src(pw(pwSUPassword+" / User attributes required", redirect), pw(pwSUAttributes+success, redirect),
				otp(otpSUOOB+success, redirect), otp(otpSUAttributes+success, redirect)),
			needs(profile.CapFaults), fields(redirectFields...), absent("continuation_token"),
			note("/continue takes no challenge_type, so no request parameter provokes this; the pages only say the app \"can't support a required authentication method\". A target reaches it through fault injection.")),
		errEntry("signup.continue.error.credential_required", "credential_required after the passcode when no password was sent at start", suContinue, nativeauth.ErrCredentialRequired, "", TriggerCredentialNotSent,
			src(pw(pwSUOOB+" / Response", "credential_required Authentication is required for account creation")),
			methods(nativeauth.SignUpMethodPassword), needs(profile.CapSignUpPassword), fields(ctField), codes(nativeauth.CodeCredentialRequired)),
		errEntry("signup.continue.error.attributes_required", "attributes_required lists the required attributes not yet sent", suContinue, nativeauth.ErrAttributesRequired, "", TriggerAttributesMissing,
			src(pw(pwSUPassword+" / User attributes required", "attributes_required One or more of user attributes is required."),
				otp(otpSUOOB+success, `"error": "attributes_required",`)),
			needs(profile.CapRequiredAttributes), codes(nativeauth.CodeAttributesRequired),
			fields(ctField, arr("required_attributes", "non-empty list of {name, type, required, options.regex}")),
			note("The pages' examples disagree on attribute types (\"string\" on the password page, \"Text\" and \"Boolean\" on the OTP page), so type is checked as a string only.")),
	}
}

// signUpContinueErrors are the rows of the /continue error tables.
func signUpContinueErrors() []Entry {
	return []Entry{
		missingClientID.at("signup.continue", suContinue,
			src(pw(pwSUOOB+" / Response", "invalid_request Request parameter validation failed such as a validation of continuation token failed or the request didn't include client_id parameter the client ID value is empty or invalid"),
				otp(otpSUAttributes+errResp, "invalid_request Request parameter validation failed such as a validation of continuation token failed or the request didn't include client_id parameter the client ID value is empty."))),
		errEntry("signup.continue.error.invalid_request.when_continuation_token_invalid", "invalid_request for a continuation token that fails validation", suContinue, nativeauth.ErrInvalidRequest, "", TriggerTokenTampered,
			src(pw(pwSUAttributes+errResp, "invalid_request Request parameter validation failed such as a validation of continuation token failed"),
				otp(otpSUOOB+errResp, "invalid_request Request parameter validation failed such as when the continuation token or OTP validation fails."))),
		errEntry("signup.continue.error.invalid_request.when_email_otp_disabled", "invalid_request when the tenant has not enabled email one-time passcode", suContinue, nativeauth.ErrInvalidRequest, "", TriggerEmailOTPDisabled,
			src(pw(pwSUOOB+" / Response", "or the external tenant administrator hasn't enabled email OTP for all tenant users"),
				otp(otpSUOOB+success, "or the customer tenant administrator hasn't enabled email one-time passcode for all tenant users")),
			needs(profile.CapOTPDisabledTenant)),
		errEntry("signup.continue.error.invalid_grant", "invalid_grant for an unknown grant_type", suContinue, nativeauth.ErrInvalidGrant, "", TriggerGrantTypeUnknown,
			src(pw(pwSUOOB+" / Response", "invalid_grant The grant type included in the request isn't valid or supported, or OTP value is incorrect."),
				otp(otpSUAttributes+errResp, "invalid_grant The grant type provided isn't valid or supported.")),
			note("The grant types are oob, password and attributes on the password page; the OTP page says \"oob and attributes\" in the request table but \"oob, password, attributes\" in its error table.")),
		wrongOOB.at("signup.continue", suContinue,
			src(pw(pwSUOOB+" / Response", "invalid_oob_value The value of one-time passcode is invalid."),
				otp(otpSUOOB+errResp, `"suberror": "invalid_oob_value"`)),
			codes(nativeauth.CodeOTPInvalid),
			note("Contradiction: the OTP page's table says OTP validation failure is invalid_request, while its own example and the password page say invalid_grant with suberror invalid_oob_value; the example and both suberror tables are followed.")),
		errEntry("signup.continue.error.invalid_grant.attribute_validation_failed", "invalid_grant/attribute_validation_failed lists the attributes that failed validation", suContinue, nativeauth.ErrInvalidGrant, nativeauth.SuberrorAttributeValidationFailed, TriggerAttributeInvalid,
			src(pw(pwSUAttributes+errResp, "attribute_validation_failed User attribute validation failed."),
				otp(otpSUAttributes+errResp, "invalid_attributes A list (array of objects) of attributes that failed validation. This parameter is included in the response when the suberror parameter's value is attribute_validation_failed.")),
			needs(profile.CapRequiredAttributes, profile.CapAttributeRegex),
			fields(arr("invalid_attributes", "non-empty list of {name}"))),
		expiredToken.at("signup.continue", suContinue,
			src(pw(pwSUAttributes+errResp, `"error": "expired_token",`), otp(otpSUOOB+errResp, rowExpiredShort)),
			needs(profile.CapClock), codes(552003),
			normNote("The example shows error_codes [552003] with an AADSTS901007 description; Microsoft's SDKs see 55112 for an expired token. Codes are recorded, not checked.")),
		errEntry("signup.continue.error.invalid_client", "invalid_client for a client ID that does not exist", suContinue, nativeauth.ErrInvalidClient, "", TriggerUnknownClientID,
			src(otp(otpSUOOB+errResp, "invalid_client The client ID included in the request doesn't exist.")),
			accept(nativeauth.ErrUnauthorizedClient),
			note("Contradiction: only the OTP page lists invalid_client on continue, for a client ID that \"doesn't exist\"; start, initiate and SSPR start give unauthorized_client for that. Both are accepted.")),
		errEntry("signup.continue.error.user_already_exists", "user_already_exists when the email was registered after this flow started", suContinue, nativeauth.ErrUserAlreadyExists, "", TriggerUsernameRegisteredMeanwhile,
			src(otp(otpSUAttributes+errResp, "user_already_exists User already exists.")),
			note("The OTP page's example for this step has \"error\": \"\" (empty) with \"AADSTS901007: User already exists.\" and error_codes [399246], the password-too-weak code; only the table row is followed.")),
		errEntry("signup.continue.error.verification_required", "verification_required lists the attributes still to verify", suContinue, nativeauth.ErrVerificationRequired, "", TriggerVerificationSkipped,
			bothPages(pwSUAttributes+errResp, otpSUAttributes+errResp, "unverified_attributes A list (array of objects) of attribute key names that must be verified. This parameter is included in the response when the error parameter's value is verification_required."),
			accept(nativeauth.ErrInvalidGrant, nativeauth.ErrInvalidRequest),
			inferred("no table lists verification_required and no step says what provokes it; the error and its fields come from the description of unverified_attributes, the trigger from our reading"),
			fields(arr("unverified_attributes", "non-empty list of {name}; only when error is verification_required"), ctField),
			note("verification_required appears only in the description of unverified_attributes; no error table on either page lists it and no step says what provokes it. Skipping the email verification is the only reading; a target that refuses it as an invalid grant or request is accepted, and the fields are checked only when the error is verification_required.")),
	}
}

// signUpContinueBeyondTables are what the pages say of /continue outside
// its tables: a row that names a parameter it does not take, and the
// attributes table.
func signUpContinueBeyondTables() []Entry {
	return []Entry{
		entry("signup.continue.error.invalid_request.when_challenge_type_invalid", "an invalid challenge type sent with the password to /continue is refused with invalid_request or ignored", KindProtocol, suContinue, TriggerChallengeTypeInvalid,
			src(pw(pwSUPassword+errResp, "invalid_request Request parameter validation failed such as when the challenge_type parameter includes an invalid challenge type.")),
			flows(FlowSignUp), methods(nativeauth.SignUpMethodPassword), needs(profile.CapSignUpPassword),
			triggerSays("after credential_required and the password challenge, submit the password (grant_type=password) with a challenge_type list holding an unknown method next to redirect"),
			fields(Field{Name: "error", JSONType: JSONString, Value: string(nativeauth.ErrInvalidRequest)}),
			inferred("the row names a parameter this request does not take; refusing it with invalid_request and ignoring it (as Entra ignores attributes it does not know) are both read as conformant"),
			note("Likely a copy error in the password page: its step 4 error table gives invalid_request \"when the challenge_type parameter includes an invalid challenge type\", the wording of the start and challenge tables, but /signup/v1.0/continue takes no challenge_type (its request tables list continuation_token, client_id, grant_type and the password, oob or attributes). Checked: the answer is JSON and no 5xx; an error must be invalid_request; a 200 must be a valid continuation answer.")),
		entry("signup.continue.attributes.before_verification", "required attributes sent to /continue before the passcode are kept, so the passcode completes the sign-up", KindSuccess, suContinue, TriggerAttributesBeforeCode,
			bothPages(attrTable, attrTable, "/signup/v1.0/continue endpoint before username verification Yes Yes Yes"),
			needs(profile.CapRequiredAttributes), fields(ctField),
			note("The table says required attributes may go to /continue before the username is verified, not what that call answers (the emulator answers verification_required with a new token; see signup.continue.error.verification_required). The spec goes on with the token that answer carries, if any, and checks that the passcode then ends the sign-up, with no attributes_required. The table's other rows: attributes at start are signup.start.success and signup.start.success.with_password_and_attributes; required attributes after verification are signup.continue.attributes.success; optional attributes after verification (\"No\") have no answer the pages describe, so no entry.")),
	}
}

// signUpContinuePasswordPolicy is the password policy's rows on /continue.
func signUpContinuePasswordPolicy() []Entry {
	var out []Entry
	for _, p := range passwordPolicyEntries("signup.continue", suContinue, pwSUPassword+errResp, methods(nativeauth.SignUpMethodPassword), needs(profile.CapSignUpPassword)) {
		if p.Expect.Suberror == nativeauth.SuberrorPasswordRecentlyUsed {
			p.Notes = "A new account has no password history; see signup.start.error.invalid_grant.password_recently_used."
		}
		if p.Expect.Suberror == nativeauth.SuberrorPasswordTooWeak {
			p.Expect.ErrorCodes = []int{nativeauth.CodePasswordTooWeak}
		}
		out = append(out, p)
	}
	return out
}
