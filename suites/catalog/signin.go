package catalog

import (
	"slices"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

const (
	siInitiate  = nativeauth.EndpointSignInInitiate
	siChallenge = nativeauth.EndpointSignInChallenge
)

func signInEntries() []Entry {
	out := []Entry{
		entry("signin.initiate.success", "initiate for an existing user answers a continuation token", KindSuccess, siInitiate, TriggerValid,
			bothPages(pwSIInitiate+success, otpSIInitiate+success, ctRow),
			triggerSays(startValid+"; the username is an existing user's"),
			needs(profile.CapExistingUser), fields(ctField), absent("challenge_type")),
		entry("signin.initiate.redirect", "initiate with only the redirect challenge type answers redirect", KindRedirect, siInitiate, TriggerRedirectOnly,
			bothPages(pwSIInitiate+success, otpSIInitiate+success, redirect),
			needs(profile.CapExistingUser), fields(redirectFields...), absent("continuation_token")),
		missingClientID.at("signin.initiate", siInitiate,
			bothPages(pwSIInitiate+errResp, otpSIInitiate+errResp, "or the request didn't include client_id parameter the client ID value is empty or invalid.")),
		invalidChallengeType.at("signin.initiate", siInitiate,
			bothPages(pwSIInitiate+errResp, otpSIInitiate+errResp, rowInvalidRequestCTInvald)),
		unknownClientID.at("signin.initiate", siInitiate,
			bothPages(pwSIInitiate+errResp, otpSIInitiate+errResp, rowUnauthorizedClient)),
		confidentialClient.at("signin.initiate", siInitiate,
			bothPages(pwSIInitiate+errResp, otpSIInitiate+errResp, rowInvalidClient),
			needs(profile.CapConfidentialClient)),
		disabledClient.at("signin.initiate", siInitiate,
			bothPages(pwSIInitiate+errResp, otpSIInitiate+errResp, rowDisabled),
			needs(profile.CapDisabledClient)),
		errEntry("signin.initiate.error.user_not_found", "user_not_found for an email no user has", siInitiate, nativeauth.ErrUserNotFound, "", TriggerUsernameUnknown,
			bothPages(pwSIInitiate+errResp, otpSIInitiate+errResp, rowUserNotFound)),
		noRedirect.at("signin.initiate", siInitiate,
			bothPages(pwSIInitiate+errResp, otpSIInitiate+errResp, rowUnsupportedChallenge),
			needs(profile.CapExistingUser), accept(nativeauth.ErrInvalidRequest),
			note("Contradiction: this step's example error is \"invalid_request\" with \"AADSTS901007: The challenge_type list parameter does not include the 'redirect' type.\" (error_codes [901007]) while the table says unsupported_challenge_type; both are accepted.")),

		entry("signin.challenge.password.success", "challenge for a password user answers password", KindSuccess, siChallenge, TriggerValid,
			src(pw(pwSIChallenge+success, `"challenge_type": "password"`)),
			methods(nativeauth.SignUpMethodPassword), needs(profile.CapSignInPassword),
			fields(val("challenge_type", string(nativeauth.ChallengeTypePassword)), ctField),
			note("The sign-in endpoint table says /challenge \"sends a one-time passcode\" on every call, but for a password user it answers password and sends nothing.")),
		entry("signin.challenge.oob.success", "challenge for a passcode user sends a one-time passcode and answers oob", KindSuccess, siChallenge, TriggerValid,
			src(otp(otpSIChallenge+success, `"challenge_type": "oob",`)),
			methods(nativeauth.SignUpMethodOTP), needs(profile.CapSignInOTP), fields(oobChallengeFields(false)...),
			note("The example writes \"binding_method\": \"prompt \" and the key \"challenge_target_label \" with trailing spaces and has no interval; the parameter table (binding_method is prompt) is followed and interval is not required.")),
		entry("signin.challenge.redirect", "challenge with only the redirect challenge type answers redirect", KindRedirect, siChallenge, TriggerRedirectOnly,
			bothPages(pwSIChallenge+success, otpSIChallenge+success, redirect),
			needs(profile.CapExistingUser), fields(redirectFields...), absent("continuation_token")),
		errEntry("signin.challenge.error.invalid_request", "invalid_request for an invalid challenge type", siChallenge, nativeauth.ErrInvalidRequest, "", TriggerChallengeTypeInvalid,
			bothPages(pwSIChallenge+errResp, otpSIChallenge+errResp, rowInvalidRequestCTInvald),
			needs(profile.CapExistingUser)),
		tamperedToken.at("signin.challenge", siChallenge,
			src(pw(pwSIChallenge+errResp, "invalid_grant The continuation token included in the request isn't valid."),
				otp(otpSIChallenge+errResp, "invalid_grant The continuation token isn't valid.")),
			needs(profile.CapExistingUser), accept(nativeauth.ErrInvalidRequest),
			note("Contradiction: both tables give invalid_grant for an invalid continuation token, but the OTP page's invalid_request row on the same table also covers \"continuation token validation failed\"; both are accepted.")),
		expiredToken.at("signin.challenge", siChallenge,
			src(pw(pwSIChallenge+errResp, rowExpiredLong), otp(otpSIChallenge+errResp, rowExpiredShort)),
			needs(profile.CapExistingUser, profile.CapClock)),
		noRedirect.at("signin.challenge", siChallenge,
			bothPages(pwSIChallenge+errResp, otpSIChallenge+errResp, rowUnsupportedChallenge),
			needs(profile.CapExistingUser), accept(nativeauth.ErrInvalidRequest),
			note("Contradiction: the example is invalid_request for exactly this case; both are accepted.")),
	}
	// The initiate table's other client-ID cases go after its entries.
	at := slices.IndexFunc(out, func(e Entry) bool { return e.Endpoint != siInitiate })
	return slices.Insert(out, at, clientIDEntries("signin.initiate", siInitiate,
		[]Source{pw(pwSIInitiate+errResp, clientIDClause), otp(otpSIInitiate+errResp, clientIDClause)})...)
}
