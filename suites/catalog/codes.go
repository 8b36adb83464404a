package catalog

import (
	"net/http"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

const (
	codesHead   = "Sign-up error codes"
	codesErrors = codesHead + " / The following error codes are associated with sign-up events, but this list isn't exhaustive:"
	codesNot    = codesHead + " / The following codes are not actual errors. They indicate expected interruptions that occur due to the interactive nature of the sign-up process."
)

// codeEntries are the numeric codes of the sign-up error-code page. That
// page documents sign-up logs, not API bodies, so a code is checked in an
// error body only where an API page shows the same code for the same case.
func codeEntries() []Entry {
	return []Entry{
		entry("codes.50181", "50181: the one-time passcode cannot be validated", KindCode, suContinue, TriggerOOBWrong,
			src(codePage(codesErrors, "50181: Unable to validate the OTP."),
				otp(otpSUOOB+errResp, `"error_description": "AADSTS50181: Unable to validate the otp.",`)),
			flows(FlowSignUp), status(http.StatusBadRequest),
			errorIs(nativeauth.ErrInvalidGrant), suberror(nativeauth.SuberrorInvalidOOBValue),
			normativeCodes(nativeauth.CodeOTPInvalid),
			note("Normative because two pages agree: the error-code page names 50181 for an OTP that cannot be validated and the OTP page's example body for a wrong passcode carries error_codes [50181].")),
		entry("codes.50182", "50182: the one-time passcode has expired", KindCode, suContinue, TriggerOOBExpired,
			src(codePage(codesErrors, "50182: OTP is already expired.")),
			flows(FlowSignUp), needs(profile.CapClock), status(http.StatusBadRequest), codes(nativeauth.CodeOTPExpired),
			note("No API page says what error an expired passcode gets (the tables have no suberror for it); only a 400 is checked and whether error_codes carries 50182 is recorded.")),
		entry("codes.1002027", "1002027: some collected attributes were invalid", KindCode, suContinue, TriggerAttributeInvalid,
			src(codePage(codesErrors, "1002027: Some of the collected attributes were invalid."),
				pw(pwSUAttributes+errResp, "attribute_validation_failed User attribute validation failed.")),
			flows(FlowSignUp), needs(profile.CapRequiredAttributes, profile.CapAttributeRegex),
			errorIs(nativeauth.ErrInvalidGrant), suberror(nativeauth.SuberrorAttributeValidationFailed),
			codes(nativeauth.CodeAttributesInvalid),
			note("The API pages show no error_codes for attribute_validation_failed; whether the body carries 1002027 is recorded, not checked.")),
		entry("codes.399279", "399279: user creation failed during self-service sign-up", KindCode, suContinue, TriggerUserCreationFails,
			src(codePage(codesErrors, "399279: User creation failed during self-service sign-up.")),
			flows(FlowSignUp), needs(profile.CapFaults), status(http.StatusBadRequest), codes(nativeauth.CodeUserCreationFailed),
			note("No API page documents the answer when the account cannot be created; the code page says the user should retry the sign-up. Only a 400 (an error, not a 5xx or a success) is checked; the code is recorded.")),
		entry("codes.1002013", "1002013 (passcode prompt) is not an error", KindCode, "", TriggerSignUpComplete,
			src(codePage(codesNot, "1002013: User is prompted to enter Email One-Time-Passcode to verify ownership of email address.")),
			flows(FlowSignUp), absentCodes(nativeauth.CodeOTPPrompted),
			note("A sign-up log code for an expected interruption. Checkable only by absence: no error body of a complete sign-up may carry it, since the passcode prompt is the oob challenge success, not an error.")),
		entry("codes.50140", "50140 (keep me signed in) is not an error", KindCode, "", TriggerSignUpComplete,
			src(codePage(codesNot, "50140: User is prompted with option to 'Keep me signed in' during the sign-in following sign-up.")),
			flows(FlowSignUp, FlowSignIn), absentCodes(nativeauth.CodeKeepMeSignedIn),
			note("A browser sign-in prompt with no native-API counterpart; checkable only by absence from every error body of a sign-up followed by a sign-in.")),
	}
}

func absentCodes(c ...int) opt {
	return func(e *Entry) { e.Expect.AbsentErrorCodes = append(e.Expect.AbsentErrorCodes, c...) }
}
