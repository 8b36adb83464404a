package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/faults"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Numeric codes the pages and SDK sources do not settle. Each is the
// emulator's choice (a real AADSTS code where one is well known) and is
// listed in README.md so a report never mistakes it for a documented value.
const (
	codeMissingParameter       = 900144  // AADSTS900144: body must contain parameter
	codeMalformedRequest       = 90014   // AADSTS90014 family: malformed request
	codeInvalidClientID        = 700038  // client_id is not a valid application identifier
	codeUnknownClient          = 700016  // application not found in the directory
	codeConfidentialClient     = 7000218 // body must contain client_assertion or client_secret
	codeNativeAuthDisabled     = 550022  // emulator's choice: no public value known
	codeUnsupportedGrantType   = 70003   // unsupported grant type
	codeInvalidScope           = 70011   // scope is not valid
	codeSSPRDisabled           = 500222  // emulator's choice: SSPR not enabled for the tenant
	codeEmailOTPDisabled       = 500223  // emulator's choice: email OTP not enabled for the tenant
	codeConsentRequired        = 65001   // Entra's AADSTS65001: no consent for the scope
	codeVerificationRequired   = 55102   // emulator's choice, next to 55103/55106 used by SDKs
	codeInvalidChallengeType   = 55101   // emulator's choice: unknown challenge_type value
	codeNotFound               = 90056   // emulator's choice: unknown path
	codeMethodNotAllowed       = 90057   // emulator's choice: wrong method
	codeInternal               = 90033   // AADSTS90033: a transient error has occurred
	codeRedirectMissingInList  = nativeauth.CodeRedirectMissing
	codeInvalidOrExpiredTokens = nativeauth.CodeInvalidContinuation
)

// apiError is one error answer. The wire shape is the pages' error body.
type apiError struct {
	status               int    // 0 means 400, which every flow error uses
	retryAfter           string // Retry-After header, when set
	Error                nativeauth.ErrorCode
	Suberror             nativeauth.Suberror
	Code                 int
	Message              string
	ContinuationToken    string
	RequiredAttributes   []nativeauth.AttributeSpec
	UnverifiedAttributes []nativeauth.AttributeSpec
	InvalidAttributes    []nativeauth.AttributeSpec
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	faults.ErrorBody
	Suberror             nativeauth.Suberror        `json:"suberror,omitempty"`
	ContinuationToken    string                     `json:"continuation_token,omitempty"`
	RequiredAttributes   []nativeauth.AttributeSpec `json:"required_attributes,omitempty"`
	UnverifiedAttributes []nativeauth.AttributeSpec `json:"unverified_attributes,omitempty"`
	InvalidAttributes    []nativeauth.AttributeSpec `json:"invalid_attributes,omitempty"`
}

func (e *apiError) body(now time.Time, traceID, correlationID string) errorBody {
	return errorBody{
		ErrorBody:            faults.NewErrorBody(e.Error, e.Code, e.Message, now, traceID, correlationID),
		Suberror:             e.Suberror,
		ContinuationToken:    e.ContinuationToken,
		RequiredAttributes:   e.RequiredAttributes,
		UnverifiedAttributes: e.UnverifiedAttributes,
		InvalidAttributes:    e.InvalidAttributes,
	}
}

func (e *apiError) httpStatus() int {
	if e.status == 0 {
		return http.StatusBadRequest
	}
	return e.status
}

func newErr(code nativeauth.ErrorCode, n int, msg string) *apiError {
	return &apiError{Error: code, Code: n, Message: msg}
}

func errMissing(param nativeauth.Param) *apiError {
	return newErr(nativeauth.ErrInvalidRequest, codeMissingParameter,
		fmt.Sprintf("The request body must contain the following parameter: '%s'.", param))
}

func errMalformed(msg string) *apiError {
	return newErr(nativeauth.ErrInvalidRequest, codeMalformedRequest, msg)
}

func errInvalidUsername() *apiError {
	return newErr(nativeauth.ErrInvalidRequest, nativeauth.CodeInvalidUsername,
		"The username parameter is empty or not valid.")
}

// errBadContinuation answers a continuation token that fails validation:
// forged, tampered, replayed, from another flow, step or client. Most
// tables say invalid_request; the sign-up and sign-in challenge and token
// tables say invalid_grant, so the caller passes the table's error.
func errBadContinuation(code nativeauth.ErrorCode) *apiError {
	return newErr(code, codeInvalidOrExpiredTokens, "The continuation_token is invalid.")
}

func errExpiredContinuation() *apiError {
	return newErr(nativeauth.ErrExpiredToken, nativeauth.CodeExpiredToken, "The continuation_token is expired.")
}

func errPassword(sub nativeauth.Suberror) *apiError {
	msgs := map[nativeauth.Suberror]string{
		nativeauth.SuberrorPasswordTooShort:     "New password is too short.",
		nativeauth.SuberrorPasswordTooLong:      "New password is too long.",
		nativeauth.SuberrorPasswordTooWeak:      "New password is too weak.",
		nativeauth.SuberrorPasswordBanned:       "New password contains a banned word.",
		nativeauth.SuberrorPasswordRecentlyUsed: "New password must not be one recently used.",
		nativeauth.SuberrorPasswordIsInvalid:    "New password contains characters that are not allowed.",
	}
	e := newErr(nativeauth.ErrInvalidGrant, nativeauth.CodePasswordTooWeak, msgs[sub])
	e.Suberror = sub
	return e
}

func errOTP(expired bool) *apiError {
	e := newErr(nativeauth.ErrInvalidGrant, nativeauth.CodeOTPInvalid, "Unable to validate the otp.")
	if expired {
		e.Code, e.Message = nativeauth.CodeOTPExpired, "The otp is already expired."
	}
	e.Suberror = nativeauth.SuberrorInvalidOOBValue
	return e
}

// errOTPAttempts answers an oob value past the attempt limit. It is still
// invalid_grant + invalid_oob_value, which every SDK reads as "wrong code"
// in every flow and answers by offering to resend (a new challenge with the
// same continuation token), the one way out; expired_token would make
// them drop the flow.
func errOTPAttempts() *apiError {
	e := newErr(nativeauth.ErrInvalidGrant, nativeauth.CodeOTPInvalid,
		"Too many invalid one-time passcode attempts. Request a new code.")
	e.Suberror = nativeauth.SuberrorInvalidOOBValue
	return e
}

func errWrongGrant(gt nativeauth.GrantType) *apiError {
	return newErr(nativeauth.ErrInvalidGrant, codeInvalidOrExpiredTokens,
		fmt.Sprintf("The grant_type '%s' is not valid for this step of the flow.", sanitizeEcho(string(gt))))
}

// sanitizeEcho keeps echoed request values short and printable so an error
// description never carries a secret-sized blob or control characters.
func sanitizeEcho(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
