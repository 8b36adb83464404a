package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

// A Driver provokes one trigger of the catalog. It gets the flow walked up
// to the entry's endpoint (r, whose Call a conforming tenant accepts) and
// changes that call, or replaces it with one a further walk reached; the
// spec then sends r.Call. A driver that must make the exchange itself
// (another HTTP method, a whole flow) returns the answer to judge, nil
// otherwise. Like a flow, it skips a case the target cannot reach (Skip,
// with the reason) and fails the spec when its setup fails (got, ok).
type Driver func(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response

// drivers is the one table from the catalog's trigger vocabulary to the
// code that provokes it; TestDriversMatchVocabulary keeps the two equal.
// The drivers live with their family: client identity and request
// parameters (drivers_params.go), continuation tokens
// (drivers_tokens.go), credentials and attributes (drivers_credentials.go),
// tenant changes (drivers_tenant.go) and whole flows and protocol rules
// (drivers_flows.go).
var drivers = map[catalog.TriggerName]Driver{
	catalog.TriggerValid:                 valid,
	catalog.TriggerAnyRequest:            valid,
	catalog.TriggerSubmitOOB:             valid,
	catalog.TriggerStartWithPasswordAttr: onlyIf(passwordTenant, needPassword, startWithPasswordAndAttributes),
	catalog.TriggerSubmitPassword:        submitPassword,
	catalog.TriggerSubmitAttributes:      onlyIf(attributesTenant, noRequiredAttribute, submitAttributes),
	catalog.TriggerChallengeForPassword:  onlyIf(passwordTenant, needPassword, challengeAfterCredentialRequired),
	catalog.TriggerTokenAfterSignUp:      tokenAfterSignUp,
	catalog.TriggerTokenAfterSSPR:        tokenAfterSSPR,
	catalog.TriggerRefreshToken:          refreshTokenGrant,
	catalog.TriggerPollAfterSubmit:       pollUntilFinal,
	catalog.TriggerSignUpComplete:        signUpComplete,
	catalog.TriggerCORSOrigin:            corsRequest(false),
	catalog.TriggerCORSPreflight:         corsRequest(true),

	catalog.TriggerAnyError:          clientID(func() string { return "" }, ""),
	catalog.TriggerMissingClientID:   clientID(func() string { return "" }, ""),
	catalog.TriggerUnknownClientID:   clientID(uuid.NewString, ""), // well-formed, known to no tenant
	catalog.TriggerClientIDMalformed: clientID(func() string { return "not-a-client-id" }, ""),
	catalog.TriggerDisabledClient: clientID(func() string { return opened.Caps.DisabledClientID },
		"the target profile names no client with native authentication disabled"),
	catalog.TriggerConfidentialClient: clientID(func() string { return opened.Caps.ConfidentialClientID },
		"the target profile names no confidential client"),
	catalog.TriggerClientIDEmpty: emptyClientID,

	catalog.TriggerChallengeTypeWithoutRedirect: challengeTypesWithoutRedirect,
	catalog.TriggerChallengeTypeInvalid:         both(submitPassword, set(nativeauth.ParamChallengeType, invalidChallengeTypes)),
	catalog.TriggerRedirectOnly:                 set(nativeauth.ParamChallengeType, string(nativeauth.ChallengeTypeRedirect)),
	catalog.TriggerUsernameUnknown:              unknownUsername,
	catalog.TriggerUsernameExists:               existingUsername,
	catalog.TriggerUsernameRegisteredMeanwhile:  registeredMeanwhile,
	catalog.TriggerGrantTypeUnknown:             set(nativeauth.ParamGrantType, "magic"),
	catalog.TriggerGrantTypeWrong:               wrongGrant,
	catalog.TriggerScopeInvalid:                 set(nativeauth.ParamScope, nativeauth.ScopeOpenID+" https://not-a-resource.invalid/.default"),
	catalog.TriggerScopeNotConsented:            scopeNotConsented,
	catalog.TriggerScopeWithoutOpenID:           scopeWithout(nativeauth.ScopeOpenID),
	catalog.TriggerScopeWithoutOffline:          scopeWithout(nativeauth.ScopeOfflineAccess),

	catalog.TriggerMFARequired:          passwordOf(true),
	catalog.TriggerRegistrationRequired: passwordOf(false),
	catalog.TriggerMFAChallenge:         challengeStrongMethod,
	catalog.TriggerSubmitMFAOOB:         submitMFAOOB,
	catalog.TriggerMFAOOBWrong:          both(submitMFAOOB, wrongOOB),
	catalog.TriggerRegisterPreverified:  registerVerifiedEmail,
	catalog.TriggerCapabilityUnknown:    set(nativeauth.ParamCapabilities, string(nativeauth.CapabilityMFARequired)+" teleport"),
	catalog.TriggerCapabilityMissing:    capabilityMissing,
	catalog.TriggerContactInvalid:       set(nativeauth.ParamChallengeTarget, "not-an-email"),
	catalog.TriggerPhoneBlockedByRep: blockedPhone("+15550100666", func(c *backdoor.Config) {
		c.MFA.BlockedNumbers = append(c.MFA.BlockedNumbers, "+15550100666")
	}),
	catalog.TriggerPhoneBlockedByAdmin: blockedPhone("+9995550100", func(c *backdoor.Config) {
		c.MFA.BlockedRegions = append(c.MFA.BlockedRegions, "+999")
	}),

	catalog.TriggerTokenMissing:   set(nativeauth.ParamContinuationToken, ""),
	catalog.TriggerTokenTampered:  tamperedToken,
	catalog.TriggerTokenReplayed:  replayedToken,
	catalog.TriggerTokenOtherFlow: otherFlowToken,
	catalog.TriggerTokenOtherStep: otherStepToken,
	catalog.TriggerTokenExpired:   expiredToken,

	catalog.TriggerOOBWrong:             wrongOOB,
	catalog.TriggerOOBExpired:           expiredOOB,
	catalog.TriggerOOBSuperseded:        supersededOOB,
	catalog.TriggerOOBAttemptsExceeded:  oobAttemptsExceeded,
	catalog.TriggerPasswordWrong:        set(nativeauth.ParamPassword, "Wrong-P4ssword!"),
	catalog.TriggerPasswordTooShort:     password(func(Env) string { return "Aa1!" }),
	catalog.TriggerPasswordTooLong:      password(tooLong),
	catalog.TriggerPasswordTooWeak:      password(tooWeak),
	catalog.TriggerPasswordBanned:       bannedPassword,
	catalog.TriggerPasswordInvalidChars: password(func(Env) string { return "Aa1!\x01\x02bcdefgh" }),
	catalog.TriggerPasswordRecentlyUsed: recentlyUsedPassword,
	catalog.TriggerCredentialNotSent:    onlyIf(passwordTenant, needPassword, credentialNotSubmitted),
	catalog.TriggerAttributesMissing:    onlyIf(attributesTenant, noRequiredAttribute, attributesMissing),
	catalog.TriggerAttributeUnknown:     unknownAttribute,
	catalog.TriggerAttributeInvalid:     invalidAttribute,
	catalog.TriggerVerificationSkipped:  verificationSkipped,
	catalog.TriggerAttributesBeforeCode: onlyIf(attributesTenant, noRequiredAttribute, attributesBeforeVerification),

	catalog.TriggerPollFailed:          pollWith(nativeauth.PollStatusFailed),
	catalog.TriggerResubmitAfterFailed: both(pollWith(nativeauth.PollStatusFailed), resubmitAfterPollFailed),
	catalog.TriggerPollNotStarted:      pollWith(nativeauth.PollStatusNotStarted, nativeauth.PollStatusSucceeded),
	catalog.TriggerPollInProgress:      pollWith(nativeauth.PollStatusInProgress, nativeauth.PollStatusSucceeded),
	catalog.TriggerSSPRDisabled:        ssprDisabled,
	catalog.TriggerRedirectForced:      redirectForced,
	catalog.TriggerUserCreationFails:   userCreationFails,
	catalog.TriggerEmailOTPDisabled:    emailOTPDisabled,
}

// valid sends the reached call as it is: the documented success.
func valid(context.Context, Env, *scenarios.Reached) *nativeauth.Response { return nil }

// set sets one parameter of the reached call ("" removes it).
func set(p nativeauth.Param, value string) Driver {
	return func(_ context.Context, _ Env, r *scenarios.Reached) *nativeauth.Response {
		r.Call.Set(p, value)
		return nil
	}
}

// reached leaves call, which a driver's own walk to p is about to send, to
// be judged.
func reached(r *scenarios.Reached, p *scenarios.Progress, call nativeauth.Call) *nativeauth.Response {
	r.Progress, r.Call = *p, call
	return nil
}

// both runs first, then then on what first left in r.
func both(first, then Driver) Driver {
	return func(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
		if resp := first(ctx, e, r); resp != nil {
			return resp
		}
		return then(ctx, e, r)
	}
}

// changed fails the spec when a change only a backdoor makes failed, and
// skips it, with the reason noBackdoor, on a target without one.
func changed(err error, noBackdoor string) {
	GinkgoHelper()
	if errors.Is(err, errNoBackdoor) {
		Skip(noBackdoor)
	}
	ok(err)
}

// onlyIf runs d when what the spec expects of the tenant holds, and skips
// with the reason why otherwise.
func onlyIf(holds func(profile.Expectations) bool, why string, d Driver) Driver {
	return func(ctx context.Context, e Env, r *scenarios.Reached) *nativeauth.Response {
		if !holds(e.Expect()) {
			Skip(why)
		}
		return d(ctx, e, r)
	}
}

// passwordTenant holds for a tenant whose users sign up with a password;
// needPassword is why a case skips on another.
func passwordTenant(x profile.Expectations) bool { return x.SignUpMethod != nativeauth.SignUpMethodOTP }

const needPassword = "the tenant is expected to sign up with email one-time passcode; this case needs a password tenant"

// attributesTenant holds for a tenant with a required attribute.
func attributesTenant(x profile.Expectations) bool { return len(x.RequiredAttributes()) > 0 }

const noRequiredAttribute = "the tenant is expected to have no required attribute"

// onlyAt fails a driver on an endpoint it cannot provoke anything at (a
// catalog entry that pairs them is a catalog bug).
func onlyAt(r *scenarios.Reached, trigger catalog.TriggerName, eps ...nativeauth.Endpoint) {
	GinkgoHelper()
	if !slices.Contains(eps, r.Call.Endpoint) {
		ok(fmt.Errorf("%s on %s", trigger, r.Call.Endpoint))
	}
}
