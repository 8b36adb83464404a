package catalog

import (
	"net/http"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

const (
	pwTitle  = "Native authentication with email and password API reference"
	otpTitle = "Native authentication with email one-time passcode API reference"
	ctHead   = "Continuation token"
	noCORS   = "Currently, the native authentication API endpoints don't support Cross-Origin Resource Sharing (CORS)."
)

func proto(o ...opt) []opt { return append([]opt{flows(FlowProtocol)}, o...) }

func protocolEntries() []Entry {
	return append(answerShapeEntries(), flowStateEntries()...)
}

// answerShapeEntries are the rules every answer of a kind follows: its
// media type, no CORS, the error and redirect bodies, and which tokens the
// scopes give.
func answerShapeEntries() []Entry {
	return []Entry{
		entry("protocol.content_type_json", "every answer is JSON with Content-Type application/json", KindProtocol, "", TriggerAnyRequest,
			proto(src(pw(pwTitle, "All responses from the API are in a JSON format."), otp(otpTitle, "All responses from the API are in a JSON format."),
				pw(pwSUStart+success, "Content-Type: application/json")),
				headers(Header{Name: "Content-Type", Value: "application/json"}),
				note("Applies to success, redirect and error answers of every endpoint; the media type is compared, parameters such as charset are allowed."))...),
		entry("protocol.no_cors", "no CORS headers on answers to a cross-origin request", KindProtocol, "", TriggerCORSOrigin,
			proto(bothPages(pwTitle+" / Note", otpTitle+" / Note", noCORS),
				headers(Header{Name: "Access-Control-", Absent: true, Prefix: true}))...),
		entry("protocol.no_cors.preflight", "no CORS headers on a preflight OPTIONS request", KindProtocol, "", TriggerCORSPreflight,
			proto(bothPages(pwTitle+" / Note", otpTitle+" / Note", noCORS),
				headers(Header{Name: "Access-Control-", Absent: true, Prefix: true}),
				note("The pages do not say what status a preflight gets; only the absence of Access-Control-* headers is checked, so no browser may call the API."))...),
		entry("protocol.error_body", "every error body carries error, error_description, error_codes, timestamp, trace_id and correlation_id", KindProtocol, "", TriggerAnyError,
			proto(src(pw(pwSUStart+errResp, "trace_id A unique identifier for the request that can help you to diagnose errors."),
				otp(otpSUStart+errResp, "correlation_id A unique identifier for the request that can help in diagnostics across components.")),
				status(http.StatusBadRequest),
				fields(strC("error", "non-empty"), str("error_description"),
					arr("error_codes", "list of integers"), strC("timestamp", "date and time"),
					strC("trace_id", "GUID"), strC("correlation_id", "GUID")),
				note("The examples elide the GUIDs (\"b386ad47-...-0000\") and write timestamps as \"yyyy-mm-dd 10:15:00Z\" or \"yy-mm-dd 02:37:33Z\"; the GUID format follows the full \"Trace ID: b386ad47-23ae-4092-...\" in the descriptions, and the timestamp is only checked to be a date and time. The OTP page's attributes example has \"error\": \"\", which this entry rejects. What is checked of error is only that it is a non-empty string: which value is right is each endpoint's entries' matter, and the catalog itself expects values no table of that endpoint lists (verification_required; unauthorized_client at sign-up continue) where the pages contradict themselves."))...),
		entry("protocol.redirect_shape", "a redirect answer is HTTP 200 with challenge_type redirect and no continuation token", KindProtocol, "", TriggerRedirectOnly,
			proto(bothPages(pwSUStart+success, otpSUStart+success, "This response is considered successful, but the app is required to switch to a web-based authentication flow."),
				status(http.StatusOK), fields(redirectFields...), absent("continuation_token", "error"),
				note("Every redirect example is exactly {\"challenge_type\": \"redirect\"}, so the flow ends there: the Continuation token section's \"the endpoint includes a continuation token in its response\" does not hold for redirects."))...),
		entry("protocol.token.id_token_only_with_openid", "no id_token without the openid scope", KindProtocol, token, TriggerScopeWithoutOpenID,
			proto(src(pw(pwSUToken+tokenOK, "Note: Only issued if openid scope is requested."), otp(otpSIToken+tokenOK, "Note: Only issued if openid scope was requested.")),
				flows(FlowSignIn), needs(profile.CapExistingUser), status(http.StatusOK),
				fields(val("token_type", "Bearer"), strC("access_token", "non-empty")), absent("id_token"))...),
		entry("protocol.token.refresh_token_only_with_offline_access", "no refresh_token without the offline_access scope", KindProtocol, token, TriggerScopeWithoutOffline,
			proto(src(pw(pwSUToken+tokenOK, "Note: Only issued if offline_access scope was requested."), pw(pwSIToken+tokenOK, "Note: Only issued if offline_access scope is requested.")),
				flows(FlowSignIn), needs(profile.CapExistingUser), status(http.StatusOK),
				fields(val("token_type", "Bearer"), strC("access_token", "non-empty")), absent("refresh_token"))...),
	}
}

// flowStateEntries are the rules of the state a flow carries: continuation
// tokens, passcodes and attributes.
func flowStateEntries() []Entry {
	return []Entry{
		tokenRefused("other_flow", "a continuation token of another flow is refused", TriggerTokenOtherFlow,
			"can only be used for the subsequent requests within the same flow.",
			inferred("the rule is stated but not the answer: that the refusal is an error of 400 invalid_request or invalid_grant is our reading of the tables", AspectStatus, AspectError),
			"The pages say a token is only good within its flow but not which error refuses it; the tables call a token that fails validation invalid_request on most endpoints and invalid_grant on some, so either is accepted. The spec posts a sign-in token to each sign-up and SSPR endpoint and back."),
		tokenRefused("other_step", "a continuation token of another step of the same flow is refused", TriggerTokenOtherStep,
			"You must include this token in the subsequent requests in the same flow.",
			inferred("the pages state no rule for a token of another step and document no error for it; the refusal is our reading of \"the subsequent requests\""),
			"Inferred: each answer's token is for \"the subsequent requests\", so a token meant for a later step (for example the reset submit token at /continue, or a sign-up start token at /token) must be refused. The error is not documented; invalid_request and invalid_grant are accepted."),
		tokenRefused("tampered", "a tampered continuation token is refused", TriggerTokenTampered,
			"The continuation token is a unique identifier Microsoft Entra ID uses to maintain state between calls to different endpoints within the same flow.",
			inferred("the Continuation token section states no rule for a forged token; the per-endpoint entries are the tables' rows, this cross-endpoint rule is our reading of them"),
			"Every endpoint that takes a continuation token has a per-endpoint entry for this trigger; this entry states the rule for all of them, so a token is integrity-protected and cannot be forged."),
		tokenRefused("replayed", "a continuation token that was already used is refused", TriggerTokenReplayed,
			"can only be used for the subsequent requests within the same flow.",
			inferred("the pages state no rule for a used token and document no error for it; the refusal is our reading of \"the subsequent requests\""),
			"Inferred: each answer's token is for \"the subsequent requests\", so the token a step consumed cannot drive that step again. The spec completes sign-up /continue with the code, then posts the same form again. Not every reuse is a replay: posting a start token to /challenge again is how the pages resend a code. The error is not documented; invalid_request and invalid_grant are accepted."),
		entry("protocol.continuation_token.expired", "an expired continuation token gives expired_token", KindProtocol, "", TriggerTokenExpired,
			proto(bothPages(ctHead, ctHead, "Each continuation token is valid for a specific period"),
				needs(profile.CapClock), errorIs(nativeauth.ErrExpiredToken),
				note("The sign-up /token table is the only continuation-token table without expired_token; the rule is taken to hold there too."))...),
		entry("protocol.oob.superseded", "a new challenge invalidates the one-time passcode sent before", KindProtocol, token, TriggerOOBSuperseded,
			proto(src(otp(otpSignIn+" / Sign-in flow protocol details", "When Microsoft Entra resends a one-time passcode, it invalidates the previously sent code.")),
				flows(FlowSignIn), methods(nativeauth.SignUpMethodOTP), needs(profile.CapSignInOTP),
				errorIs(nativeauth.ErrInvalidGrant), suberror(nativeauth.SuberrorInvalidOOBValue))...),
		entry("protocol.oob.superseded.signup", "a new sign-up challenge invalidates the passcode sent before", KindProtocol, suContinue, TriggerOOBSuperseded,
			proto(src(pw(pwSUOOB, "To resend a one-time passcode, the app needs to make a request to the /signup/v1.0/challenge endpoint again."),
				otp(otpSignIn+" / Sign-in flow protocol details", "When Microsoft Entra resends a one-time passcode, it invalidates the previously sent code.")),
				flows(FlowSignUp), errorIs(nativeauth.ErrInvalidGrant), suberror(nativeauth.SuberrorInvalidOOBValue),
				inferred("the pages state the invalidation only for sign-in; for sign-up it is our reading"),
				note("Inferred: the pages state the invalidation only for sign-in; for sign-up they only say a resend is a new challenge call. Listed because accepting two live codes would double the guessing window."))...),
		entry("protocol.oob.attempts_exceeded", "after the target's limit of wrong passcodes on one continuation token even the right code is refused until a new challenge", KindProtocol, suContinue, TriggerOOBAttemptsExceeded,
			proto(src(pw(pwSUOOB, "To resend a one-time passcode, the app needs to make a request to the /signup/v1.0/challenge endpoint again."),
				pw(pwSUOOB+" / Response", "invalid_oob_value The value of one-time passcode is invalid.")),
				flows(FlowSignUp), needs(profile.CapBackdoor), errorIs(nativeauth.ErrInvalidGrant), suberror(nativeauth.SuberrorInvalidOOBValue), codes(nativeauth.CodeOTPInvalid),
				inferred("the pages give no limit on passcode attempts: the limit (otp.max_attempts, 10 by default) and the answer past it are the emulator's documented choice (emulator/README.md, Limits), the answer SDKs offer a resend for"),
				note("Guards the guessing window: without a limit, 20,000 guesses on one token then the right code got 200. Provoked at sign-up continue; the emulator applies the same limit to the oob grant at /token and to reset continue. The spec reads the limit through the backdoor, so it skips on a real tenant, whose limit the pages do not give; the code (50181) is recorded, not checked."))...),
		entry("protocol.attributes.unknown_ignored", "an attribute the tenant does not define is ignored", KindProtocol, suStart, TriggerAttributeUnknown,
			proto(src(pw(pwSUStart, "Microsoft Entra ignores any attributes that you submit, which don't exist.")),
				flows(FlowSignUp), status(http.StatusOK), fields(ctField))...),
	}
}

// tokenRefused is a rule of the pages' Continuation token section whose
// refusal they do not name: the tables call a token that fails validation
// invalid_request on most endpoints and invalid_grant on some.
func tokenRefused(name, title string, t TriggerName, quote string, why opt, notes string) Entry {
	return entry("protocol.continuation_token."+name, title, KindProtocol, "", t,
		proto(bothPages(ctHead, ctHead, quote), errorIs(nativeauth.ErrInvalidRequest, nativeauth.ErrInvalidGrant), why, note(notes))...)
}

func headers(h ...Header) opt {
	return func(e *Entry) { e.Expect.Headers = append(e.Expect.Headers, h...) }
}
func status(code int) opt                { return func(e *Entry) { e.Expect.HTTPStatus = code } }
func suberror(s nativeauth.Suberror) opt { return func(e *Entry) { e.Expect.Suberror = s } }

// errorIs sets the expected error (the first) and the alternatives the
// pages leave open, with status 400.
func errorIs(first nativeauth.ErrorCode, also ...nativeauth.ErrorCode) opt {
	return func(e *Entry) {
		e.Expect.HTTPStatus = http.StatusBadRequest
		e.Expect.Error = first
		e.Expect.AlsoAccept = append(e.Expect.AlsoAccept, also...)
	}
}
