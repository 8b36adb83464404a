package catalog

import (
	"fmt"
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
		codeError(nativeauth.CodeOTPInvalid, "the one-time passcode cannot be validated", TriggerOOBWrong, "50181: Unable to validate the OTP.",
			src(otp(otpSUOOB+errResp, `"error_description": "AADSTS50181: Unable to validate the otp.",`)),
			status(http.StatusBadRequest), errorIs(nativeauth.ErrInvalidGrant), suberror(nativeauth.SuberrorInvalidOOBValue),
			note("The code is recorded, not checked, as in signup.continue.error.invalid_grant.invalid_oob_value: the error-code page documents sign-up logs, not API bodies, and the OTP page shows error_codes [50181] only in an example body; no table states a code. What is checked (400, invalid_grant/invalid_oob_value) is the continue tables' row for a wrong passcode.")),
		codeError(nativeauth.CodeOTPExpired, "the one-time passcode has expired", TriggerOOBExpired, "50182: OTP is already expired.",
			needs(profile.CapClock), undocumentedAnswer("an expired passcode"),
			note("No API page says what error an expired passcode gets (the tables have no suberror for it); only a 400 is checked and whether error_codes carries 50182 is recorded.")),
		codeError(nativeauth.CodeAttributesInvalid, "some collected attributes were invalid", TriggerAttributeInvalid, "1002027: Some of the collected attributes were invalid.",
			src(pw(pwSUAttributes+errResp, "attribute_validation_failed User attribute validation failed.")),
			needs(profile.CapRequiredAttributes, profile.CapAttributeRegex),
			errorIs(nativeauth.ErrInvalidGrant), suberror(nativeauth.SuberrorAttributeValidationFailed),
			note("The API pages show no error_codes for attribute_validation_failed; whether the body carries 1002027 is recorded, not checked.")),
		codeError(nativeauth.CodeUserCreationFailed, "user creation failed during self-service sign-up", TriggerUserCreationFails, "399279: User creation failed during self-service sign-up.",
			needs(profile.CapFaults), undocumentedAnswer("a failed account creation"),
			note("No API page documents the answer when the account cannot be created; the code page says the user should retry the sign-up. Only a 400 (an error, not a 5xx or a success) is checked; the code is recorded.")),
		codeNotError(nativeauth.CodeOTPPrompted, "passcode prompt", "1002013: User is prompted to enter Email One-Time-Passcode to verify ownership of email address.",
			note("A sign-up log code for an expected interruption. Checkable only by absence: no error body of a complete sign-up may carry it, since the passcode prompt is the oob challenge success, not an error.")),
		codeNotError(nativeauth.CodeKeepMeSignedIn, "keep me signed in", "50140: User is prompted with option to 'Keep me signed in' during the sign-in following sign-up.",
			flows(FlowSignIn),
			note("A browser sign-in prompt with no native-API counterpart; checkable only by absence from every error body of a sign-up followed by a sign-in.")),
	}
}

// codeError is an error code of the page, provoked at sign-up continue;
// quote is the page's line for it. The code is recorded, not checked.
func codeError(code int, says string, t TriggerName, quote string, opts ...opt) Entry {
	base := []opt{src(codePage(codesErrors, quote)), flows(FlowSignUp)}
	opts = append(append(base, opts...), codes(code))
	return entry(fmt.Sprintf("codes.%d", code), fmt.Sprintf("%d: %s", code, says), KindCode, suContinue, t, opts...)
}

// codeNotError is a code the page lists as an expected interruption of a
// sign-up, never an error: checkable only by its absence from every error
// body of a complete sign-up.
func codeNotError(code int, what, quote string, opts ...opt) Entry {
	base := []opt{src(codePage(codesNot, quote)), flows(FlowSignUp)}
	opts = append(append(base, opts...), absentCodes(code),
		inferred("the code page lists sign-up log codes; that a non-error log code never appears in an API error body is our reading"))
	return entry(fmt.Sprintf("codes.%d", code), fmt.Sprintf("%d (%s) is not an error", code, what), KindCode, "", TriggerSignUpComplete, opts...)
}

// undocumentedAnswer checks a 400 for a case no API page documents.
func undocumentedAnswer(what string) opt {
	return func(e *Entry) {
		status(http.StatusBadRequest)(e)
		inferred("no API page states an answer for "+what+"; the 400 is the pages' rule for error examples, applied to a case they do not document", AspectStatus)(e)
	}
}

func absentCodes(c ...int) opt {
	return func(e *Entry) { e.Expect.AbsentErrorCodes = append(e.Expect.AbsentErrorCodes, c...) }
}
