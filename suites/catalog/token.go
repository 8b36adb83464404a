package catalog

import (
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

const token = nativeauth.EndpointToken

const rowTokenIssued = "token_type Indicates the token type value. The only type that Microsoft Entra supports is Bearer."

// tokenScopeNote is on every token success: what the spec must request.
const tokenScopeNote = "The spec requests scope \"openid offline_access\" (plus the target's API scopes) so that id_token and refresh_token are due; the pages name the member \"scopes\" in the parameter tables of the password page and \"scope\" in every example, and \"scope\" is checked."

func tokenEntries() []Entry {
	return []Entry{
		// After sign-up: grant_type=continuation_token.
		entry("signup.token.success", "token with the last sign-up continuation token issues tokens", KindSuccess, token, TriggerTokenAfterSignUp,
			bothPages(pwSUToken+tokenOK, otpSUToken+tokenOK, rowTokenIssued),
			flows(FlowSignUp), fields(tokenFields()...), note(tokenScopeNote)),
		errEntry("signup.token.error.invalid_request", "invalid_request for scopes the client has no consent for", token, nativeauth.ErrInvalidRequest, "", TriggerScopeNotConsented,
			bothPages(pwSUToken+errResp, otpSUToken+errResp, "invalid_request Request parameter validation failed such as the client/app doesn't have consent for the requested scopes."),
			flows(FlowSignUp), needs(profile.CapScopeUnconsented), codes(nativeauth.CodeInvalidCredentials),
			note("The example pairs \"AADSTS901007: The client doesn't have consent for the requested scopes\" with error_codes [50126], the invalid-credentials code; codes are recorded, not checked.")),
		tamperedToken.at("signup.token", token,
			bothPages(pwSUToken+errResp, otpSUToken+errResp, "invalid_grant The continuation token included in the request is invalid."),
			flows(FlowSignUp)),
		errEntry("signup.token.error.unauthorized_client", "unauthorized_client for a client ID that does not exist", token, nativeauth.ErrUnauthorizedClient, "", TriggerUnknownClientID,
			bothPages(pwSUToken+errResp, otpSUToken+errResp, "unauthorized_client The client ID included in the request is invalid or doesn't exist."),
			flows(FlowSignUp)),
		errEntry("signup.token.error.unsupported_grant_type", "unsupported_grant_type for an unknown grant_type", token, nativeauth.ErrUnsupportedGrantType, "", TriggerGrantTypeUnknown,
			bothPages(pwSUToken+errResp, otpSUToken+errResp, "unsupported_grant_type The grant type included in the request isn't supported or is incorrect."),
			flows(FlowSignUp), accept(nativeauth.ErrInvalidGrant),
			note("Contradiction: the sign-in token tables say an unknown grant type is invalid_grant; the same /token endpoint cannot know which flow an unknown grant belongs to, so both are accepted.")),

		// Sign-in: grant_type=password and grant_type=oob.
		entry("signin.token.password.success", "token with the user's password issues tokens", KindSuccess, token, TriggerSubmitPassword,
			src(pw(pwSIToken+tokenOK, rowTokenIssued)),
			flows(FlowSignIn), methods(nativeauth.SignUpMethodPassword), needs(profile.CapSignInPassword), fields(tokenFields()...), note(tokenScopeNote),
			triggerSays("call /token with grant_type=password, the username and the user's correct password, and the token of /challenge")),
		entry("signin.token.oob.success", "token with the one-time passcode issues tokens", KindSuccess, token, TriggerSubmitOOB,
			src(otp(otpSIToken+tokenOK, rowTokenIssued)),
			flows(FlowSignIn), methods(nativeauth.SignUpMethodOTP), needs(profile.CapSignInOTP), fields(tokenFields()...), note(tokenScopeNote)),
		errEntry("signin.token.error.invalid_request", "invalid_request for a request that fails parameter validation", token, nativeauth.ErrInvalidRequest, "", TriggerTokenMissing,
			bothPages(pwSIToken+errResp, otpSIToken+errResp, "invalid_request Request parameter validation failed. To understand what happened, use the message in the error description."),
			flows(FlowSignIn), needs(profile.CapExistingUser),
			note("The table gives no example of a failing parameter; a missing continuation_token is the plainest one.")),
		errEntry("signin.token.error.invalid_grant", "invalid_grant for a wrong password", token, nativeauth.ErrInvalidGrant, "", TriggerPasswordWrong,
			src(pw(pwSIToken+errResp, "customer user sign in credentials included in the request are invalid")),
			flows(FlowSignIn), methods(nativeauth.SignUpMethodPassword), needs(profile.CapSignInPassword), codes(nativeauth.CodeInvalidCredentials),
			normNote("The example shows error_codes [50126] (Microsoft's SDKs branch on it for invalid credentials) under an AADSTS901007 description; the code is recorded, not checked.")),
		errEntry("signin.token.error.invalid_grant.when_continuation_token_invalid", "invalid_grant for an invalid continuation token", token, nativeauth.ErrInvalidGrant, "", TriggerTokenTampered,
			bothPages(pwSIToken+errResp, otpSIToken+errResp, "invalid_grant The continuation token included in the request isn't valid or"),
			flows(FlowSignIn), needs(profile.CapExistingUser)),
		errEntry("signin.token.error.invalid_grant.when_grant_type_unknown", "invalid_grant for an unknown grant_type", token, nativeauth.ErrInvalidGrant, "", TriggerGrantTypeUnknown,
			bothPages(pwSIToken+errResp, otpSIToken+errResp, "or the grant type included in the request is unknown."),
			flows(FlowSignIn), needs(profile.CapExistingUser), accept(nativeauth.ErrUnsupportedGrantType),
			note("Contradiction: the sign-up token table gives unsupported_grant_type for the same request; both are accepted.")),
		wrongOOB.at("signin.token", token,
			src(otp(otpSIToken+errResp, "invalid_oob_value The value of one-time passcode is invalid.")),
			flows(FlowSignIn), methods(nativeauth.SignUpMethodOTP), needs(profile.CapSignInOTP)),
		expiredToken.at("signin.token", token,
			bothPages(pwSIToken+errResp, otpSIToken+errResp, rowExpiredLong),
			flows(FlowSignIn), needs(profile.CapExistingUser, profile.CapClock), codes(552003),
			normNote("The OTP page's example says \"AADSTS55112: The continuation_token is expired.\" but lists error_codes [552003]; SDKs see 55112. Codes are recorded, not checked.")),
		errEntry("signin.token.error.invalid_scope", "invalid_scope for a scope that does not exist", token, nativeauth.ErrInvalidScope, "", TriggerScopeInvalid,
			bothPages(pwSIToken+errResp, otpSIToken+errResp, "invalid_scope One or more of the scoped included in the request are invalid."),
			flows(FlowSignIn), needs(profile.CapExistingUser)),
		confidentialClient.at("signin.token", token,
			src(otp(otpSIToken+errResp, "invalid_client The client ID included in the request isn't for a public client.")),
			flows(FlowSignIn), needs(profile.CapExistingUser, profile.CapConfidentialClient)),

		// Refresh: not documented as a request on these pages.
		entry("signin.token.refresh_token.success", "token with a refresh token issues new tokens", KindSuccess, token, TriggerRefreshToken,
			src(pw(pwSIToken+tokenOK, "refresh_token An OAuth 2.0 refresh token. The app can use this token to acquire other access tokens after the current access token expires.")),
			flows(FlowSignIn), needs(profile.CapExistingUser), fields(tokenFields()...),
			inferred("the pages document no refresh request or answer; the answer is checked with the members of the documented token answers (id_token because openid is asked again) by our reading"),
			note("The pages promise a refresh token \"to acquire other access tokens\" but document no refresh request; the request shape (grant_type=refresh_token, refresh_token, client_id, scope) is RFC 6749 section 6 and Microsoft's SDKs, not these pages. The answer is checked with the token answer's documented members.")),

		// After SSPR: grant_type=continuation_token with the poll token.
		entry("sspr.token.success", "token with the continuation token of a succeeded reset issues tokens", KindSuccess, token, TriggerTokenAfterSSPR,
			src(pw(pwSSPRPoll+success, "If the status is succeeded, the app can use the continuation token that Microsoft Entra returns to request for security tokens via the /token endpoint")),
			flows(FlowSSPR), methods(nativeauth.SignUpMethodPassword), needs(profile.CapSSPR, profile.CapExistingUser), fields(tokenFields()...),
			note("The page says to call /token \"as explained in step 5 of sign-up flow\": grant_type=continuation_token with the username. "+tokenScopeNote)),
	}
}
