package catalog

import (
	"net/http"
	"slices"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

const (
	rsStart     = nativeauth.EndpointResetStart
	rsChallenge = nativeauth.EndpointResetChallenge
	rsContinue  = nativeauth.EndpointResetContinue
	rsSubmit    = nativeauth.EndpointResetSubmit
	rsPoll      = nativeauth.EndpointResetPollCompletion
)

// Every SSPR entry needs a tenant with SSPR and a user to reset; only the
// password page documents SSPR.
var ssprBase = []opt{methods(nativeauth.SignUpMethodPassword), needs(profile.CapSSPR, profile.CapExistingUser)}

func sspr(o ...opt) []opt { return append(append([]opt(nil), ssprBase...), o...) }

func ssprEntries() []Entry {
	return slices.Concat(ssprStartEntries(), ssprContinueEntries(), ssprPollEntries())
}

// ssprStartEntries are the entries of reset start and challenge.
func ssprStartEntries() []Entry {
	out := []Entry{
		entry("sspr.start.success", "reset start for an existing user answers a continuation token", KindSuccess, rsStart, TriggerValid,
			sspr(src(pw(pwSSPRStart+success, ctRow)), triggerSays(startValid+"; the username is an existing user's"), fields(ctField), absent("challenge_type"))...),
		entry("sspr.start.redirect", "reset start with only the redirect challenge type answers redirect", KindRedirect, rsStart, TriggerRedirectOnly,
			sspr(src(pw(pwSSPRStart+success, redirect)), fields(redirectFields...), absent("continuation_token"))...),
		missingClientID.at("sspr.start", rsStart,
			sspr(src(pw(pwSSPRStart+errResp, "or the request didn't include client_id parameter the client ID value is empty or invalid.")))...),
		invalidChallengeType.at("sspr.start", rsStart,
			sspr(src(pw(pwSSPRStart+errResp, rowInvalidRequestCTInvald)))...),
		errEntry("sspr.start.error.user_not_found", "user_not_found for an email no user has", rsStart, nativeauth.ErrUserNotFound, "", TriggerUsernameUnknown,
			src(pw(pwSSPRStart+errResp, rowUserNotFound)), methods(nativeauth.SignUpMethodPassword), needs(profile.CapSSPR),
			note("The answer tells an anonymous caller whether an account exists; the page documents it, so it is checked.")),
		noRedirect.at("sspr.start", rsStart,
			sspr(src(pw(pwSSPRStart+errResp, rowUnsupportedChallenge)), accept(nativeauth.ErrInvalidRequest),
				note("Contradiction: this step's example error is invalid_request for exactly this case (AADSTS901007, \"does not include the 'redirect' type\"); both are accepted."))...),
		confidentialClient.at("sspr.start", rsStart,
			sspr(src(pw(pwSSPRStart+errResp, rowInvalidClient)), needs(profile.CapConfidentialClient))...),
		disabledClient.at("sspr.start", rsStart,
			sspr(src(pw(pwSSPRStart+errResp, rowDisabled)), needs(profile.CapDisabledClient))...),
		unknownClientID.at("sspr.start", rsStart,
			sspr(src(pw(pwSSPRStart+errResp, rowUnauthorizedClient)))...),
	}
	out = append(out, clientIDEntries("sspr.start", rsStart, []Source{pw(pwSSPRStart+errResp, clientIDClause)}, ssprBase...)...)
	return append(out, []Entry{

		entry("sspr.challenge.oob.success", "reset challenge sends a one-time passcode and answers oob", KindSuccess, rsChallenge, TriggerValid,
			sspr(src(pw(pwSSPRChallenge+success, `"challenge_type": "oob",`)), fields(oobChallengeFields(false)...),
				note("The example writes \"binding_method\": \"prompt \" and the key \"challenge_target_label \" with trailing spaces and has no interval (the sign-up example has one); the parameter table is followed and interval is not required."))...),
		entry("sspr.challenge.redirect", "reset challenge with only the redirect challenge type answers redirect", KindRedirect, rsChallenge, TriggerRedirectOnly,
			sspr(src(pw(pwSSPRChallenge+success, redirect)), fields(redirectFields...), absent("continuation_token"))...),
		errEntry("sspr.challenge.error.invalid_request", "invalid_request for an invalid challenge type", rsChallenge, nativeauth.ErrInvalidRequest, "", TriggerChallengeTypeInvalid,
			sspr(src(pw(pwSSPRChallenge+errResp, rowInvalidRequestCTInvald)))...),
		errEntry("sspr.challenge.error.invalid_request.when_continuation_token_invalid", "invalid_request for a continuation token that fails validation", rsChallenge, nativeauth.ErrInvalidRequest, "", TriggerTokenTampered,
			sspr(src(pw(pwSSPRChallenge+errResp, "or continuation token validation failed.")))...),
		expiredToken.at("sspr.challenge", rsChallenge,
			sspr(src(pw(pwSSPRChallenge+errResp, rowExpiredShort)), needs(profile.CapClock))...),
		noRedirect.at("sspr.challenge", rsChallenge,
			sspr(src(pw(pwSSPRChallenge+errResp, rowUnsupportedChallenge)), accept(nativeauth.ErrInvalidRequest),
				note("Contradiction: the example is invalid_request for exactly this case; both are accepted."))...),
	}...)
}

// ssprContinueEntries are the entries of reset continue and submit.
func ssprContinueEntries() []Entry {
	out := []Entry{
		entry("sspr.continue.success", "reset continue with the right passcode answers a continuation token valid at most 600 s", KindSuccess, rsContinue, TriggerSubmitOOB,
			sspr(src(pw(pwSSPRContinue+success, "expires_in Time in seconds before the continuation_token expires. The maximum value of expires_in is 600 seconds.")),
				fields(ctField, num("expires_in", "integer > 0 and <= 600")))...),
		entry("sspr.continue.another_challenge", "reset continue answers a continuation token for /submit or issues another challenge", KindProtocol, rsContinue, TriggerSubmitOOB,
			sspr(src(pw(pwSSPR+" / Self-service password reset API endpoints", "/continue Validates the challenge issued by the /challenge endpoint, then either returns a continuation token for the /submit endpoint, or issues another challenge to the user.")),
				status(http.StatusOK), fields(ctField),
				inferred("the page names another challenge as a possible answer but shows neither its shape nor what provokes it; such an answer is checked as the challenge endpoints' answers are"),
				note("No request the pages document provokes another challenge, so the spec sends the right passcode and accepts either answer: the token for /submit (whose members sspr.continue.success checks) or a challenge answer, checked like a /challenge answer (oob or password)."))...),
		errEntry("sspr.continue.error.invalid_request", "invalid_request for a continuation token that fails validation", rsContinue, nativeauth.ErrInvalidRequest, "", TriggerTokenTampered,
			sspr(src(pw(pwSSPRContinue+errResp, "invalid_request Request parameter validation failed such as a validation of continuation token failed")),
				codes(nativeauth.CodeInvalidContinuationAlt))...),
		errEntry("sspr.continue.error.invalid_request.when_client_id_missing", "invalid_request without client_id", rsContinue, nativeauth.ErrInvalidRequest, "", TriggerMissingClientID,
			sspr(src(pw(pwSSPRContinue+errResp, clientIDClause)))...),
		errEntry("sspr.continue.error.invalid_request.when_sspr_disabled", "invalid_request when the tenant has not enabled SSPR and email one-time passcode", rsContinue, nativeauth.ErrInvalidRequest, "", TriggerSSPRDisabled,
			src(pw(pwSSPRContinue+errResp, "or the external tenant administrator hasn't enabled SSPR and email OTP for all tenant users.")),
			methods(nativeauth.SignUpMethodPassword), needs(profile.CapExistingUser, profile.CapSSPRDisabledTenant),
			note("The page puts this under /continue, after start and challenge already succeeded; a tenant without SSPR may refuse earlier, in which case the spec cannot reach this endpoint and skips.")),
		errEntry("sspr.continue.error.invalid_grant", "invalid_grant for a grant_type other than oob", rsContinue, nativeauth.ErrInvalidGrant, "", TriggerGrantTypeWrong,
			sspr(src(pw(pwSSPRContinue+errResp, "invalid_grant The grant type is unknown or doesn't match the expected grant type value.")))...),
		wrongOOB.at("sspr.continue", rsContinue,
			sspr(src(pw(pwSSPRContinue+errResp, "invalid_oob_value The one-time passcode provided by the user is invalid.")))...),
		expiredToken.at("sspr.continue", rsContinue,
			sspr(src(pw(pwSSPRContinue+errResp, rowExpiredShort)), needs(profile.CapClock))...),

		entry("sspr.submit.success", "reset submit with a valid new password answers a continuation token and poll_interval", KindSuccess, rsSubmit, TriggerSubmitPassword,
			sspr(src(pw(pwSSPRSubmit+success, "poll_interval The minimum amount of time in seconds that the app should wait between polling requests")),
				triggerSays("submit a new password that meets the policy in new_password with the token of /continue (/submit takes no grant_type)"),
				fields(ctField, num("poll_interval", "integer >= 0, seconds")))...),
		entry("sspr.submit.success.after_poll_failed", "reset submit after a failed poll takes a new password and answers a continuation token and poll_interval", KindSuccess, rsSubmit, TriggerResubmitAfterFailed,
			sspr(src(pw(pwSSPRPoll+success, "failed Password reset failed. The app can resubmit the new password by making another request to the /submit endpoint.")),
				needs(profile.CapPollControl), fields(ctField, num("poll_interval", "integer >= 0, seconds")),
				note("The page says the app can resubmit, not with which token; the spec uses the continuation token of the failed poll answer, the one token the app then holds (sspr.poll_completion.status.failed checks it is there)."))...),
		errEntry("sspr.submit.error.invalid_request", "invalid_request for a continuation token that fails validation", rsSubmit, nativeauth.ErrInvalidRequest, "", TriggerTokenTampered,
			sspr(src(pw(pwSSPRSubmit+errResp, "invalid_request Request parameter validation failed such as a validation of continuation token failed.")),
				note("The step's example error is the challenge_type \"does not include the 'redirect' type\" error (AADSTS901007), although /submit takes no challenge_type; it is ignored."))...),
		expiredToken.at("sspr.submit", rsSubmit,
			sspr(src(pw(pwSSPRSubmit+errResp, rowExpiredShort)), needs(profile.CapClock),
				note("The continue answer promises the token lives expires_in (<= 600) seconds; a clock moved past that must give expired_token."))...),
	}
	// The continue table's other client-ID cases go after its entries.
	at := slices.IndexFunc(out, func(e Entry) bool { return e.Endpoint != rsContinue })
	out = slices.Insert(out, at, clientIDEntries("sspr.continue", rsContinue, []Source{pw(pwSSPRContinue+errResp, clientIDClause)}, ssprBase...)...)
	submit := passwordPolicyEntries("sspr.submit", rsSubmit, pwSSPRSubmit+errResp, ssprBase...)
	for i := range submit {
		// Only a user with a password has one to reuse: on a passcode
		// tenant the reset needs a password user.
		if submit[i].ID == "sspr.submit.error.invalid_grant."+string(nativeauth.SuberrorPasswordRecentlyUsed) {
			submit[i].Needs = append(submit[i].Needs, profile.CapSignInPassword)
		}
	}
	out = append(out, submit...)

	return out
}

// ssprPollEntries are the entries of poll_completion.
func ssprPollEntries() []Entry {
	var out []Entry
	pollSection := pwSSPRPoll + success
	out = append(out,
		entry("sspr.poll_completion.status.succeeded", "poll_completion answers succeeded and a continuation token once the reset is done", KindStatus, rsPoll, TriggerPollAfterSubmit,
			sspr(src(pw(pollSection, "succeeded Password reset completed successfully.")),
				fields(val("status", string(nativeauth.PollStatusSucceeded)), ctField), pollStatus(nativeauth.PollStatusSucceeded))...),
		entry("sspr.poll_completion.status.failed", "poll_completion answers failed and a continuation token to submit again", KindStatus, rsPoll, TriggerPollFailed,
			sspr(src(pw(pollSection, "failed Password reset failed. The app can resubmit the new password by making another request to the /submit endpoint.")),
				needs(profile.CapPollControl), fields(val("status", string(nativeauth.PollStatusFailed)), ctField), pollStatus(nativeauth.PollStatusFailed))...),
		entry("sspr.poll_completion.status.not_started", "poll_completion answers not_started before the reset starts", KindStatus, rsPoll, TriggerPollNotStarted,
			sspr(src(pw(pollSection, "not_started Password reset hasn't started. The app can check the status again later.")),
				needs(profile.CapPollControl), fields(val("status", string(nativeauth.PollStatusNotStarted))), pollStatus(nativeauth.PollStatusNotStarted))...),
		entry("sspr.poll_completion.status.in_progress", "poll_completion answers in_progress while the reset runs", KindStatus, rsPoll, TriggerPollInProgress,
			sspr(src(pw(pollSection, "in_progress Password reset is in progress. The app can check the status again later.")),
				needs(profile.CapPollControl), fields(val("status", string(nativeauth.PollStatusInProgress))), pollStatus(nativeauth.PollStatusInProgress),
				note("A tenant may show in_progress on its own right after submit, but not reliably; the spec needs a target that can hold the reset."))...),
		errEntry("sspr.poll_completion.error.invalid_request", "invalid_request for a continuation token that fails validation", rsPoll, nativeauth.ErrInvalidRequest, "", TriggerTokenTampered,
			sspr(src(pw(pwSSPRPoll+errResp, "invalid_request Request parameter validation failed such as validation of continuation token failed.")))...),
		expiredToken.at("sspr.poll_completion", rsPoll,
			sspr(src(pw(pwSSPRPoll+errResp, `"error": "expired_token",`)), needs(profile.CapClock), codes(552003),
				normNote("The example shows error_codes [552003] with an AADSTS901007 description; SDKs see 55112. Codes are recorded, not checked."))...),
	)
	return out
}

func pollStatus(s nativeauth.PollStatus) opt { return func(e *Entry) { e.Expect.PollStatus = s } }
