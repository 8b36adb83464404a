package catalog

import (
	"maps"
	"slices"
	"strings"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

// TriggerName is how a spec provokes an entry, from a fixed vocabulary so
// the suites can switch on it. Each name means one change to the request
// that reaches the entry's endpoint (or one step sequence), whatever the
// endpoint.
type TriggerName string

// Trigger names the way to provoke an entry and says it in words.
type Trigger struct {
	Name        TriggerName `json:"name"`
	Description string      `json:"description"`
}

// The trigger vocabulary. Names shared with suites/conformance keep their
// meaning there.
const (
	// Successes.
	TriggerValid                 TriggerName = "valid" // the documented request of the step, right after the previous step
	TriggerStartWithPasswordAttr TriggerName = "start_with_password_and_attributes"
	TriggerSubmitOOB             TriggerName = "submit_oob"
	TriggerSubmitPassword        TriggerName = "submit_password"
	TriggerSubmitAttributes      TriggerName = "submit_attributes"
	TriggerChallengeForPassword  TriggerName = "challenge_after_credential_required"
	TriggerTokenAfterSignUp      TriggerName = "token_after_signup"
	TriggerTokenAfterSSPR        TriggerName = "token_after_sspr"
	TriggerRefreshToken          TriggerName = "refresh_token_grant"
	TriggerPollAfterSubmit       TriggerName = "poll_after_submit"
	TriggerPollFailed            TriggerName = "poll_failed"
	TriggerPollNotStarted        TriggerName = "poll_not_started"
	TriggerPollInProgress        TriggerName = "poll_in_progress"
	TriggerRedirectOnly          TriggerName = "challenge_type_redirect_only"
	TriggerRedirectForced        TriggerName = "redirect_forced"
	TriggerScopeWithoutOpenID    TriggerName = "scope_without_openid"
	TriggerScopeWithoutOffline   TriggerName = "scope_without_offline_access"
	TriggerAttributeUnknown      TriggerName = "attribute_unknown"
	TriggerSignUpComplete        TriggerName = "signup_complete"
	TriggerResubmitAfterFailed   TriggerName = "resubmit_after_poll_failed"
	TriggerAttributesBeforeCode  TriggerName = "attributes_before_verification"

	// Client identity.
	TriggerMissingClientID    TriggerName = "missing_client_id"
	TriggerUnknownClientID    TriggerName = "unknown_client_id"
	TriggerDisabledClient     TriggerName = "disabled_client"
	TriggerConfidentialClient TriggerName = "confidential_client"
	TriggerClientIDEmpty      TriggerName = "client_id_empty"
	TriggerClientIDMalformed  TriggerName = "client_id_malformed"

	// Request parameters.
	TriggerChallengeTypeWithoutRedirect TriggerName = "challenge_type_without_redirect"
	TriggerChallengeTypeInvalid         TriggerName = "challenge_type_invalid"
	TriggerUsernameUnknown              TriggerName = "username_unknown"
	TriggerUsernameExists               TriggerName = "username_exists"
	TriggerUsernameRegisteredMeanwhile  TriggerName = "username_registered_meanwhile"
	TriggerGrantTypeUnknown             TriggerName = "grant_type_unknown"
	TriggerGrantTypeWrong               TriggerName = "grant_type_wrong"
	TriggerScopeInvalid                 TriggerName = "scope_invalid"
	TriggerScopeNotConsented            TriggerName = "scope_not_consented"

	// Continuation tokens.
	TriggerTokenMissing   TriggerName = "continuation_token_missing"
	TriggerTokenTampered  TriggerName = "continuation_token_tampered"
	TriggerTokenReplayed  TriggerName = "continuation_token_replayed"
	TriggerTokenOtherFlow TriggerName = "continuation_token_other_flow"
	TriggerTokenOtherStep TriggerName = "continuation_token_other_step"
	TriggerTokenExpired   TriggerName = "continuation_token_expired"

	// Credentials and attributes.
	TriggerOOBWrong             TriggerName = "oob_wrong"
	TriggerOOBExpired           TriggerName = "oob_expired"
	TriggerOOBSuperseded        TriggerName = "oob_superseded"
	TriggerOOBAttemptsExceeded  TriggerName = "oob_attempts_exceeded"
	TriggerPasswordWrong        TriggerName = "password_wrong"
	TriggerPasswordTooShort     TriggerName = "password_too_short"
	TriggerPasswordTooLong      TriggerName = "password_too_long"
	TriggerPasswordTooWeak      TriggerName = "password_too_weak"
	TriggerPasswordBanned       TriggerName = "password_banned"
	TriggerPasswordInvalidChars TriggerName = "password_invalid_characters"
	TriggerPasswordRecentlyUsed TriggerName = "password_recently_used"
	TriggerCredentialNotSent    TriggerName = "credential_not_submitted"
	TriggerAttributesMissing    TriggerName = "attributes_missing"
	TriggerAttributeInvalid     TriggerName = "attribute_invalid"
	TriggerVerificationSkipped  TriggerName = "verification_skipped"
	TriggerEmailOTPDisabled     TriggerName = "email_otp_disabled"
	TriggerSSPRDisabled         TriggerName = "sspr_disabled"
	TriggerUserCreationFails    TriggerName = "user_creation_fails"

	// Protocol.
	TriggerAnyRequest    TriggerName = "any_request"
	TriggerAnyError      TriggerName = "any_error"
	TriggerCORSOrigin    TriggerName = "cors_origin"
	TriggerCORSPreflight TriggerName = "cors_preflight"
)

// triggerDescriptions is the default wording of each trigger; an entry may
// say more for its endpoint.
var triggerDescriptions = map[TriggerName]string{
	TriggerValid:                        "send the documented request of this step, with the continuation token of the step before",
	TriggerStartWithPasswordAttr:        "start sign-up sending username, password and every required attribute at once (Example 2)",
	TriggerSubmitOOB:                    "submit the one-time passcode that the last challenge sent (grant_type=oob)",
	TriggerSubmitPassword:               "submit a password that meets the policy (grant_type=password)",
	TriggerSubmitAttributes:             "submit every required attribute with valid values (grant_type=attributes)",
	TriggerChallengeForPassword:         "after credential_required, call /signup/v1.0/challenge again with the token it returned",
	TriggerTokenAfterSignUp:             "call /token with grant_type=continuation_token, the username and the token of the last sign-up step",
	TriggerTokenAfterSSPR:               "call /token with grant_type=continuation_token and the token of a succeeded poll_completion",
	TriggerRefreshToken:                 "call /token with grant_type=refresh_token and a refresh token issued with offline_access",
	TriggerPollAfterSubmit:              "poll /poll_completion after submit, waiting poll_interval between calls, until the status is final",
	TriggerPollFailed:                   "make the reset fail after submit (target backdoor), then poll",
	TriggerPollNotStarted:               "poll before the reset has started (target backdoor holds it)",
	TriggerPollInProgress:               "poll while the reset is in progress (target backdoor holds it)",
	TriggerRedirectOnly:                 "send challenge_type=redirect only, so the app supports no method the tenant offers",
	TriggerRedirectForced:               "make the tenant require a method the app did not advertise at an earlier step; no parameter of this endpoint provokes it",
	TriggerScopeWithoutOpenID:           "request tokens without the openid scope",
	TriggerScopeWithoutOffline:          "request tokens without the offline_access scope",
	TriggerAttributeUnknown:             "send an attribute name the tenant does not define, next to valid data",
	TriggerSignUpComplete:               "run a whole sign-up and sign-in and read every answer",
	TriggerMissingClientID:              "omit client_id",
	TriggerUnknownClientID:              "send a well-formed client_id (a fresh GUID) that the tenant does not know",
	TriggerDisabledClient:               "send the client_id of an app registered without native authentication enabled",
	TriggerConfidentialClient:           "send the client_id of an app that is not a public client",
	TriggerChallengeTypeWithoutRedirect: "send a challenge_type list without redirect",
	TriggerChallengeTypeInvalid:         "send a challenge_type list with an unknown method next to redirect",
	TriggerUsernameUnknown:              "send a well-formed email that no user has",
	TriggerUsernameExists:               "send the email of an existing user",
	TriggerUsernameRegisteredMeanwhile:  "complete another sign-up for the same email between this flow's start and this call",
	TriggerGrantTypeUnknown:             "send a grant_type value the endpoint does not know",
	TriggerGrantTypeWrong:               "send a known grant_type that this endpoint does not take",
	TriggerScopeInvalid:                 "request a scope of a resource that does not exist",
	TriggerScopeNotConsented:            "request a scope of an API the client has no consent for",
	TriggerTokenMissing:                 "omit continuation_token",
	TriggerTokenTampered:                "send the step's continuation token with characters changed",
	TriggerTokenReplayed:                "send a continuation token that was already used for this call",
	TriggerTokenOtherFlow:               "send a valid continuation token issued by another flow (sign-in token to sign-up, …)",
	TriggerTokenOtherStep:               "send a valid continuation token of this flow issued for another step",
	TriggerTokenExpired:                 "send a continuation token after its lifetime (target clock backdoor, or wait)",
	TriggerOOBWrong:                     "submit a one-time passcode that was not issued",
	TriggerOOBExpired:                   "submit the issued one-time passcode after its lifetime",
	TriggerOOBSuperseded:                "challenge again, then submit the code of the first challenge",
	TriggerPasswordWrong:                "submit a password that is not the user's",
	TriggerPasswordTooShort:             "submit a password of fewer than 8 characters",
	TriggerPasswordTooLong:              "submit a password of more than 256 characters",
	TriggerPasswordTooWeak:              "submit a long password that misses the complexity rules",
	TriggerPasswordBanned:               "submit a password containing a banned word",
	TriggerPasswordInvalidChars:         "submit a password with disallowed characters",
	TriggerPasswordRecentlyUsed:         "submit the user's current or a recent password",
	TriggerCredentialNotSent:            "start sign-up without a password, then submit the one-time passcode",
	TriggerAttributesMissing:            "reach the point where the account would be created without sending a required attribute",
	TriggerAttributeInvalid:             "submit an attribute value that fails its validation regex",
	TriggerVerificationSkipped:          "submit password or attributes to /continue before the email is verified",
	TriggerEmailOTPDisabled:             "use a tenant where email one-time passcode is not enabled for all users",
	TriggerSSPRDisabled:                 "use a tenant where self-service password reset is not enabled",
	TriggerUserCreationFails:            "make the tenant fail to create the account (target fault injection)",
	TriggerAnyRequest:                   "any request to any endpoint, answered with success, redirect or error",
	TriggerAnyError:                     "any request answered with an error",
	TriggerCORSOrigin:                   "send a POST with an Origin header of another site",
	TriggerCORSPreflight:                "send an OPTIONS preflight with Origin and Access-Control-Request-Method",
	TriggerClientIDEmpty:                "send client_id with an empty value (client_id=)",
	TriggerClientIDMalformed:            "send a client_id that is not a GUID",
	TriggerResubmitAfterFailed:          "make the reset fail (target backdoor), poll until failed, then submit a new password with the token of the failed poll",
	TriggerAttributesBeforeCode:         "start without attributes, submit every required attribute to /continue before the passcode (grant_type=attributes), then submit the passcode with the token that answer carries",
	TriggerOOBAttemptsExceeded:          "send as many wrong oob values on one continuation token as the target's attempt limit (the emulator's otp.max_attempts, 10 by default), then the right code",
}

// Triggers returns the trigger vocabulary, sorted.
func Triggers() []TriggerName { return slices.Sorted(maps.Keys(triggerDescriptions)) }

// TriggerDescription is the default wording of a trigger ("" if unknown).
func TriggerDescription(n TriggerName) string { return triggerDescriptions[n] }

// endpointNames are the short names used in IDs and labels, in the order of
// nativeauth.Endpoints.
var endpointNames = map[nativeauth.Endpoint]string{
	nativeauth.EndpointSignUpStart:         "signup.start",
	nativeauth.EndpointSignUpChallenge:     "signup.challenge",
	nativeauth.EndpointSignUpContinue:      "signup.continue",
	nativeauth.EndpointSignInInitiate:      "signin.initiate",
	nativeauth.EndpointSignInChallenge:     "signin.challenge",
	nativeauth.EndpointToken:               "token",
	nativeauth.EndpointResetStart:          "sspr.start",
	nativeauth.EndpointResetChallenge:      "sspr.challenge",
	nativeauth.EndpointResetContinue:       "sspr.continue",
	nativeauth.EndpointResetSubmit:         "sspr.submit",
	nativeauth.EndpointResetPollCompletion: "sspr.poll_completion",
	nativeauth.EndpointSignInIntrospect:    "signin.introspect",
	nativeauth.EndpointRegisterIntrospect:  "register.introspect",
	nativeauth.EndpointRegisterChallenge:   "register.challenge",
	nativeauth.EndpointRegisterContinue:    "register.continue",
}

// EndpointName is the short name of a flow endpoint ("signup.start"), or ""
// for an endpoint the catalog does not know.
func EndpointName(ep nativeauth.Endpoint) string { return endpointNames[ep] }

// Label vocabulary. It is frozen: a label filter written today must select
// the same entries next year, so labels are only ever added.
const (
	LabelSlow = "slow" // the spec may wait minutes in real time
)

var labelVocabulary = []string{
	"flow:signup", "flow:signin", "flow:sspr", "flow:protocol",
	"method:password", "method:otp",
	"kind:success", "kind:redirect", "kind:error", "kind:status", "kind:code", "kind:protocol",
	"endpoint:signup.start", "endpoint:signup.challenge", "endpoint:signup.continue",
	"endpoint:signin.initiate", "endpoint:signin.challenge", "endpoint:token",
	"endpoint:sspr.start", "endpoint:sspr.challenge", "endpoint:sspr.continue",
	"endpoint:sspr.submit", "endpoint:sspr.poll_completion",
	"needs:backdoor",
	"needs:disabled-client", "needs:confidential-client",
	"needs:backdoor-clock", "needs:backdoor-poll", "needs:backdoor-faults",
	"needs:signup-password", "needs:signup-otp", "needs:signin-password", "needs:signin-otp",
	"needs:sspr", "needs:required-attributes", "needs:attribute-regex", "needs:existing-user",
	"needs:password-policy-banned", "needs:password-history", "needs:scope-unconsented",
	"needs:tenant-email-otp-disabled", "needs:tenant-sspr-disabled",
	"normative:partial",
	// Added with the 2026-02 revision.
	"endpoint:signin.introspect", "endpoint:register.introspect", "endpoint:register.challenge", "endpoint:register.continue",
	"needs:tenant-mfa", "needs:tenant-no-mfa", "revision:2026-02",
	LabelSlow,
}

// Labels returns the frozen label vocabulary, sorted.
func Labels() []string {
	out := slices.Clone(labelVocabulary)
	slices.Sort(out)
	return out
}

// NeedsLabel is the label of a capability: "needs:" and the capability with
// ':' spelled '-', because Ginkgo reads the first ':' as a label-set key.
func NeedsLabel(c profile.Capability) string {
	return "needs:" + strings.ReplaceAll(string(c), ":", "-")
}
